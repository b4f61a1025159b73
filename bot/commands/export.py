"""``onewindow export events [--output FILE]``: the whole audit trail as CSV,
one row per event: when, which request, who, what, from which status to
which, and the note."""

from __future__ import annotations

import argparse
import csv
import sys

from sqlmodel import select

from bot.settings import Settings
from bot.wiring import open_store
from storage.db import session_scope
from storage.models import Caseworker, Request, RequestEvent

help = "export the audit trail of every request as CSV"
COLUMNS = ["at", "request", "category", "actor", "actor_name", "kind", "from_status", "to_status", "note"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", choices=["events"])
    parser.add_argument("--output", "-o", help="a file (default: standard output)")


def run(args: argparse.Namespace) -> int:
    database = open_store(Settings.load().database)
    out = open(args.output, "w", newline="", encoding="utf-8") if args.output else sys.stdout
    try:
        write_events(database, out)
    finally:
        if args.output:
            out.close()
    return 0


def write_events(database, out) -> int:
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    count = 0
    with session_scope(database) as session:
        names = {f"caseworker:{p.id}": p.name for p in session.exec(select(Caseworker))}
        statement = select(RequestEvent, Request).join(Request, Request.id == RequestEvent.request_id).order_by(RequestEvent.at, RequestEvent.id)
        for event, request in session.exec(statement):
            writer.writerow([
                event.at.isoformat(), request.code, request.category_id, event.actor, names.get(event.actor, ""),
                event.kind, event.from_status or "", event.to_status or "", event.note or "",
            ])
            count += 1
    return count
