"""The queue as a whole: /inbox with filters, /find, /stats."""

from __future__ import annotations

import statistics
from datetime import timedelta

from rapidfuzz import fuzz, process
from sqlmodel import select

from flows import lifecycle, search
from flows.messages import Choice
from handlers.staff.cards import button, department_name, line
from handlers.staff.context import Desk, Refusal, visible_to
from storage.models import Request, utcnow

LISTED = 15
SEARCHED = 2000  # the newest requests /find looks through
WITH_BUTTONS = 8


def inbox(desk: Desk) -> None:
    """``/inbox [status] [category] [place] [dept:ID] [mine|unassigned|overdue]``"""
    statement = select(Request)
    statuses = set()
    flags = set()
    for word in desk.args.split():
        lowered = word.lower()
        if lowered in ("mine", "unassigned", "overdue", "all"):
            flags.add(lowered)
        elif status := lifecycle.parse_status(lowered):
            statuses.add(status)
        elif lowered.startswith(("dept:", "department:")):
            department = desk.department(lowered.split(":", 1)[1])
            if department is None:
                raise Refusal(desk.t("staff_no_such_assignee", name=word))
            statement = statement.where(Request.department_id == department.id)
        elif category := _category(desk, lowered):
            statement = statement.where(Request.category_id == category)
        elif places := _places(desk, word):
            statement = statement.where(Request.locality_id.in_(places))
        else:
            raise Refusal(desk.t("staff_unknown_filter", word=word))
    if statuses:
        statement = statement.where(Request.status.in_(statuses))
    elif "all" not in flags:
        statement = statement.where(Request.status.in_(lifecycle.OPEN | {"resolved"}))
    if "all" not in flags:
        statement = statement.where(Request.group_id.is_(None))  # a group is one case: its first stands for it
    if "mine" in flags:
        statement = statement.where(Request.assignee_id == desk.me.id)
    if "unassigned" in flags:
        statement = statement.where(Request.assignee_id.is_(None))
    if (scope := visible_to(desk.me)) is not None:
        statement = statement.where(scope)
    requests = list(desk.session.exec(statement.order_by(Request.created_at)))
    if "overdue" in flags:
        now = utcnow()
        requests = [r for r in requests if (d := desk.catalog.routing.deadline(r.category_id, r.created_at, r.first_response_at, now)) and d.state == "breached"]
    if not requests:
        desk.say(desk.t("staff_inbox_empty"))
        return
    shown = requests[:LISTED]
    body = "\n".join([desk.t("staff_inbox_title", count=len(requests))] + [line(desk, r) for r in shown])
    if len(requests) > LISTED:
        body += "\n" + desk.t("staff_inbox_more", count=len(requests) - LISTED)
    desk.say(body, [Choice(button("show", r.code), r.code) for r in shown[:WITH_BUTTONS]])


def _category(desk: Desk, word: str) -> str | None:
    ids = [c.id for c in desk.catalog.categories]
    if word in ids:
        return word
    found = process.extractOne(word, ids, scorer=fuzz.ratio, score_cutoff=85)
    return found[0] if found else None


def _places(desk: Desk, word: str) -> list[str]:
    """A place by id or name, with everything under it."""
    localities = desk.catalog.localities
    if word in localities:
        roots = {word}
    else:
        names = {pid: " ".join(p.names.values()).lower() for pid, p in localities.items()}
        found = process.extract(word.lower(), names, scorer=fuzz.partial_ratio, score_cutoff=90, limit=None)
        roots = {key for _, _, key in found}
    return [pid for pid in localities if roots & set(desk.catalog.places_of(pid))]


def find(desk: Desk) -> None:
    """``/find words``: in any script, with typos, by words of the request,
    its place or its code (see :mod:`flows.search`)."""
    query = desk.args.strip()
    if not search.terms(query):
        raise Refusal(desk.t("staff_usage", usage="/find words"))
    statement = select(Request).order_by(Request.id.desc()).limit(SEARCHED)
    if (scope := visible_to(desk.me)) is not None:
        statement = statement.where(scope)
    candidates = [(r, searchable(desk, r)) for r in desk.session.exec(statement)]
    found = [r for r, _ in search.rank(query, candidates)]
    if not found:
        desk.say(desk.t("staff_found_nothing", words=query))
        return
    shown = found[:LISTED]
    desk.say(
        "\n".join([desk.t("staff_found", count=len(found))] + [line(desk, r) for r in shown]),
        [Choice(button("show", r.code), r.code) for r in shown[:WITH_BUTTONS]],
    )


def searchable(desk: Desk, request: Request) -> set[str]:
    """The words a request is found by: its text, code and place (with the
    places above it, in every language the catalogue names them). Topics
    are left out: their long names ("electricity, gas and water") would
    match half the queue; ``/inbox CATEGORY`` filters by topic."""
    names = [request.text, request.code, request.code.replace("-", "")]
    for place_id in desk.catalog.places_of(request.locality_id):
        names += desk.catalog.localities[place_id].names.values()
    return search.terms(" ".join(names))


def stats(desk: Desk) -> None:
    """Volume, response and resolution times, satisfaction: ``/stats [days]``."""
    asked = desk.args.strip()
    if asked and (not asked.isdecimal() or int(asked) < 1):
        raise Refusal(desk.t("staff_usage", usage="/stats [days]"))
    days = int(asked) if asked else 30
    since = utcnow() - timedelta(days=days)
    statement = select(Request).where(Request.created_at >= since)
    if not desk.at_least("admin") and desk.me.department_id:
        statement = statement.where(Request.department_id == desk.me.department_id)
    requests = list(desk.session.exec(statement))
    by_status = _count(r.status for r in requests)
    by_category = _count(_category_name(desk, r.category_id) for r in requests)
    by_department = _count(department_name(desk, r.department_id) if r.department_id else "—" for r in requests)
    by_channel = _count(r.channel for r in requests)
    first = [(r.first_response_at - r.created_at).total_seconds() / 3600 for r in requests if r.first_response_at]
    solved = [(r.resolved_at - r.created_at).total_seconds() / 3600 for r in requests if r.resolved_at]
    ratings = [r.rating for r in requests if r.rating]
    now = utcnow()
    overdue = sum(
        1 for r in requests if r.status in lifecycle.OPEN
        and (d := desk.catalog.routing.deadline(r.category_id, r.created_at, r.first_response_at, now)) and d.state == "breached"
    )
    lines = [
        desk.t("staff_stats_title", period=desk.t("staff_days", count=days), count=len(requests)),
        desk.t("staff_stats_by_status", values=_format(by_status)),
        desk.t("staff_stats_by_category", values=_format(by_category)),
        desk.t("staff_stats_by_department", values=_format(by_department)),
        desk.t("staff_stats_by_channel", values=_format(by_channel)),
        desk.t("staff_stats_first_response", hours=_median(first), count=len(first)),
        desk.t("staff_stats_resolution", hours=_median(solved), count=len(solved)),
        desk.t("staff_stats_satisfaction", rating=f"{statistics.mean(ratings):.1f}" if ratings else "—", count=len(ratings)),
        desk.t("staff_stats_overdue", count=overdue),
    ]
    desk.say("\n".join(lines))


def _category_name(desk: Desk, category_id: str) -> str:
    category = desk.catalog.category(category_id)
    return category.name(desk.language) if category else category_id


def _count(values) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0]))))  # the same order on every store


def _format(counts: dict[str, int]) -> str:
    return "; ".join(f"{k} — {v}" for k, v in counts.items()) or "—"


def _median(hours: list[float]) -> str:
    return f"{statistics.median(hours):.1f}" if hours else "—"


