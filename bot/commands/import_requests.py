"""``onewindow import requests FILE``: an office's old spreadsheet (CSV or
XLSX) into the queue, so that years of requests can be counted and worked.

    onewindow import requests pedidos_2024.xlsx
    onewindow import requests planilla.csv --dry-run      # read and report, write nothing
    onewindow import requests planilla.csv --json         # one JSON object on standard output

Rows that cannot be read are reported by line and skipped; a row is written
whole or not at all; importing the same file again imports nothing twice.
Rows that are one request (the same person re-filing, neighbours reporting
one problem) are grouped as at intake: the first is the request, the others
are marked as its duplicates. Imported requests have no channel address:
nobody is messaged because of an import.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import datetime, time, timezone
from pathlib import Path

from sqlalchemy import select

from bot.catalog import Catalog
from bot.settings import Settings
from bot.sheet_import import SheetError, SheetRow, category_of, duplicate_groups, parse, read_rows
from bot.wiring import open_store
from flows.tracking import new_code
from storage import message_path
from storage.models import Citizen, Request, utcnow

help = "import requests from an old spreadsheet (CSV or XLSX): dates, phones, names and places as clerks wrote them"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", choices=["requests"])
    parser.add_argument("file", help="the CSV or XLSX file")
    parser.add_argument("--dry-run", action="store_true", help="read and report; write nothing")
    parser.add_argument("--json", action="store_true", help="print one JSON object: rows, imported, skipped, duplicate_groups")
    parser.add_argument("--region", choices=["AR", "UZ"], help="the phones' country (default: from the places)")


def run(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        print(f"onewindow import: no file {args.file}", file=sys.stderr)
        return 2
    database = open_store(Settings.load().database)
    try:
        catalog = Catalog.from_store(database)
        try:
            rows, skipped = parse(read_rows(path), catalog, args.region)
        except (SheetError, UnicodeDecodeError, OSError) as problem:
            print(f"onewindow import: cannot read {args.file}: {problem}", file=sys.stderr)
            return 1
        categories = []
        for done, row in enumerate(rows, 1):
            categories.append(category_of(row, catalog))
            _progress(done, len(rows), quiet=args.json)
        groups = duplicate_groups(rows, categories)
        imported, already = (0, 0) if args.dry_run else _write(database, catalog, rows, categories, groups, path.name)
    finally:
        database.dispose()
    total = len(rows) + len(skipped)
    if args.json:
        print(json.dumps({
            "rows": total,
            "imported": imported,
            "skipped": [{"row": number, "reason": reason} for number, reason in skipped],
            "duplicate_groups": groups,
        }, ensure_ascii=False))
        return 0
    for number, reason in skipped:
        print(f"{args.file}: row {number}: skipped: {reason}", file=sys.stderr)
    _summary(total, len(rows) if args.dry_run else imported, already, skipped, groups, categories, args.dry_run)
    return 0


def _write(database, catalog, rows: list[SheetRow], categories: list[str], groups: list[list[int]], source: str) -> tuple[int, int]:
    """Write every row not imported before; returns (imported, already there)."""
    primary_of = {number: members[0] for members in groups for number in members[1:]}
    ids: dict[int, int] = {}
    imported = already = 0
    with database.begin() as conn:
        known = dict(conn.execute(select(Request.import_key, Request.id).where(Request.import_key.in_([r.key for r in rows]))).all())
        citizens: dict[str, int] = {}
        for row, category in zip(rows, categories):
            if row.key in known:
                ids[row.number] = known[row.key]
                already += 1
                continue
            person = row.phone or f"row:{row.number}"
            if person not in citizens:
                citizens[person] = conn.execute(Citizen.__table__.insert().returning(Citizen.__table__.c.id), {
                    "display_name": row.name, "language": row.language, "locality_id": row.locality_id, "created_at": utcnow(),
                }).scalar_one()
            when = datetime.combine(row.when, time(12, 0), tzinfo=timezone.utc) if row.when else utcnow()
            duplicate = row.number in primary_of and primary_of[row.number] in ids
            status = "duplicate" if duplicate else row.status
            values = {
                "code": message_path.free_code(conn, new_code), "citizen_id": citizens[person], "category_id": category, "locality_id": row.locality_id,
                "department_id": catalog.department_for(category, row.locality_id), "kind": "request", "text": row.text,
                "channel": "import", "address": "", "language": row.language, "status": status, "created_at": when,
                "updated_at": when, "import_key": row.key,
                "duplicate_of_id": ids[primary_of[row.number]] if duplicate else None,
                "closed_at": when if status == "closed" else None,
            }
            ids[row.number] = message_path.insert_request(conn, values, actor=f"import:{source}")
            imported += 1
    return imported, already


def _progress(done: int, total: int, *, quiet: bool) -> None:
    """A bar on the terminal for long files (never into a pipe or the JSON)."""
    if quiet or total < 50 or not sys.stderr.isatty():
        return
    width = 30
    filled = width * done // total
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} rows")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _summary(total: int, imported: int, already: int, skipped: list, groups: list, categories: list[str], dry_run: bool) -> None:
    lines = [
        ("rows", total),
        ("would be imported" if dry_run else "imported", imported),
        ("already imported before", already),
        ("skipped (unreadable)", len(skipped)),
        ("duplicate groups", len(groups)),
        ("rows in duplicate groups", sum(len(g) for g in groups)),
    ]
    width = max(len(name) for name, _ in lines)
    for name, value in lines:
        print(f"{name:<{width}}  {value:>6}")
    print()
    for category, count in Counter(categories).most_common():
        print(f"{category:<{width}}  {count:>6}")
