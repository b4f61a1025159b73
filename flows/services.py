"""Answers about public services: what to bring, what it costs, where and
when to go — on one screen — and browsing the catalogue by topic.

A question typed anywhere the menu reads free text comes here
(:func:`answer_question`); so does the menu entry "Services and visit days"
(topics, then the services of a topic). Every answer offers "Not what I
need", which hands the citizen's words to the request flow, already filled
in, so asking first never costs them a request.
"""

from __future__ import annotations

from flows import actions as act
from flows.core import Context, Flow, Result, Step, go
from flows.messages import Choice
from flows.request import draft_from
from flows.service_catalogue import Service
from flows.visits import when as visit_time

TOPICS, LIST, ANSWER, WHICH = "topics", "list", "answer", "which"
ALTERNATIVES = 2  # other likely services offered under an answer


def answer_question(ctx: Context, found=None) -> Result:
    """Answer free text as a question: the best service, or the topics."""
    results = ctx.view.service_index().search(ctx.text, limit=1 + ALTERNATIVES, locality_id=ctx.view.citizen.locality_id)
    if not results:
        return FLOW.enter(ctx, TOPICS, lead=[ctx.say(ctx.t("services_not_found"))], asked=ctx.text, **_draft(ctx, found))
    result = FLOW.enter(ctx, ANSWER, service=results[0].service.id, others=[r.service.id for r in results[1:]],
                        asked=ctx.text, **_draft(ctx, found))
    return _noted(ctx, result, results[0].service)


def _noted(ctx: Context, result: Result, service: Service) -> Result:
    """Count the question for planners: a mobile-unit service asked about
    where no visit brings it is where a unit is needed."""
    locality = ctx.view.citizen.locality_id
    if locality:
        scheduled = bool(ctx.view.next_visits(locality, service.id, limit=1))
        result.actions.append(act.NoteQuestion(service.id, scheduled))
    return result


def ask_which(ctx: Context, found=None) -> Result:
    """Not sure whether it is a question or a request: ask, keeping the words."""
    return FLOW.enter(ctx, WHICH, asked=ctx.text, **_draft(ctx, found))


def _draft(ctx: Context, found) -> dict:
    return {"draft": draft_from(ctx, found)}


def _to_request(ctx: Context) -> Result:
    draft = ctx.state.data.get("draft") or {}
    if draft.get("text"):
        return go(ctx, "request", step="confirm", **draft)
    return go(ctx, "request")


# -- which: information or a request? -----------------------------------------

def prompt_which(ctx: Context) -> list:
    choices = [Choice("info", ctx.t("services_want_info")), Choice("request", ctx.t("services_want_request"))]
    return [ctx.say(ctx.t("services_info_or_request"), choices)]


def handle_which(ctx: Context) -> Result:
    if ctx.choice == "request":
        return _to_request(ctx)
    if ctx.choice == "info":
        asked = ctx.state.data.get("asked", "")
        results = ctx.view.service_index().search(asked, limit=1 + ALTERNATIVES, locality_id=ctx.view.citizen.locality_id)
        if not results:
            return FLOW.enter(ctx, TOPICS, lead=[ctx.say(ctx.t("services_not_found"))])
        return FLOW.enter(ctx, ANSWER, service=results[0].service.id, others=[r.service.id for r in results[1:]])
    return _free_text(ctx)


# -- topics and the services of one topic -------------------------------------

def _offered(ctx: Context) -> list[Service]:
    index, locality = ctx.view.service_index(), ctx.view.citizen.locality_id
    return [s for s in index.catalogue.services if index.serves(s, locality)]


def prompt_topics(ctx: Context) -> list:
    offered = {s.category_id for s in _offered(ctx)}
    topics = [c for c in ctx.view.categories() if c.id in offered]
    choices = [Choice(f"topic:{c.id}", c.name(ctx.language)) for c in topics]
    choices.append(Choice("menu", ctx.t("services_back_menu")))
    return [ctx.say(ctx.t("services_topics"), choices)]


def handle_topics(ctx: Context) -> Result:
    if ctx.choice and ctx.choice.startswith("topic:"):
        return FLOW.enter(ctx, LIST, topic=ctx.choice.removeprefix("topic:"))
    if ctx.choice == "menu":
        return go(ctx, "menu")
    return _free_text(ctx)


def prompt_list(ctx: Context) -> list:
    topic = ctx.state.data.get("topic", "")
    category = ctx.view.category(topic)
    services = [s for s in _offered(ctx) if s.category_id == topic]
    choices = [Choice(f"svc:{s.id}", s.text("names", ctx.language)) for s in services]
    choices.append(Choice("topics", ctx.t("services_topics_button")))
    return [ctx.say(ctx.t("services_in_topic", topic=category.name(ctx.language) if category else topic), choices)]


def handle_list(ctx: Context) -> Result:
    if ctx.choice and ctx.choice.startswith("svc:"):
        return FLOW.enter(ctx, ANSWER, service=ctx.choice.removeprefix("svc:"), others=[])
    if ctx.choice == "topics":
        return FLOW.enter(ctx, TOPICS)
    return _free_text(ctx)


# -- the answer ---------------------------------------------------------------

def prompt_answer(ctx: Context) -> list:
    catalogue = ctx.view.service_index().catalogue
    service = catalogue.get(ctx.state.data.get("service", ""))
    if service is None:  # the catalogue changed under the conversation
        return prompt_topics(ctx)
    choices = [Choice(f"svc:{sid}", ctx.t("services_other", name=other.text("names", ctx.language)))
               for sid in ctx.state.data.get("others", []) if (other := catalogue.get(sid))]
    if ctx.state.data.get("asked"):
        choices.append(Choice("not_it", ctx.t("services_not_it")))
    choices += [Choice("topics", ctx.t("services_topics_button")), Choice("menu", ctx.t("services_back_menu"))]
    return [ctx.say(screen(ctx, service), choices)]


def screen(ctx: Context, service: Service) -> str:
    """One service on one screen: what, who, what to bring, cost, time, where."""
    lang = ctx.language
    lines = [
        ctx.t("services_title", name=service.text("names", lang), description=service.text("descriptions", lang)),
        ctx.t("services_who", who=service.text("eligibility", lang)),
        ctx.t("services_documents", items="\n".join(f"• {d.get(lang) or d.get('en', '')}" for d in service.documents)),
    ]
    if service.fee_amount:
        lines.append(ctx.t("services_fee", amount=f"{service.fee_amount:,.0f}".replace(",", " "), currency=service.currency))
    else:
        lines.append(ctx.t("services_fee_free"))
    if service.fee_exempt and service.fee_amount:
        lines.append(ctx.t("services_fee_exempt", who=service.text("fee_exempt", lang)))
    if service.days:
        lines.append(ctx.t("services_days", count=service.days))
    lines += _where(ctx, service)
    return "\n\n".join(lines)


def _where(ctx: Context, service: Service) -> list[str]:
    lang, locality = ctx.language, ctx.view.citizen.locality_id
    lines = []
    if service.mobile_unit:
        visits = ctx.view.next_visits(locality, service.id, limit=1) if locality else []
        if visits:
            visit, place = visits[0], ctx.view.locality(visits[0].locality_id)
            lines.append(ctx.t("services_mobile_visit", when=visit_time(ctx, visit), place=place.name(lang) if place else visit.locality_id))
        elif locality:
            lines.append(ctx.t("services_mobile_soon"))
    if centre := _nearest_centre(ctx, service):
        lines.append(ctx.t("services_centre", address=centre.address.get(lang) or centre.address.get("en", ""),
                           hours=centre.hours.get(lang) or centre.hours.get("en", "")))
    if portal := service.online:
        steps = "\n".join(f"{n}. {step}" for n, step in enumerate(portal.steps.get(lang) or portal.steps.get("en", []), 1))
        lines.append(ctx.t("services_online", portal=portal.names.get(lang) or portal.names.get("en", ""), url=portal.url, steps=steps))
    return lines


def _nearest_centre(ctx: Context, service: Service):
    """The centre in the citizen's district (or region), else the first listed."""
    places, locality = [], ctx.view.citizen.locality_id
    while locality and locality not in places:
        places.append(locality)
        info = ctx.view.locality(locality)
        locality = info.parent_id if info else None
    for place in places:
        for centre in service.centres:
            if centre.locality_id == place:
                return centre
    return service.centres[0] if service.centres else None


def handle_answer(ctx: Context) -> Result:
    if ctx.choice and ctx.choice.startswith("svc:"):
        shown = ctx.state.data.get("service")
        others = [sid for sid in ctx.state.data.get("others", []) if sid != ctx.choice[4:]] + ([shown] if shown else [])
        return FLOW.enter(ctx, ANSWER, service=ctx.choice.removeprefix("svc:"), others=others)
    if ctx.choice == "not_it":
        return _to_request(ctx)
    if ctx.choice == "topics":
        return FLOW.enter(ctx, TOPICS)
    if ctx.choice == "menu":
        return go(ctx, "menu")
    return _free_text(ctx)


def _free_text(ctx: Context) -> Result:
    from flows import menu  # the menu reads free text; it also leads here

    return menu.free_text(ctx, FLOW)


FLOW = Flow(
    name="services",
    first=TOPICS,
    steps={
        TOPICS: Step(prompt_topics, handle_topics),
        LIST: Step(prompt_list, handle_list),
        ANSWER: Step(prompt_answer, handle_answer),
        WHICH: Step(prompt_which, handle_which),
    },
)
