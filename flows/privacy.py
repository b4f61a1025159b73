"""A citizen's own data: seeing it (``/mydata``) and having it erased (``/forget``).

Both work from any step, in every language ("mis datos", "мои данные",
"ma'lumotlarimni o'chiring"…), even from someone who has never written
before (checked early, see :mod:`flows.router`). ``/mydata`` answers with a
summary — name, language, place, channels (numbers masked), consent, the
announcements opt-out, requests with their codes and status, how many
messages — and offers the whole of it as a file (the engine sends it; see
:mod:`bot.privacy`). ``/forget`` asks before doing anything, and says plainly
what goes and what stays. Afterwards the conversation returns to where it
was; after erasure it starts afresh, as with someone new.
"""

from __future__ import annotations

import re
from dataclasses import replace

from flows import actions as act
from flows.core import Context, Flow, Result, State, Step
from flows.i18n import LANGUAGES
from flows.masking import mask
from flows.messages import Choice
from flows.textnorm import fold

SUMMARY, FORGET = "summary", "forget"

MYDATA_WORDS = {
    "en": ["/mydata", "my data", "my personal data", "show my data", "what do you know about me"],
    "es": ["mis datos", "mis datos personales", "ver mis datos", "que saben de mi"],
    "ru": ["мои данные", "мои персональные данные", "показать мои данные", "что вы обо мне знаете"],
    "uz": ["mening ma'lumotlarim", "ma'lumotlarim", "shaxsiy ma'lumotlarim", "mening ma'lumotlarimni ko'rsat"],
    "uz-Cyrl": ["менинг маълумотларим", "маълумотларим", "шахсий маълумотларим", "менинг маълумотларимни кўрсат"],
}
FORGET_WORDS = {
    "en": ["/forget", "forget me", "delete my data", "erase my data", "delete my personal data"],
    "es": ["borrar mis datos", "borra mis datos", "borren mis datos", "eliminar mis datos", "olvidame", "olvídenme", "olvidenme"],
    "ru": ["удалить мои данные", "удалите мои данные", "забудьте меня", "забудь меня", "стереть мои данные"],
    "uz": ["ma'lumotlarimni o'chiring", "ma'lumotlarimni o'chirish", "ma'lumotlarimni o'chir", "meni unuting"],
    "uz-Cyrl": ["маълумотларимни ўчиринг", "маълумотларимни ўчириш", "маълумотларимни ўчир", "мени унутинг"],
}


def _index(table: dict[str, list[str]]) -> dict[str, str]:
    """Folded words -> the language they are in. Uzbek folds alike in both
    scripts: the Latin entry stands for both (see :func:`_spoken`)."""
    index: dict[str, str] = {}
    for language, words in table.items():
        for word in words:
            index.setdefault(fold(word), language)
    return index


_MYDATA, _FORGET = _index(MYDATA_WORDS), _index(FORGET_WORDS)
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def answer(ctx: Context) -> Result | None:
    """``/mydata`` or ``/forget`` (in words), or None for any other message."""
    if ctx.msg.button is not None or not ctx.msg.text.strip():
        return None
    words = fold(ctx.msg.text)
    step = SUMMARY if words in _MYDATA else FORGET if words in _FORGET else None
    if step is None:
        return None
    if not ctx.view.citizen.language:
        ctx = ctx.with_language(_spoken(ctx.msg.text, {**_MYDATA, **_FORGET}[words]))
    return FLOW.enter(ctx, step, resume=_resume(ctx.state))


def keep_no_words(ctx: Context, result: Result) -> Result:
    """A citizen who refused consent: what they write is answered, not kept
    (unless they agree now, to file a request)."""
    agreed = any(isinstance(a, act.SetConsent) for a in result.actions)
    if ctx.view.citizen.consent is False and not agreed:
        result.actions.append(act.KeepNoWords())
    return result


def _spoken(typed: str, language: str) -> str:
    """Uzbek folds alike in both scripts: the letters say which one."""
    if language == "uz" and _CYRILLIC.search(typed):
        return "uz-Cyrl"
    return language


def _resume(state: State) -> list:
    """Where to go back to afterwards (the same place when asked twice)."""
    if state.flow == FLOW.name:
        return state.data.get("resume") or ["", "", {}]
    return [state.flow, state.step, {k: v for k, v in state.data.items() if k != "choices"}]


def _back(ctx: Context, *lead, actions: list[act.Action] = ()) -> Result:
    """Return to the step the citizen left (its prompt follows ``lead``);
    someone with nowhere to return to goes to the menu, or is onboarded."""
    from flows import registry  # the registry lists this flow: import at use

    flow, step, data = ctx.state.data.get("resume") or ["", "", {}]
    if flow not in registry.FLOWS or step not in registry.get(flow).steps:
        flow, step, data = ("menu", None, {}) if registry.onboarded(ctx) else ("onboarding", None, {})
    return Result(list(lead), ctx.state, list(actions), then=(flow, step, data))


# -- /mydata ----------------------------------------------------------------------

def prompt_summary(ctx: Context) -> list:
    choices = [Choice("file", ctx.t("mydata_send_file")), Choice("forget", ctx.t("mydata_forget")), Choice("back", ctx.t("back"))]
    return [ctx.say(summary(ctx), choices)]


def summary(ctx: Context) -> str:
    data = ctx.view.my_data()
    none = ctx.t("mydata_none")
    place = ctx.view.locality(data.locality_id) if data.locality_id else None
    lines = [
        ctx.t("mydata_title"),
        ctx.t("mydata_name", name=data.name or none),
        ctx.t("mydata_language", language_name=LANGUAGES.get(data.language or "", none)),
        ctx.t("mydata_place", place=_place_name(ctx, place) if place else none),
        ctx.t("mydata_channels", channels=", ".join(mask_address(a) for a in data.addresses) or none),
    ]
    if data.consent is None:
        lines.append(ctx.t("mydata_consent_not_asked"))
    else:
        key = "mydata_consent_given" if data.consent else "mydata_consent_refused"
        lines.append(ctx.t(key, date=_date(data.consent_at)))
    if data.announcements_stopped_at:
        lines.append(ctx.t("mydata_announcements_stopped", date=_date(data.announcements_stopped_at)))
    else:
        lines.append(ctx.t("mydata_announcements_on"))
    lines.append(ctx.t("mydata_requests", count=len(data.requests)))
    for r in data.requests:
        category = ctx.view.category(r.category_id)
        lines.append(f"• {r.code} — {category.name(ctx.language) if category else r.category_id} — {ctx.t(f'status_{r.status}')}")
    lines.append(ctx.t("mydata_messages", incoming=data.messages_in, outgoing=data.messages_out))
    return "\n".join(lines)


def handle_summary(ctx: Context) -> Result:
    if ctx.choice == "file":
        key = "mydata_file_document" if ctx.msg.channel == "telegram" else "mydata_file_link"
        file = replace(ctx.say(ctx.t(key)), document=act.SendMyData.PLACEHOLDER)
        return _back(ctx, file, actions=[act.SendMyData()])
    if ctx.choice == "forget":
        return FLOW.enter(ctx, FORGET)
    if ctx.choice == "back":
        return _back(ctx)
    return FLOW.reprompt(ctx, ctx.say(ctx.t("please_choose")))


def mask_address(address: str) -> str:
    """``whatsapp:+5492215550134`` -> ``WhatsApp +54922****134``: enough for
    the citizen to recognise, not enough for whoever reads over their shoulder
    (masked as everywhere else, see :func:`flows.masking.mask`)."""
    channel, _, contact = mask(address).rpartition(":")
    return f"{_CHANNEL_NAMES.get(channel, channel)} {contact}"


_CHANNEL_NAMES = {"whatsapp": "WhatsApp", "telegram": "Telegram", "console": "console"}


def _place_name(ctx: Context, place) -> str:
    names = [place.name(ctx.language)]
    parent = ctx.view.locality(place.parent_id) if place.parent_id else None
    if parent is not None:
        names.append(parent.name(ctx.language))
    return ", ".join(names)


def _date(when) -> str:
    return when.strftime("%d.%m.%Y") if when else "—"


# -- /forget ----------------------------------------------------------------------

def prompt_forget(ctx: Context) -> list:
    choices = [Choice("yes", ctx.t("forget_yes")), Choice("no", ctx.t("forget_no"))]
    return [ctx.say(ctx.t("forget_question"), choices)]


def handle_forget(ctx: Context) -> Result:
    if ctx.choice == "yes":
        # Nothing to return to: the next message starts afresh, as from someone new.
        return Result([ctx.say(ctx.t("forget_done"))], State(version=ctx.state.version), [act.ForgetMe()])
    if ctx.choice == "no":
        return _back(ctx, ctx.say(ctx.t("forget_kept")))
    return FLOW.reprompt(ctx, ctx.say(ctx.t("please_choose")))


FLOW = Flow(
    name="privacy",
    first=SUMMARY,
    steps={
        SUMMARY: Step(prompt_summary, handle_summary),
        FORGET: Step(prompt_forget, handle_forget),
    },
)
