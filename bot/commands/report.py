"""``onewindow report demand [--area ID] [--csv]``: where a mobile unit is
most needed, as ``/demand`` shows it to supervisors."""

from __future__ import annotations

import argparse
import csv
import sys

from bot.catalog import Catalog
from bot.demand import demand_rows
from bot.settings import Settings
from bot.wiring import open_store
from storage.db import session_scope

help = "reports: demand per locality and service (bookings, open requests, questions, subscribers)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("report", choices=["demand"])
    parser.add_argument("--area", help="only this region or district (its id)")
    parser.add_argument("--csv", action="store_true", help="CSV on standard output")


def run(args: argparse.Namespace) -> int:
    database = open_store(Settings.load().database)
    try:
        catalog = Catalog.from_store(database)
        if args.area and args.area not in catalog.localities:
            print(f"onewindow report: no locality {args.area!r}", file=sys.stderr)
            return 2
        with session_scope(database) as session:
            rows = demand_rows(session, catalog, args.area)
        header = ["locality", "place", "service", "bookings", "open_requests", "questions_without_visit", "subscribers"]
        table = [[r.locality_id, r.place_name(catalog, "en"), r.service_id or "", r.bookings, r.open_requests, r.questions, r.subscribers]
                 for r in rows]
        if args.csv:
            writer = csv.writer(sys.stdout)
            writer.writerow(header)
            writer.writerows(table)
        elif not table:
            print("No demand recorded yet.")
        else:
            for row in table:
                print(f"{row[1]} ({row[0]}) · {row[2] or '—'} · bookings {row[3]} · open requests {row[4]} · questions {row[5]} · subscribers {row[6]}")
        return 0
    finally:
        database.dispose()
