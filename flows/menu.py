"""The main menu, and reading free text typed at it.

People rarely press menus: a message that names a tracking code gets that
request's status, and one that reads like a request starts a request with
those words already taken down.
"""

from __future__ import annotations

from flows import intent, services, status, visits
from flows.core import Context, Flow, Result, Step, go
from flows.messages import Choice
from flows.request import draft_from
from flows.textnorm import fold
from flows.tracking import find_code

MAIN = "main"
GREETINGS = {fold(w) for w in (
    "salom", "assalomu alaykum", "assalom", "салом", "ассалому алайкум", "привет", "здравствуйте", "добрый день",
    "hola", "buenas", "buen dia", "buenos dias", "buenas tardes", "hello", "hi", "hey", "good morning",
)}
REQUEST_MIN_WORDS = 4
REQUEST_MIN_SCORE = 70.0

# choice key -> (text key of its label, flow it leads to)
ITEMS = {
    "new": ("menu_new_request", "request"),
    "mine": ("menu_my_requests", "my_requests"),
    "status": ("menu_status", "status"),
    "person": ("menu_person", "person"),
    "help": ("menu_help", "help"),
    "settings": ("menu_settings", "settings"),
    "services": ("menu_services", "services"),
    "visits": ("menu_visits", "visits"),
}


def choices(ctx: Context) -> list[Choice]:
    return [Choice(key, ctx.t(label)) for key, (label, _) in ITEMS.items()]


def prompt(ctx: Context) -> list:
    return [ctx.say(ctx.t("menu_question"), choices(ctx))]


def handle(ctx: Context) -> Result:
    if ctx.choice == "visits":
        return visits.show(ctx)
    if ctx.choice in ITEMS:
        return go(ctx, ITEMS[ctx.choice][1])
    return answer(ctx)


def answer(ctx: Context) -> Result:
    """Free text at the menu (or from a citizen with no current step)."""
    text = ctx.text
    if not text and not ctx.msg.attachments and not ctx.msg.location:
        return FLOW.enter(ctx)
    if code := find_code(text):
        return FLOW.enter(ctx, lead=[status.describe(ctx, code)])
    if fold(text).strip(" !.") in GREETINGS:
        return FLOW.enter(ctx, lead=[ctx.say(ctx.t("greeting"))])
    if text and visits.asks_about_visits(text):
        return visits.show(ctx)
    found = ctx.view.classify(text) if text else None
    if text and not ctx.msg.attachments and not ctx.msg.location:
        best = ctx.view.service_index().search(text, limit=1, locality_id=ctx.view.citizen.locality_id)
        kind = intent.question_or_request(text, found, best[0].score if best else 0.0)
        if kind == intent.QUESTION:
            return services.answer_question(ctx, found)
        if kind == intent.UNSURE:
            return services.ask_which(ctx, found)
    if found and found.intent == "other" and not ctx.msg.attachments and not ctx.msg.location:
        return FLOW.enter(ctx, lead=[ctx.say(ctx.t("small_talk"))])  # thanks, "ok", chit-chat: no request to file
    if ctx.msg.attachments or ctx.msg.location or (found and (
        len(text.split()) >= REQUEST_MIN_WORDS or found.score >= REQUEST_MIN_SCORE
    )):
        if not text and any(a.kind in ("voice", "audio") for a in ctx.msg.attachments):
            # A voice note may be all a citizen can send (common on WhatsApp): a person will listen.
            return go(ctx, "request", ctx.say(ctx.t("got_voice_choose_topic")), step="choose", **draft_from(ctx, found))
        return go(ctx, "request", step="confirm" if text else "describe", **draft_from(ctx, found))
    return FLOW.enter(ctx, lead=[ctx.say(ctx.t("not_understood"))])


def free_text(ctx: Context, flow: Flow) -> Result:
    """Words typed instead of a choice in ``flow``: read as at the menu (a
    new question, a request, a tracking code), so nothing the citizen
    writes is lost; with nothing to read, ``flow`` asks again."""
    if ctx.text or ctx.msg.attachments or ctx.msg.location:
        return answer(ctx)
    return flow.reprompt(ctx, ctx.say(ctx.t("services_choose")))


FLOW = Flow(name="menu", first=MAIN, steps={MAIN: Step(prompt, handle)})
