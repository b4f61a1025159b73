"""``onewindow report summary|demand``: the figures a ministry and its
planners ask for.

    onewindow report summary                          # the last 30 days
    onewindow report summary --from 2026-01-01 --to 2026-03-31 --csv
    onewindow report demand [--area ID] [--csv]       # where a mobile unit is most needed

``summary``: volume, first response and resolution times against their
targets, reopen rate and satisfaction, in all and per category, department
and locality (see :mod:`bot.figures`). ``demand``: per locality and
service, as ``/demand`` shows it to supervisors."""

from __future__ import annotations

import argparse
import csv
import sys
from datetime import date, datetime, time, timedelta, timezone

from sqlmodel import select

from bot.catalog import Catalog
from bot.demand import demand_rows
from bot.figures import GROUPS, Figures, summary
from bot.settings import Settings
from bot.wiring import open_store
from storage.db import session_scope
from storage.models import Department, utcnow

help = "reports: a summary of volume, response times and satisfaction; demand per locality and service"
DEFAULT_DAYS = 30
COLUMNS = ["requests", "open", "past_target", "first_response_hours", "first_response_on_time", "resolution_hours",
           "resolution_on_time", "reopen_rate", "csat", "rating", "rated"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("report", choices=["summary", "demand"])
    parser.add_argument("--from", dest="start", type=_day, help="summary: the first day, YYYY-MM-DD (default: 30 days ago)")
    parser.add_argument("--to", dest="end", type=_day, help="summary: the last day, included (default: today)")
    parser.add_argument("--area", help="demand: only this region or district (its id)")
    parser.add_argument("--csv", action="store_true", help="CSV on standard output")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day such as 2026-01-31") from None


def run(args: argparse.Namespace) -> int:
    if args.report == "summary":
        return _summary(args)
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


def _summary(args: argparse.Namespace) -> int:
    now = utcnow()
    end_day = args.end or now.date()
    start_day = args.start or end_day - timedelta(days=DEFAULT_DAYS - 1)
    if start_day > end_day:
        print("onewindow report: --from is after --to", file=sys.stderr)
        return 2
    start = datetime.combine(start_day, time(0), tzinfo=timezone.utc)
    end = datetime.combine(end_day + timedelta(days=1), time(0), tzinfo=timezone.utc)
    database = open_store(Settings.load().database)
    try:
        catalog = Catalog.from_store(database)
        with database.connect() as conn:
            report = summary(conn, catalog, start, end, now)
        with session_scope(database) as session:
            departments = {d.id: d.name for d in session.exec(select(Department))}
    finally:
        database.dispose()
    names = {
        "category": lambda key: catalog.category(key).name("en") if catalog.category(key) else key,
        "department": lambda key: departments.get(key, key),
        "locality": lambda key: catalog.localities[key].name("en") if key in catalog.localities else key,
    }
    rows = [("all", "", "all requests", report.total)] + [
        (group, key, names[group](key) if key else "(none)", figures)
        for group in GROUPS for key, figures in report.by[group].items()
    ]
    if args.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(["group", "key", "name", *COLUMNS])
        writer.writerows([group, key, name, *_csv_values(figures)] for group, key, name, figures in rows)
        return 0
    print(f"Requests filed {start_day} to {end_day} (UTC): {report.total.requests}")
    if not report.total.requests:
        return 0
    header = f"{'':<44} {'filed':>6} {'open':>5} {'late':>5} {'1st resp':>9} {'on time':>8} {'resolved':>9} {'on time':>8} {'reopen':>7} {'CSAT':>5} {'rated':>6}"
    for group in ("all", *GROUPS):
        print()
        print(header.replace(" " * 44, f"{'by ' + group if group != 'all' else 'in all':<44}", 1))
        for row_group, _key, name, figures in rows:
            if row_group == group:
                print(_line(name, figures))
    print()
    print("1st resp and resolved: median hours from filing; on time: within the category's target; late: open and past it now;")
    print("reopen: reopened at least once, of those finished; CSAT: ratings of 4 or 5, of those rated.")
    return 0


def _csv_values(figures: Figures) -> list:
    return ["" if (value := getattr(figures, column)) is None else round(value, 4) if isinstance(value, float) else value
            for column in COLUMNS]


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} h"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _line(name: str, f: Figures) -> str:
    hours, share = _hours, _share
    return (f"{name[:44]:<44} {f.requests:>6} {f.open:>5} {f.past_target:>5} {hours(f.first_response_hours):>9} "
            f"{share(f.first_response_on_time):>8} {hours(f.resolution_hours):>9} {share(f.resolution_on_time):>8} "
            f"{share(f.reopen_rate):>7} {share(f.csat):>5} {f.rated:>6}")
