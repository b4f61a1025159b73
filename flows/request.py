"""Submitting a request: the citizen's own words (and any photo, voice
note, document or place), the category the bot understood — shown to
confirm or change — and a tracking code with what happens next."""

from __future__ import annotations

from dataclasses import asdict

from flows import actions as act
from flows.classifier import CONFIDENT, Classification
from flows.core import Context, Flow, Result, Step, go
from flows.i18n import language_from_words
from flows.messages import Attachment, Choice

DESCRIBE, CONFIRM, CHOOSE, CONSENT, SAME = "describe", "confirm", "choose", "consent", "same"
MAX_TEXT = 4000  # what a request keeps of one message; the message itself is stored whole


def draft_from(ctx: Context, found: Classification | None = None) -> dict:
    """The request data gathered from one message."""
    data: dict = {}
    if ctx.text:
        data["text"] = ctx.text[:MAX_TEXT]
    if ctx.msg.attachments:
        data["attachments"] = [asdict(a) for a in ctx.msg.attachments]
    if loc := ctx.msg.location:
        data["location"] = [loc.latitude, loc.longitude]
    if found is not None:
        data.update(guess(found))
    return data


def guess(found: Classification) -> dict:
    """What the draft keeps of the classifier's answer: its best guess, how
    sure it is, and the runners-up to offer when it is not sure."""
    return {"category": found.category, "score": found.score, "top3": [c for c, _ in found.top3]}


def _add(ctx: Context) -> dict:
    """Merge what this message brings into the draft so far."""
    data = ctx.state.data
    text = "\n".join(filter(None, [data.get("text"), ctx.text]))[:MAX_TEXT]
    attachments = data.get("attachments", []) + [asdict(a) for a in ctx.msg.attachments]
    merged = {"text": text, "attachments": attachments}
    if loc := ctx.msg.location:
        merged["location"] = [loc.latitude, loc.longitude]
    if ctx.text:
        merged.update(guess(ctx.view.classify(text)))
    return merged


# -- describe -------------------------------------------------------------

def prompt_describe(ctx: Context) -> list:
    return [ctx.say(ctx.t("describe_request"))]


def handle_describe(ctx: Context) -> Result:
    data = _add(ctx)
    if data["text"]:
        return FLOW.enter(ctx, CONFIRM, **data)
    if any(a["kind"] in ("voice", "audio") for a in data["attachments"]):
        # A voice note may be all a citizen can send: take it, a person will listen.
        return FLOW.enter(ctx, CHOOSE, lead=[ctx.say(ctx.t("got_voice_choose_topic"))], **data)
    # A photo, a document or a place with no words yet: keep it, ask for words.
    return Result([ctx.say(ctx.t("got_attachment_add_words"))], ctx.state.with_data(**data))


# -- confirm --------------------------------------------------------------

def prompt_confirm(ctx: Context) -> list:
    if not sure(ctx.state.data):
        return _prompt_likely(ctx)
    category = ctx.view.category(ctx.state.data.get("category") or "other")
    name = category.name(ctx.language) if category else ""
    about = category.description(ctx.language) if category else ""
    choices = [
        Choice("yes", ctx.t("confirm_send")),
        Choice("change", ctx.t("confirm_change")),
        Choice("cancel", ctx.t("confirm_cancel")),
    ]
    return [ctx.say(ctx.t("confirm_category", category=name, about=about), choices)]


def sure(data: dict) -> bool:
    """Sure enough to say "I understood this as X" rather than ask."""
    return data.get("score") is None or data["score"] >= CONFIDENT or not data.get("top3")


def _prompt_likely(ctx: Context) -> list:
    """Not sure: the likeliest topics to pick from, and the full list."""
    likely = [c for c in (ctx.view.category(cid) for cid in ctx.state.data["top3"]) if c is not None]
    choices = [Choice(f"cat:{c.id}", c.name(ctx.language)) for c in likely]
    choices += [Choice("change", ctx.t("confirm_change")), Choice("cancel", ctx.t("confirm_cancel"))]
    return [ctx.say(ctx.t("choose_likely_category"), choices)]


def handle_confirm(ctx: Context) -> Result:
    if ctx.choice and ctx.choice.startswith("cat:"):
        return submit(ctx, ctx.choice.removeprefix("cat:"))
    if ctx.choice == "yes":
        return submit(ctx, ctx.state.data.get("category") or "other")
    if ctx.choice == "change":
        return FLOW.enter(ctx, CHOOSE)
    if ctx.choice == "cancel":
        return go(ctx, "menu", ctx.say(ctx.t("cancelled")))
    if not _adds_to_request(ctx):
        return FLOW.reprompt(ctx, ctx.say(ctx.t("confirm_unrelated")))
    data = _add(ctx)
    lead = ctx.say(ctx.t("added_to_request"))
    return FLOW.reprompt(ctx.with_state(ctx.state.with_data(**data)), lead)


def _adds_to_request(ctx: Context) -> bool:
    """Whether what was typed at "Is that right?" says more about the problem.
    A photo or a place always does; a number, a language name or a string
    of nonsense does not (the classifier reads it as not a request)."""
    if ctx.msg.attachments or ctx.msg.location:
        return True
    if not any(ch.isalpha() for ch in ctx.text) or language_from_words(ctx.text):
        return False
    return ctx.view.classify(ctx.text).intent != "other"


# -- choose ---------------------------------------------------------------

def prompt_choose(ctx: Context) -> list:
    choices = [Choice(f"cat:{c.id}", c.name(ctx.language)) for c in ctx.view.categories()]
    return [ctx.say(ctx.t("choose_category"), choices)]


def handle_choose(ctx: Context) -> Result:
    if ctx.choice and ctx.choice.startswith("cat:"):
        return submit(ctx, ctx.choice.removeprefix("cat:"))
    if ctx.text and not ctx.state.data.get("text"):
        return FLOW.enter(ctx, CONFIRM, **_add(ctx))
    return FLOW.reprompt(ctx, ctx.say(ctx.t("please_choose")))


# -- consent and submission -----------------------------------------------

def prompt_consent(ctx: Context) -> list:
    return [ctx.say(ctx.t("consent_needed_for_request"), ctx.consent_choices())]


def handle_consent(ctx: Context) -> Result:
    if ctx.choice == "yes":
        result = submit(ctx, ctx.state.data["chosen"], consent_given=True)
        result.actions.insert(0, act.SetConsent(True))
        return result
    if ctx.choice == "no":  # what they wrote for it is not kept either
        return go(ctx, "menu", ctx.say(ctx.t("request_not_kept")), actions=[act.SetConsent(False), act.EraseAfterRefusal()])
    return FLOW.reprompt(ctx, ctx.say(ctx.t("please_choose")))


def submit(ctx: Context, category_id: str, *, consent_given: bool = False, kind: str = "request") -> Result:
    """File the draft as a request, or first ask for consent if not given."""
    data = {k: v for k, v in ctx.state.data.items() if k != "choices"}
    if not (consent_given or ctx.view.citizen.consent):
        return FLOW.enter(ctx, CONSENT, **{**data, "chosen": category_id, "kind": data.get("kind", kind)})
    kind = data.get("kind", kind)
    if kind == "request" and data.get("text") and not data.get("new_anyway"):
        if same := ctx.view.similar_open_request(data["text"], category_id):
            return FLOW.enter(ctx, SAME, **{**data, "chosen": category_id, "same": same.code})
    code = ctx.view.new_code()
    location = data.get("location") or [None, None]
    attachments = tuple(Attachment(**a) for a in data.get("attachments", []))
    action = act.SubmitRequest(
        code=code,
        category_id=category_id,
        text=data.get("text", ""),
        kind=kind,
        suggested_category_id=data.get("category"),
        suggested_score=data.get("score"),
        attachments=attachments,
        latitude=location[0],
        longitude=location[1],
    )
    actions: list[act.Action] = [action]
    if any(a.kind in ("voice", "audio") for a in attachments):
        actions.append(act.FlagForPerson("voice note"))
    category = ctx.view.category(category_id)
    key = "contact_registered" if kind == "contact" else "request_registered"
    ack = ctx.say(ctx.t(key, code=code, category=category.name(ctx.language) if category else category_id))
    return go(ctx, "menu", ack, actions=actions)


# -- "you already asked this" ----------------------------------------------

def prompt_same(ctx: Context) -> list:
    code = ctx.state.data.get("same", "")
    choices = [Choice("add", ctx.t("same_add", code=code)), Choice("new", ctx.t("same_new"))]
    return [ctx.say(ctx.t("same_asked", code=code), choices)]


def handle_same(ctx: Context) -> Result:
    data = ctx.state.data
    if ctx.choice == "add":
        attachments = tuple(Attachment(**a) for a in data.get("attachments", []))
        added = act.AnswerRequest(data["same"], data.get("text", ""), attachments)
        return go(ctx, "menu", ctx.say(ctx.t("same_added", code=data["same"])), actions=[added])
    if ctx.choice == "new":
        return submit(ctx.with_state(ctx.state.with_data(new_anyway=True)), data.get("chosen") or "other")
    return FLOW.reprompt(ctx, ctx.say(ctx.t("please_choose")))


FLOW = Flow(
    name="request",
    first=DESCRIBE,
    steps={
        DESCRIBE: Step(prompt_describe, handle_describe),
        CONFIRM: Step(prompt_confirm, handle_confirm),
        CHOOSE: Step(prompt_choose, handle_choose),
        CONSENT: Step(prompt_consent, handle_consent),
        SAME: Step(prompt_same, handle_same),
    },
)
