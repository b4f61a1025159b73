"""One entry point for every incoming message: :func:`respond`.

It decides the citizen's language, answers STOP/START (:mod:`flows.optout`),
a shared own contact (:mod:`flows.linking`) and ``/mydata``/``/forget``
(:mod:`flows.privacy`) before anything else, reads a
pressed button or a typed choice,
honours the words that work from any step (menu, cancel, help, a
language's name or "change language": :mod:`flows.language`), catches what
no step can use (empty text, stickers, unknown commands, stale buttons) and
otherwise hands the message to the current step of the current flow.
"""

from __future__ import annotations

import re
from dataclasses import replace

from flows import linking, optout, privacy, registry
from flows.actions import SetLanguage
from flows.choices import match_choice
from flows.core import Context, Result, State
from flows.i18n import DEFAULT_LANGUAGE, guess_language
from flows.language import answer as language_request
from flows.messages import Incoming
from flows.textnorm import fold
from flows.view import View

# Whole messages that work from any step (folded; see flows.textnorm).
MENU_WORDS = {"menu", "menyu", "меню", "menyu", "menu'", "inicio", "main menu", "bosh menyu", "start", "/start", "/menu", "главное меню", "menú"}
CANCEL_WORDS = {"cancel", "/cancel", "bekor", "bekor qilish", "отмена", "отменить", "бекор", "бекор килиш", "cancelar", "anular", "salir"}
HELP_WORDS = {"help", "/help", "yordam", "помощь", "ёрдам", "ayuda"}
_MENU = {fold(w) for w in MENU_WORDS} - {""}
_CANCEL = {fold(w) for w in CANCEL_WORDS} - {""}
_HELP = {fold(w) for w in HELP_WORDS} - {""}
_COMMAND = re.compile(r"^/[A-Za-z_]+(@\w+)?$")
_BUTTON = re.compile(r"^(\d+)\|(.+)$")
MAX_HOPS = 4


def button_data(menu_id: int, key: str) -> str:
    """What a channel puts behind a button: the menu it belongs to and the key."""
    return f"{menu_id}|{key}"


def respond(state: State, msg: Incoming, view: View) -> Result:
    language = view.citizen.language or guess_language(msg.text, msg.language_hint) or DEFAULT_LANGUAGE
    ctx = Context(msg, state, view, language)
    result = privacy.keep_no_words(ctx, _route(ctx))
    for _ in range(MAX_HOPS):
        if result.then is None:
            break
        flow_name, step, data = result.then
        language = _language_after(result, ctx.language)
        hop_ctx = replace(ctx, state=result.state, language=language, choice=None)
        entered = registry.get(flow_name).enter(hop_ctx, step, lead=result.replies, **data)
        result = Result(entered.replies, entered.state, result.actions + entered.actions, entered.then)
    return _finish(state, result)


def _language_after(result: Result, current: str) -> str:
    """A step that just set the language wants the next prompt in it."""
    chosen = [a.language for a in result.actions if isinstance(a, SetLanguage)]
    return chosen[-1] if chosen else current


def _route(ctx: Context) -> Result:
    msg, state = ctx.msg, ctx.state
    for early in (optout.answer, linking.answer, privacy.answer):
        if (result := early(ctx)) is not None:
            return result
    if msg.button is None and (switched := language_request(ctx)) is not None:
        return switched
    if not state.flow or state.flow not in registry.FLOWS or state.step not in registry.get(state.flow).steps:
        return registry.start(ctx)

    flow = registry.get(state.flow)
    shown = [tuple(pair) for pair in state.data.get("choices", [])]

    if (data := msg.button) is not None:
        match = _BUTTON.match(data)
        if not match or int(match.group(1)) != state.version or match.group(2) not in {k for k, _ in shown}:
            return flow.reprompt(ctx, ctx.say(ctx.t("stale_button")))
        return flow.steps[state.step].handle(replace(ctx, choice=match.group(2)))

    words = fold(msg.text).strip()
    if msg.text.strip() == "?":
        return registry.get("help").enter(ctx)
    if words in _MENU and registry.onboarded(ctx):
        return registry.get("menu").enter(ctx)
    if words in _CANCEL:
        lead = [ctx.say(ctx.t("cancelled"))]
        return registry.get("menu").enter(ctx, lead=lead) if registry.onboarded(ctx) else registry.start(ctx)
    if words in _HELP:
        return registry.get("help").enter(ctx)
    if words in _MENU:
        return registry.start(ctx)

    if _unusable(msg):
        key = "unsupported_media" if (msg.event or {}).get("type") == "unsupported" else "empty_message"
        return flow.reprompt(ctx, ctx.say(ctx.t(key)))
    if _COMMAND.match(msg.text.strip()):
        return flow.reprompt(ctx, ctx.say(ctx.t("unknown_command", command=msg.text.strip().split("@")[0])))

    choice = match_choice(msg.text, shown) if shown and msg.text else None
    return flow.steps[state.step].handle(replace(ctx, choice=choice))


def _unusable(msg: Incoming) -> bool:
    """Nothing a step could use: no words (emoji alone count as none), no file, no place."""
    has_words = any(ch.isalnum() for ch in msg.text)
    return not has_words and not msg.attachments and msg.location is None


def _finish(before: State, result: Result) -> Result:
    """Give a new step (or a new menu) a new version, remember the choices
    shown, and tag the menus so their buttons can be checked when pressed."""
    state = result.state
    shown = next(([[c.key, c.label] for c in r.choices] for r in reversed(result.replies) if r.choices), None)
    moved = (state.flow, state.step) != (before.flow, before.step)
    changed_menu = shown is not None and shown != before.data.get("choices")
    version = before.version + 1 if moved or changed_menu else before.version
    replies = [replace(r, menu_id=str(version)) if r.choices else r for r in result.replies]
    data = dict(state.data)
    if shown is not None:
        data["choices"] = shown
    elif moved:
        data.pop("choices", None)
    return Result(replies, State(state.flow, state.step, data, version), result.actions)
