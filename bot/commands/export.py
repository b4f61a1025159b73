"""``onewindow export events|broadcasts [--output FILE] [--with-personal-data [--by NAME]]``:
the whole audit trail as CSV, one row per event: when, which request, its
category and district, who, what, from which status to which, and the note;
or every announcement with every recipient's outcome, one row per message.

By default the export is pseudonymized, fit to hand to an analyst: no names,
no phone numbers, no free text (notes, replies, citizens' answers and
comments are replaced by ``[redacted]``), and each citizen appears as a
stable pseudonym — an HMAC of their id keyed with ``EXPORT_PSEUDONYM_KEY`` —
the same in every export made with the same key, and not reversible without
it. ``--with-personal-data`` writes everything word for word, and is itself
recorded in the audit trail (who, when, what, where to): "who" is the OS
user running the command, or ``--by NAME``, an admin on the staff list.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import hashlib
import hmac
import sys
from pathlib import Path

from sqlmodel import select

from bot.settings import Settings
from bot.wiring import open_store
from storage import privacy
from storage.db import session_scope
from storage.models import Broadcast, Caseworker, Citizen, Message, Request, RequestEvent

help = "export the audit trail of every request, or every announcement's outcome per recipient, as CSV (pseudonymized unless --with-personal-data)"
BROADCAST_COLUMNS = ["broadcast", "created_at", "created_by", "confirmed_by", "urgent", "send_at", "broadcast_status", "audience",
                     "recipient", "channel", "status", "error", "queued_at", "sent_at"]
COLUMNS = ["at", "request", "category", "place", "citizen", "actor", "actor_name", "kind", "from_status", "to_status", "note"]
REDACTED = "[redacted]"
MIN_KEY = 16
# Notes the system writes itself (deadline kinds, "retention period over"): no person's words.
MACHINE_NOTES = privacy.MACHINE_NOTES
AUDIT_ACTION = "export events with personal data"


class ExportRefused(Exception):
    """Said to the person at the shell in one sentence."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", choices=["events", "broadcasts"])
    parser.add_argument("--output", "-o", help="a file (default: standard output)")
    parser.add_argument("--with-personal-data", action="store_true",
                        help="names, numbers and every note word for word (recorded in the audit trail)")
    parser.add_argument("--by", metavar="NAME", help="the admin taking the personal data (default: the OS user)")


def run(args: argparse.Namespace) -> int:
    settings = Settings.load()
    out = None
    try:
        key = None if args.with_personal_data else pseudonym_key(settings.export_pseudonym_key)
        _check_folder(args.output)
        database = open_store(settings.database)
        try:
            if args.with_personal_data:
                record_personal_export(database, args.by, args.output or "standard output")
            out = _open(args.output)
            (write_broadcasts if args.what == "broadcasts" else write_events)(database, out, key=key)
        finally:
            database.dispose()
    except ExportRefused as problem:
        print(problem, file=sys.stderr)
        return 2
    finally:
        if args.output and out is not None:
            out.close()
    return 0


def pseudonym_key(value: str) -> bytes:
    if len(value.strip()) < MIN_KEY:
        raise ExportRefused(
            f"Set EXPORT_PSEUDONYM_KEY to a secret of at least {MIN_KEY} characters (it keeps citizens' pseudonyms "
            "stable across exports), or use --with-personal-data."
        )
    return value.strip().encode()


def _check_folder(output: str | None) -> None:
    folder = Path(output).expanduser().parent if output else None
    if folder is not None and not folder.is_dir():
        raise ExportRefused(f"Cannot write {output}: the folder {folder} does not exist.")


def _open(output: str | None):
    if not output:
        return sys.stdout
    try:
        return open(output, "w", newline="", encoding="utf-8")
    except OSError as error:
        raise ExportRefused(f"Cannot write {output}: {error.strerror or error}.") from error


def record_personal_export(database, by: str | None, where: str) -> None:
    """On record before a single row leaves (in a transaction of its own)."""
    with session_scope(database) as session:
        if by:
            admin = session.exec(select(Caseworker).where(Caseworker.name == by, Caseworker.active, Caseworker.role == "admin")).first()
            if admin is None:
                raise ExportRefused(f"{by!r} is not an admin on the staff list (see: onewindow staff list).")
            actor = f"caseworker:{admin.id} ({admin.name})"
        else:
            actor = f"os:{_os_user()}"
        privacy.audit(session, actor, AUDIT_ACTION, f"to {where}")


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment (a container without one)
        return "unknown"


def pseudonym(key: bytes, citizen_id: int) -> str:
    """The same citizen, the same pseudonym, with the same key; no way back without it."""
    return "c-" + hmac.new(key, f"citizen:{citizen_id}".encode(), hashlib.sha256).hexdigest()[:16]


def write_events(database, out, *, key: bytes | None = None) -> int:
    """Every event as a CSV row; pseudonymized when ``key`` is given, word for word without."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    count = 0
    with session_scope(database) as session:
        names = {f"caseworker:{p.id}": p.name for p in session.exec(select(Caseworker))}
        citizens = {c.id: c.display_name for c in session.exec(select(Citizen))} if key is None else {}
        statement = select(RequestEvent, Request).join(Request, Request.id == RequestEvent.request_id).order_by(RequestEvent.at, RequestEvent.id)
        for event, request in session.exec(statement):
            if key is None:
                citizen, actor, actor_name = str(request.citizen_id), event.actor, names.get(event.actor, citizens.get(_citizen_id(event.actor), "") or "")
                note, place = event.note or "", request.locality_id or ""
            else:
                citizen = pseudonym(key, request.citizen_id)
                actor = f"citizen:{pseudonym(key, int(_citizen_id(event.actor)))}" if _citizen_id(event.actor) else event.actor
                actor_name = ""
                note = (event.note or "") if event.kind in MACHINE_NOTES else (REDACTED if event.note else "")
                place = privacy.district_of(session, request.locality_id) or ""
            writer.writerow([
                event.at.isoformat(), request.code, request.category_id, place, citizen, actor, actor_name,
                event.kind, event.from_status or "", event.to_status or "", note,
            ])
            count += 1
    return count


def _citizen_id(actor: str) -> int | None:
    kind, _, number = actor.partition(":")
    return int(number) if kind == "citizen" and number.isdigit() else None


def write_broadcasts(database, out, *, key: bytes | None = None) -> int:
    """Every announcement's messages as CSV rows, read a batch at a time;
    a citizen's address is their pseudonym when ``key`` is given (a
    channel's or group's address is public and stays)."""
    writer = csv.writer(out)
    writer.writerow(BROADCAST_COLUMNS)
    count = 0
    with session_scope(database) as session:
        announcements = {b.id: b for b in session.exec(select(Broadcast))}
        statement = select(Message).where(Message.broadcast_id.is_not(None)).order_by(Message.broadcast_id, Message.id)
        for row in session.exec(statement.execution_options(yield_per=1000)):
            item = announcements[row.broadcast_id]
            recipient = row.address
            if key is not None and row.citizen_id is not None:
                recipient = pseudonym(key, row.citizen_id)
            elif key is not None and not row.address.split(":", 1)[1].startswith("-"):
                recipient = "a-" + hmac.new(key, row.address.encode(), hashlib.sha256).hexdigest()[:16]
            audience = {k: v for k, v in item.audience.items() if k not in ("localities", "subscribers", "channels", "numbers")}
            writer.writerow([
                item.id, item.created_at.isoformat(), item.created_by, item.confirmed_by or "", item.urgent,
                item.send_at.isoformat() if item.send_at else "", item.status, _audience_words(audience, item.audience),
                recipient, row.channel, row.status, row.error or "", row.created_at.isoformat(),
                row.sent_at.isoformat() if row.sent_at else "",
            ])
            count += 1
    return count


def _audience_words(kept: dict, audience: dict) -> str:
    words = [f"{k}={v}" for k, v in sorted(kept.items()) if k != "named"]
    words += [f"{k}={','.join(v)}" for k, v in sorted(kept.get("named", {}).items())]
    if audience.get("numbers"):
        words.append(f"numbers={len(audience['numbers'])}")
    return " ".join(words)
