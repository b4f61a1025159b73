"""What leaves the store as a table: requests, their events, messages and
announcements, each as a header and rows, pseudonymized unless personal
data is asked for (and allowed: see ``onewindow export``).

Pseudonymized means fit to hand to an analyst: no names, no phone numbers,
no free text (a citizen's words, notes, replies, comments become
``[redacted]``), places no finer than the district, and each citizen as a
stable pseudonym, an HMAC of their id keyed with ``EXPORT_PSEUDONYM_KEY``:
the same in every export made with the same key, not reversible without it.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from sqlmodel import select

from storage import privacy
from storage.db import session_scope
from storage.models import Broadcast, Caseworker, Citizen, Message, Request, RequestEvent

REDACTED = "[redacted]"
# Notes the system writes itself (deadline kinds, "retention period over"): no person's words.
MACHINE_NOTES = privacy.MACHINE_NOTES

EVENT_COLUMNS = ["at", "request", "category", "place", "citizen", "actor", "actor_name", "kind", "from_status", "to_status", "note"]
REQUEST_COLUMNS = ["request", "created_at", "category", "department", "place", "status", "channel", "citizen", "name", "contact",
                   "text", "assignee", "first_response_at", "resolved_at", "closed_at", "rating", "rating_comment", "duplicate_of"]
MESSAGE_COLUMNS = ["at", "direction", "channel", "citizen", "address", "request", "status", "text", "sent_at", "error"]
BROADCAST_COLUMNS = ["broadcast", "created_at", "created_by", "confirmed_by", "urgent", "send_at", "broadcast_status", "audience",
                     "recipient", "channel", "status", "error", "queued_at", "sent_at"]


@dataclass(frozen=True)
class Filters:
    """Which requests (and their events and messages): filed from ``start``
    up to ``end``, in these statuses, categories and departments."""

    start: datetime | None = None
    end: datetime | None = None
    statuses: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()

    def requests(self, statement):
        if self.start is not None:
            statement = statement.where(Request.created_at >= self.start)
        if self.end is not None:
            statement = statement.where(Request.created_at < self.end)
        if self.statuses:
            statement = statement.where(Request.status.in_(self.statuses))
        if self.categories:
            statement = statement.where(Request.category_id.in_(self.categories))
        if self.departments:
            statement = statement.where(Request.department_id.in_(self.departments))
        return statement

    @property
    def about_requests(self) -> bool:
        """Whether only what belongs to a request of these kinds is wanted."""
        return bool(self.statuses or self.categories or self.departments)


def pseudonym(key: bytes, citizen_id: int) -> str:
    """The same citizen, the same pseudonym, with the same key; no way back without it."""
    return "c-" + hmac.new(key, f"citizen:{citizen_id}".encode(), hashlib.sha256).hexdigest()[:16]


def _address_pseudonym(key: bytes, address: str) -> str:
    return "a-" + hmac.new(key, address.encode(), hashlib.sha256).hexdigest()[:16]


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


def requests(database, filters: Filters = Filters(), *, key: bytes | None = None) -> tuple[list[str], Iterator[list]]:
    """One row per request; pseudonymized when ``key`` is given."""

    def rows():
        with session_scope(database) as session:
            names = {p.id: p.name for p in session.exec(select(Caseworker))} if key is None else {}
            codes = dict(session.exec(select(Request.id, Request.code).where(Request.id.in_(
                select(Request.duplicate_of_id).where(Request.duplicate_of_id.is_not(None))))).all())
            statement = filters.requests(select(Request, Citizen).join(Citizen, Citizen.id == Request.citizen_id))
            for request, citizen in session.exec(statement.order_by(Request.created_at, Request.id).execution_options(yield_per=1000)):
                if key is None:
                    who, name, contact = str(citizen.id), citizen.display_name or "", request.address
                    words, comment, place = request.text, request.rating_comment or "", request.locality_id or ""
                else:
                    who, name, contact = pseudonym(key, citizen.id), "", ""
                    words, comment = (REDACTED if request.text else ""), (REDACTED if request.rating_comment else "")
                    place = privacy.district_of(session, request.locality_id) or ""
                yield [
                    request.code, _iso(request.created_at), request.category_id, request.department_id or "", place, request.status,
                    request.channel, who, name, contact, words, _assignee(names, request.assignee_id),
                    _iso(request.first_response_at), _iso(request.resolved_at), _iso(request.closed_at),
                    request.rating or "", comment, codes.get(request.duplicate_of_id, "") if request.duplicate_of_id else "",
                ]

    return REQUEST_COLUMNS, rows()


def _assignee(names: dict[int, str], caseworker_id: int | None) -> str:
    """Their name, or (pseudonymized) ``caseworker:ID``: staff are named only with personal data."""
    if caseworker_id is None:
        return ""
    return names.get(caseworker_id) or f"caseworker:{caseworker_id}"


def events(database, filters: Filters = Filters(), *, key: bytes | None = None) -> tuple[list[str], Iterator[list]]:
    """Every step of every request (who, when, what), oldest first."""

    def rows():
        with session_scope(database) as session:
            names = {f"caseworker:{p.id}": p.name for p in session.exec(select(Caseworker))}
            citizens = {c.id: c.display_name for c in session.exec(select(Citizen))} if key is None else {}
            statement = filters.requests(select(RequestEvent, Request).join(Request, Request.id == RequestEvent.request_id))
            for event, request in session.exec(statement.order_by(RequestEvent.at, RequestEvent.id).execution_options(yield_per=1000)):
                citizen_number = _citizen_id(event.actor)
                if key is None:
                    citizen, actor = str(request.citizen_id), event.actor
                    actor_name = names.get(event.actor, citizens.get(citizen_number, "") or "")
                    note, place = event.note or "", request.locality_id or ""
                else:
                    citizen = pseudonym(key, request.citizen_id)
                    actor = f"citizen:{pseudonym(key, citizen_number)}" if citizen_number else event.actor
                    actor_name = ""
                    note = (event.note or "") if event.kind in MACHINE_NOTES else (REDACTED if event.note else "")
                    place = privacy.district_of(session, request.locality_id) or ""
                yield [_iso(event.at), request.code, request.category_id, place, citizen, actor, actor_name,
                       event.kind, event.from_status or "", event.to_status or "", note]

    return EVENT_COLUMNS, rows()


def _citizen_id(actor: str) -> int | None:
    kind, _, number = actor.partition(":")
    return int(number) if kind == "citizen" and number.isdigit() else None


def messages(database, filters: Filters = Filters(), *, key: bytes | None = None) -> tuple[list[str], Iterator[list]]:
    """Every message in and out but announcements (``broadcasts`` has
    those), oldest first; with request filters, only those of such requests."""

    def rows():
        with session_scope(database) as session:
            statement = select(Message, Request).outerjoin(Request, Request.id == Message.request_id).where(Message.broadcast_id.is_(None))
            if filters.start is not None:
                statement = statement.where(Message.created_at >= filters.start)
            if filters.end is not None:
                statement = statement.where(Message.created_at < filters.end)
            if filters.about_requests:
                statement = Filters(statuses=filters.statuses, categories=filters.categories, departments=filters.departments).requests(statement)
            for message, request in session.exec(statement.order_by(Message.created_at, Message.id).execution_options(yield_per=1000)):
                if key is None:
                    citizen, address, words = str(message.citizen_id or ""), message.address, message.text
                else:
                    citizen = pseudonym(key, message.citizen_id) if message.citizen_id else ""
                    address = _address_pseudonym(key, message.address)
                    words = REDACTED if message.text else ""
                yield [_iso(message.created_at), message.direction, message.channel, citizen, address,
                       request.code if request else "", message.status, words, _iso(message.sent_at), message.error or ""]

    return MESSAGE_COLUMNS, rows()


def broadcasts(database, filters: Filters = Filters(), *, key: bytes | None = None) -> tuple[list[str], Iterator[list]]:
    """Every announcement's messages, one row per recipient; a citizen's
    address is their pseudonym when ``key`` is given (a channel's or group's
    address is public and stays)."""

    def rows():
        with session_scope(database) as session:
            announcements = {b.id: b for b in session.exec(select(Broadcast))}
            statement = select(Message).where(Message.broadcast_id.is_not(None))
            if filters.start is not None:
                statement = statement.where(Message.created_at >= filters.start)
            if filters.end is not None:
                statement = statement.where(Message.created_at < filters.end)
            for row in session.exec(statement.order_by(Message.broadcast_id, Message.id).execution_options(yield_per=1000)):
                item = announcements[row.broadcast_id]
                recipient = row.address
                if key is not None and row.citizen_id is not None:
                    recipient = pseudonym(key, row.citizen_id)
                elif key is not None and not row.address.split(":", 1)[1].startswith("-"):
                    recipient = _address_pseudonym(key, row.address)
                audience = {k: v for k, v in item.audience.items() if k not in ("localities", "subscribers", "channels", "numbers")}
                yield [
                    item.id, _iso(item.created_at), item.created_by, item.confirmed_by or "", item.urgent, _iso(item.send_at),
                    item.status, _audience_words(audience, item.audience), recipient, row.channel, row.status, row.error or "",
                    _iso(row.created_at), _iso(row.sent_at),
                ]

    return BROADCAST_COLUMNS, rows()


def _audience_words(kept: dict, audience: dict) -> str:
    words = [f"{k}={v}" for k, v in sorted(kept.items()) if k != "named"]
    words += [f"{k}={','.join(v)}" for k, v in sorted(kept.get("named", {}).items())]
    if audience.get("numbers"):
        words.append(f"numbers={len(audience['numbers'])}")
    return " ".join(words)


TABLES = {"requests": requests, "events": events, "messages": messages, "broadcasts": broadcasts}
PERSONAL_EXPORT = "export {table} with personal data"  # the audit trail's words for taking personal data out


def _written(append, columns: list[str], rows: Iterable[list]) -> int:
    """The header and every row through ``append``; how many rows."""
    append(columns)
    count = 0
    for row in rows:
        append(row)
        count += 1
    return count


def write_csv(out: TextIO, columns: list[str], rows: Iterable[list]) -> int:
    """The table into ``out``, an open text file; how many rows."""
    return _written(csv.writer(out).writerow, columns, rows)


def write_xlsx(target, title: str, columns: list[str], rows: Iterable[list]) -> int:
    """The table as one sheet into ``target`` (a path or a binary file),
    streamed: a year of messages does not sit in memory. How many rows."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    count = _written(book.create_sheet(title).append, columns, rows)
    book.save(target)
    return count
