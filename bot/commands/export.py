"""``onewindow export requests|events|messages|broadcasts``: tables for
analysts and for the record, as CSV or XLSX.

    onewindow export requests --format xlsx -o requests.xlsx --from 2026-01-01 --department utilities
    onewindow export events                              # the audit trail, CSV on standard output
    onewindow export messages --status closed -o closed.csv
    onewindow export broadcasts                          # every announcement, one row per recipient

``requests``: one row per request; ``events``: every step of every request
(who, when, what, from which status to which); ``messages``: every message
in and out but announcements; ``broadcasts``: every announcement with each
recipient's outcome. ``--from``/``--to`` (days, UTC) pick by filing (by
sending, for messages); ``--status``, ``--category`` and ``--department``
pick requests (and the events and messages of those requests).

By default the export is pseudonymized (see :mod:`bot.exports`).
``--with-personal-data`` writes names, numbers and words as they are, and is
itself recorded in the audit trail (who, when, what, where to): "who" is the
OS user running the command, or ``--by NAME``, an admin on the staff list.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from sqlmodel import select

from bot import exports
from bot.settings import Settings
from bot.wiring import open_store
from storage import privacy
from storage.db import session_scope
from storage.models import Caseworker

help = "export requests, their events, messages or announcements as CSV or XLSX (pseudonymized unless --with-personal-data)"
MIN_KEY = 16


class ExportRefused(Exception):
    """Said to the person at the shell in one sentence."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", choices=list(exports.TABLES))
    parser.add_argument("--format", choices=["csv", "xlsx"], default="csv", help="csv (the default) or xlsx (needs --output)")
    parser.add_argument("--output", "-o", help="a file (default: standard output)")
    parser.add_argument("--from", dest="start", type=_day, help="from this day, YYYY-MM-DD (UTC)")
    parser.add_argument("--to", dest="end", type=_day, help="up to this day, included")
    parser.add_argument("--status", action="append", default=[], help="only requests in this status (again for more)")
    parser.add_argument("--category", action="append", default=[], help="only requests of this category (again for more)")
    parser.add_argument("--department", action="append", default=[], help="only requests of this department (again for more)")
    parser.add_argument("--with-personal-data", action="store_true",
                        help="names, numbers and every word as written (recorded in the audit trail)")
    parser.add_argument("--by", metavar="NAME", help="the admin taking the personal data (default: the OS user)")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day such as 2026-01-31") from None


def filters(args: argparse.Namespace) -> exports.Filters:
    start, end = getattr(args, "start", None), getattr(args, "end", None)
    return exports.Filters(
        start=datetime.combine(start, time(0), tzinfo=timezone.utc) if start else None,
        end=datetime.combine(end + timedelta(days=1), time(0), tzinfo=timezone.utc) if end else None,
        statuses=tuple(getattr(args, "status", ())), categories=tuple(getattr(args, "category", ())),
        departments=tuple(getattr(args, "department", ())),
    )


def run(args: argparse.Namespace) -> int:
    settings = Settings.load()
    fmt = getattr(args, "format", "csv")
    try:
        if fmt == "xlsx" and not args.output:
            raise ExportRefused("An XLSX file needs a name: add --output FILE.xlsx (or use CSV on standard output).")
        key = None if args.with_personal_data else pseudonym_key(settings.export_pseudonym_key)
        _check_folder(args.output)
        database = open_store(settings.database)
        try:
            if args.with_personal_data:
                record_personal_export(database, args.by, args.output or "standard output", args.what)
            columns, rows = exports.TABLES[args.what](database, filters(args), key=key)
            (write_xlsx if fmt == "xlsx" else write_csv)(args.output, args.what, columns, rows)
        finally:
            database.dispose()
    except ExportRefused as problem:
        print(problem, file=sys.stderr)
        return 2
    return 0


def write_csv(output: str | None, _title: str, columns: list[str], rows) -> int:
    out = _open(output)
    try:
        return exports.write_csv(out, columns, rows)
    finally:
        if output:
            out.close()


def write_xlsx(output: str, title: str, columns: list[str], rows) -> int:
    try:
        return exports.write_xlsx(output, title, columns, rows)
    except OSError as error:
        raise ExportRefused(f"Cannot write {output}: {error.strerror or error}.") from error


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


def record_personal_export(database, by: str | None, where: str, what: str = "events") -> None:
    """On record before a single row leaves (in a transaction of its own)."""
    with session_scope(database) as session:
        if by:
            admin = session.exec(select(Caseworker).where(Caseworker.name == by, Caseworker.active, Caseworker.role == "admin")).first()
            if admin is None:
                raise ExportRefused(f"{by!r} is not an admin on the staff list (see: onewindow staff list).")
            actor = f"caseworker:{admin.id} ({admin.name})"
        else:
            actor = f"os:{_os_user()}"
        privacy.audit(session, actor, exports.PERSONAL_EXPORT.format(table=what), f"to {where}")


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment (a container without one)
        return "unknown"
