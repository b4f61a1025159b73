"""``onewindow visits``: the mobile unit's visits from the shell.

    onewindow visits import plan.csv      # a route plan: bad rows by line, good rows kept
    onewindow visits list                 # the coming visits
    onewindow visits roster ID            # a visit's queue as CSV
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from bot import visit_planning as planning
from bot.catalog import Catalog
from bot.settings import Settings
from bot.wiring import open_store
from notifications.visits import line
from storage import visits
from storage.db import session_scope
from storage.models import Visit, utcnow

help = "mobile-unit visits: import a route plan, list the coming ones, a visit's queue as CSV"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["import", "list", "roster"])
    parser.add_argument("target", nargs="?", help="import: the CSV file (- for standard input); roster: the visit's number")


def run(args: argparse.Namespace) -> int:
    if args.action in ("import", "roster") and not args.target:
        print(f"onewindow visits {args.action}: say which {'file' if args.action == 'import' else 'visit'}", file=sys.stderr)
        return 2
    database = open_store(Settings.load().database)
    try:
        catalog = Catalog.from_store(database)
        with session_scope(database) as session:
            if args.action == "import":
                return _import(session, catalog, args.target)
            if args.action == "roster":
                return _roster(session, catalog, args.target)
            for visit in visits.upcoming(session, None, utcnow()):
                print(f"#{visit.id}  {line(catalog, visit, 'en')}  booked {visits.booked(session, visit.id)}")
            return 0
    finally:
        database.dispose()


def _import(session, catalog, target: str) -> int:
    try:
        source = sys.stdin.read() if target == "-" else Path(target).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as problem:
        print(f"onewindow visits import: cannot read {target}: {problem}", file=sys.stderr)
        return 1
    report = planning.import_plan(session, catalog, source)
    for number, what in report.errors:
        print(f"{target}:{number}: {what}", file=sys.stderr)
    print(f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, {len(report.errors)} rows with errors")
    return 1 if report.errors else 0


def _roster(session, catalog, target: str) -> int:
    number = target.lstrip("#")
    visit = session.get(Visit, int(number)) if number.isdigit() else None
    if visit is None:
        print(f"onewindow visits roster: no visit #{number}", file=sys.stderr)
        return 1
    writer = csv.writer(sys.stdout)
    writer.writerow(["number", "name", "service", "status", "booked_at"])
    catalogue = catalog.services()
    for booking, citizen in visits.roster(session, visit.id):
        service = catalogue.get(booking.service_id)
        writer.writerow([booking.number, (citizen.display_name if citizen else "") or "", service.text("names", "en") if service else booking.service_id,
                         booking.status, f"{booking.created_at:%Y-%m-%d %H:%M}"])
    return 0
