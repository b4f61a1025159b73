"""``onewindow catalog load|check``: load (or reload) the default catalogue
and check the service catalogue files.

``load`` upserts categories, localities and departments into the store and
checks the service files; running bots re-read those files at their next
message (they watch the files' stamps), so no restart is needed. ``check``
only validates the service files: one line per problem, exit 1 if any.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot import services
from bot.settings import Settings
from storage import catalog
from storage.db import make_engine, opening_store
from storage.migrate import upgrade
from storage.seed import read_seed

help = "load the default catalogue (categories, localities, services) or check the service files"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["load", "check"])
    parser.add_argument("--services", metavar="DIR", type=Path, default=services.SERVICES_DIR,
                        help="folder of service catalogue files (default: the shipped sample)")


def check_services(directory: Path) -> tuple[int, int]:
    """Validate the service files against the seed categories and localities;
    print one line per problem; (services found, problems)."""
    categories = {c["id"] for c in read_seed("categories.json")["categories"]}
    localities = {l["id"] for l in read_seed("localities.json")["localities"]}
    found, problems = services.read(directory, categories, localities)
    for problem in problems:
        print(problem, file=sys.stderr)
    return len(found.services), len(problems)


def run(args: argparse.Namespace) -> int:
    if args.action == "check":
        count, problems = check_services(args.services)
        if problems:
            print(f"{problems} problem(s) in the service catalogue", file=sys.stderr)
            return 1
        print(f"{count} services, no problems")
        return 0
    count, problems = check_services(args.services)
    if problems:
        print("service catalogue not loaded: fix the problems above (running bots keep the previous one)", file=sys.stderr)
        return 1
    url = Settings.load().database
    with opening_store(url):
        database = make_engine(url)
        upgrade(database)
    counts = catalog.load(database)
    counts["services"] = count
    print(", ".join(f"{count} {kind}" for kind, count in counts.items()) + " loaded")
    return 0
