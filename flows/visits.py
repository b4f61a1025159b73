"""When the mobile office comes: the next visits to the citizen's locality
(or the nearest ones when none is planned there), with the services each
brings; a place in the queue at one of them; and news of every visit.

"When does the mobile office come?" typed anywhere the menu reads free text
comes here (:func:`asks_about_visits`), in any of the five languages.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from flows import actions as act
from flows.core import Context, Flow, Result, Step, go
from flows.i18n import text
from flows.intent import question_shaped, says_something_is_wrong
from flows.messages import Choice
from flows.textnorm import match_key, words
from flows.view import LocalityInfo, VisitInfo

LIST, SERVICE = "list", "service"
SHOWN = 3

# Words that name the mobile unit or its visit (folded: Cyrillic is read in Latin letters).
_UNIT_STEMS = ("kochma", "kuchma", "sayyor", "viyezdn", "vyezdn", "brigad", "operativ", "tashrif")
# "mobile" is also a phone: it counts with an office, a unit, a visit or a coming.
_MOBILE_STEMS = ("mobil", "movil", "visit")
# "comes", "will come" with who comes ("the services", "the specialists"):
# "when will the gas come back?" is not about a visit.
_COME_WORDS = {match_key(w) for w in words(
    "come comes coming keladi keladimi kelishadi kelamiz келади келадими келишади "
    "приедет приедут приезжает приезжают придет придут viene vienen llega llegan vendra vendran"
)}
_WHO_STEMS = ("hizmat", "xizmat", "ofis", "office", "oficina", "spetsialist", "specialist", "mutahassis", "hodim", "xodim",
              "notarius", "notari", "sotrudnik", "personal", "funcionari")


def asks_about_visits(text: str) -> bool:
    """"When does the mobile office come?", "выездная бригада", "bozor kuni
    xizmatlar keladimi", "¿cuándo viene el operativo?"."""
    keys = [match_key(w) for w in words(text)]
    comes = bool(set(keys) & _COME_WORDS)
    who = any(key.startswith(_WHO_STEMS + ("unit", "unidad", "punkt")) for key in keys)
    if any(key.startswith(_UNIT_STEMS) for key in keys) or (any(key.startswith(_MOBILE_STEMS) for key in keys) and (comes or who)):
        return not says_something_is_wrong(text) or question_shaped(text)
    return comes and who and question_shaped(text) and not says_something_is_wrong(text)


def show(ctx: Context) -> Result:
    """The visits screen, noting the question for planners when none is planned here."""
    result = FLOW.enter(ctx, LIST)
    locality = ctx.view.citizen.locality_id
    if locality:
        result.actions.append(act.NoteQuestion(None, bool(ctx.view.next_visits(locality, limit=1))))
    return result


# -- when and where -----------------------------------------------------------

def window(starts: datetime, ends: datetime, place: LocalityInfo | None, language: str | None) -> str:
    """"Tue 08.12, 09:00–13:00" in the place's own time zone (the flows and the notices say it alike)."""
    if place is not None:
        starts, ends = starts.astimezone(place.zone), ends.astimezone(place.zone)
    day = text(language, "weekdays").split(",")[starts.weekday()]
    return f"{day} {starts:%d.%m}, {starts:%H:%M}–{ends:%H:%M}"


def when(ctx: Context, visit: VisitInfo) -> str:
    return window(visit.starts_at, visit.ends_at, ctx.view.locality(visit.locality_id), ctx.language)


def describe(ctx: Context, visit: VisitInfo) -> str:
    place = ctx.view.locality(visit.locality_id)
    catalogue = ctx.view.service_index().catalogue
    names = [s.text("names", ctx.language) for sid in visit.service_ids if (s := catalogue.get(sid))]
    return ctx.t("visits_line", when=when(ctx, visit), place=place.name(ctx.language) if place else visit.locality_id,
                 services=", ".join(names) or "—")


def prompt_list(ctx: Context) -> list:
    locality = ctx.view.citizen.locality_id
    if not locality:
        return [ctx.say(ctx.t("visits_no_place"), [Choice("menu", ctx.t("services_back_menu"))])]
    place = ctx.view.locality(locality)
    here = ctx.view.next_visits(locality, limit=SHOWN)
    lines = []
    if here:
        lines.append(ctx.t("visits_next", place=place.name(ctx.language) if place else locality))
        shown = here
    else:
        shown = ctx.view.nearby_visits(locality, limit=SHOWN)
        lines.append(ctx.t("visits_none_here" if shown else "visits_none_near", place=place.name(ctx.language) if place else locality))
    lines += [describe(ctx, v) for v in shown]
    choices = [Choice(f"book:{v.id}", ctx.t("visits_book", when=when(ctx, v))) for v in shown]
    bookings = ctx.view.my_bookings()
    if bookings:
        catalogue = ctx.view.service_index().catalogue
        lines.append(ctx.t("visits_my_bookings"))
        for b in bookings:
            service = catalogue.get(b.service_id)
            name = service.text("names", ctx.language) if service else b.service_id
            lines.append(ctx.t("visits_my_booking", number=b.number, service=name, when=when(ctx, b.visit)))
            choices.append(Choice(f"cancel:{b.id}", ctx.t("visits_cancel_button", number=b.number)))
    if ctx.view.subscribed(locality):
        choices.append(Choice("unsubscribe", ctx.t("visits_unsubscribe")))
    else:
        choices.append(Choice("subscribe", ctx.t("visits_subscribe")))
    choices.append(Choice("menu", ctx.t("services_back_menu")))
    return [ctx.say("\n\n".join(lines), choices)]


def handle_list(ctx: Context) -> Result:
    choice, locality = ctx.choice or "", ctx.view.citizen.locality_id
    if choice.startswith("book:") and choice[5:].isdigit():
        visit = ctx.view.visit(int(choice[5:]))
        if visit is None:
            return FLOW.reprompt(ctx, ctx.say(ctx.t("visits_gone")))
        if len(visit.service_ids) == 1:
            return _book(ctx, visit, visit.service_ids[0])
        return FLOW.enter(ctx, SERVICE, visit=visit.id)
    if choice.startswith("cancel:") and choice[7:].isdigit():
        result = go(ctx, "menu", ctx.say(ctx.t("visits_cancelled")))
        result.actions.append(act.CancelBooking(int(choice[7:])))
        return result
    if choice in ("subscribe", "unsubscribe") and locality:
        on = choice == "subscribe"
        result = go(ctx, "menu", ctx.say(ctx.t("visits_subscribed" if on else "visits_unsubscribed")))
        result.actions.append(act.SubscribeVisits(locality, on))
        return result
    if choice == "menu":
        return go(ctx, "menu")
    return _free_text(ctx)


# -- a place in the queue -----------------------------------------------------

def prompt_service(ctx: Context) -> list:
    visit = ctx.view.visit(ctx.state.data.get("visit", 0))
    if visit is None:
        return prompt_list(ctx)
    catalogue = ctx.view.service_index().catalogue
    choices = []
    for sid in visit.service_ids:
        service = catalogue.get(sid)
        name = service.text("names", ctx.language) if service else sid
        left = ctx.view.places_left(visit.id, sid)
        choices.append(Choice(f"svc:{sid}", name if left is None else ctx.t("visits_places_left", name=name, count=left)))
    choices.append(Choice("back", ctx.t("visits_back")))
    return [ctx.say(ctx.t("visits_which_service", when=when(ctx, visit)), choices)]


def handle_service(ctx: Context) -> Result:
    visit = ctx.view.visit(ctx.state.data.get("visit", 0))
    if ctx.choice and ctx.choice.startswith("svc:") and visit is not None and ctx.choice[4:] in visit.service_ids:
        return _book(ctx, visit, ctx.choice[4:])
    if ctx.choice == "back" or visit is None:
        return FLOW.enter(ctx, LIST)
    return _free_text(ctx)


def _book(ctx: Context, visit: VisitInfo, service_id: str) -> Result:
    catalogue = ctx.view.service_index().catalogue
    service = catalogue.get(service_id)
    name = service.text("names", ctx.language) if service else service_id
    if ctx.view.places_left(visit.id, service_id) == 0:
        later = [v for v in ctx.view.next_visits(visit.locality_id, service_id, limit=SHOWN + 1) if v.id != visit.id]
        later = later or ctx.view.nearby_visits(visit.locality_id, service_id, limit=SHOWN)
        lead = ctx.say(ctx.t("visits_full", service=name))
        if not later:
            return FLOW.enter(ctx, LIST, lead=[lead])
        choices = [Choice(f"book:{v.id}", ctx.t("visits_book", when=when(ctx, v))) for v in later[:SHOWN]]
        choices.append(Choice("menu", ctx.t("services_back_menu")))
        body = "\n\n".join([ctx.t("visits_full", service=name), ctx.t("visits_try_these"), *(describe(ctx, v) for v in later[:SHOWN])])
        return replace(FLOW.enter(ctx, LIST), replies=[ctx.say(body, choices)])
    place = ctx.view.locality(visit.locality_id)
    documents = "\n".join(f"• {d.get(ctx.language) or d.get('en', '')}" for d in service.documents) if service else ""
    booked = ctx.say(ctx.t("visits_booked", number=act.BookVisit.NUMBER, service=name, when=when(ctx, visit),
                           place=place.name(ctx.language) if place else visit.locality_id, documents=documents or "—"))
    result = go(ctx, "menu", booked)
    result.actions.append(act.BookVisit(visit.id, service_id))
    return result


def _free_text(ctx: Context) -> Result:
    from flows import menu  # the menu reads free text; it also leads here

    return menu.free_text(ctx, FLOW)


FLOW = Flow(
    name="visits",
    first=LIST,
    steps={
        LIST: Step(prompt_list, handle_list),
        SERVICE: Step(prompt_service, handle_service),
    },
)
