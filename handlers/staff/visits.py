"""``/visit``: plan the mobile unit's visits and work their queue, and
``/demand``: where a unit is most needed.

Supervisors and admins plan (add, move, cancel); every member of staff can
list visits, see a visit's queue and mark who came."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel import select

from bot import visit_planning as planning
from bot.demand import demand_rows
from handlers.staff.context import Desk, Refusal
from notifications.visits import line
from storage import visits
from storage.models import Booking, Visit, utcnow

_DAY = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")
PLANNING = {"add", "move", "cancel"}
LISTED = 30


def visit(desk: Desk) -> None:
    action, _, rest = desk.args.partition(" ")
    action, rest = action.lower(), rest.strip()
    run = {"add": _add, "list": _list, "move": _move, "cancel": _cancel, "show": _show, "came": _came}.get(action)
    if run is None:
        raise Refusal(desk.t("staff_visit_usage"))
    if action in PLANNING and not desk.at_least("supervisor"):
        raise Refusal(desk.t("staff_role_refused", command=f"visit {action}", role="supervisor"))
    try:
        run(desk, rest.split())
    except planning.PlanError as error:
        key = error.key if error.key != "staff_visit_bad_limit" else "staff_visit_usage"
        example = (utcnow() + timedelta(days=7)).date().isoformat()  # a day the window could be: a week ahead
        raise Refusal(desk.t(key, place=error.value, when=error.value, service=error.value, example=example)) from None


def _add(desk: Desk, words: list[str]) -> None:
    """/visit add PLACE DATE HH:MM-HH:MM SERVICES [limit N]"""
    caps = ""
    if len(words) >= 2 and words[-2].lower() == "limit":
        caps, words = words[-1], words[:-2]
    if len(words) < 4:
        raise Refusal(desk.t("staff_visit_usage"))
    # The place may be several words ("Yangi hayot"): everything before the date.
    at = next((i for i, w in enumerate(words) if _DAY.match(w)), None)
    if at is None or at == 0 or len(words) < at + 3:
        raise Refusal(desk.t("staff_visit_usage"))
    place_words, day, hours, service_words = words[:at], words[at], words[at + 1], " ".join(words[at + 2:])
    place = planning.find_place(desk.catalog, " ".join(place_words))
    if place is None:
        raise planning.PlanError("staff_visit_bad_place", " ".join(place_words))
    start, _, end = hours.partition("-")
    starts, ends = planning.window(place, day, start, end)
    service_ids = planning.services(desk.catalog, service_words)
    planned, outcome, told = planning.add(desk.session, desk.catalog, place, starts, ends, service_ids,
                                          planning.limits(caps, service_ids), desk.actor)
    if outcome == "unchanged":
        raise Refusal(desk.t("staff_visit_taken", id=planned.id))
    desk.say(desk.t("staff_visit_added", id=planned.id, line=line(desk.catalog, planned, desk.language), count=told))


def _list(desk: Desk, words: list[str]) -> None:
    places = None
    if words:
        place = planning.find_place(desk.catalog, " ".join(words))
        if place is None:
            raise planning.PlanError("staff_visit_bad_place", " ".join(words))
        places = desk.catalog.within(place.id)
    upcoming = visits.upcoming(desk.session, places, utcnow(), limit=LISTED)
    if not upcoming:
        desk.say(desk.t("staff_visit_list_empty"))
        return
    desk.say("\n".join(
        desk.t("staff_visit_list_line", id=v.id, line=line(desk.catalog, v, desk.language), booked=visits.booked(desk.session, v.id))
        for v in upcoming
    ))


def _planned(desk: Desk, word: str) -> Visit:
    number = word.lstrip("#")
    found = desk.session.get(Visit, int(number)) if number.isdigit() else None
    if found is None or found.status != "planned":
        raise Refusal(desk.t("staff_visit_not_found", id=number))
    return found


def _move(desk: Desk, words: list[str]) -> None:
    """/visit move ID DATE HH:MM-HH:MM"""
    if len(words) != 3:
        raise Refusal(desk.t("staff_visit_usage"))
    planned = _planned(desk, words[0])
    place = desk.catalog.localities[planned.locality_id]
    start, _, end = words[2].partition("-")
    starts, ends = planning.window(place, words[1], start, end)
    told = planning.move(desk.session, desk.catalog, planned, starts, ends)
    desk.say(desk.t("staff_visit_moved", id=planned.id, line=line(desk.catalog, planned, desk.language), count=told))


def _cancel(desk: Desk, words: list[str]) -> None:
    """/visit cancel ID [reason]"""
    if not words:
        raise Refusal(desk.t("staff_visit_usage"))
    planned = _planned(desk, words[0])
    told = planning.cancel(desk.session, desk.catalog, planned, " ".join(words[1:]))
    desk.say(desk.t("staff_visit_cancelled", id=planned.id, count=told))


def _show(desk: Desk, words: list[str]) -> None:
    """/visit show ID: the queue, in order, with who came."""
    if len(words) != 1:
        raise Refusal(desk.t("staff_visit_usage"))
    planned = _planned(desk, words[0])
    catalogue = desk.catalog.services()
    queue = visits.roster(desk.session, planned.id)
    lines = [desk.t("staff_visit_roster_title", id=planned.id, line=line(desk.catalog, planned, desk.language), count=len(queue))]
    for booking, citizen in queue:
        service = catalogue.get(booking.service_id)
        name = (citizen.display_name if citizen else None) or "—"
        mark = "✅" if booking.status == "came" else "▫️"
        lines.append(f"{mark} №{booking.number} · {name} · {service.text('names', desk.language) if service else booking.service_id}")
    desk.say("\n".join(lines))


def _came(desk: Desk, words: list[str]) -> None:
    """/visit came ID NUMBER"""
    if len(words) != 2 or not words[1].lstrip("№#").isdigit():
        raise Refusal(desk.t("staff_visit_usage"))
    planned = _planned(desk, words[0])
    number = int(words[1].lstrip("№#"))
    booking = desk.session.exec(select(Booking).where(Booking.visit_id == planned.id, Booking.number == number,
                                                      Booking.status.in_(visits.ACTIVE))).first()
    if booking is None:
        raise Refusal(desk.t("staff_visit_no_number", id=planned.id, number=number))
    booking.status, booking.updated_at = "came", utcnow()
    desk.session.add(booking)
    desk.say(desk.t("staff_visit_came", number=number))


# -- demand -------------------------------------------------------------------

def demand(desk: Desk) -> None:
    """/demand [region|district]: where the unit is most needed."""
    area = None
    if desk.args.strip():
        place = planning.find_place(desk.catalog, desk.args)
        if place is None:
            raise Refusal(desk.t("staff_visit_bad_place", place=desk.args.strip()))
        area = place.id
    rows = demand_rows(desk.session, desk.catalog, area)
    if not rows:
        desk.say(desk.t("staff_demand_empty"))
        return
    lines = [desk.t("staff_demand_title")]
    for row in rows[:LISTED]:
        lines.append(f"{row.place_name(desk.catalog, desk.language)} · {row.service_name(desk.catalog, desk.language)} · "
                     f"{row.bookings} · {row.open_requests} · {row.questions} · {row.subscribers}")
    desk.say("\n".join(lines))
