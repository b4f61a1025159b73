"""``onewindow db upgrade``: bring the store's schema up to date."""

from __future__ import annotations

import argparse

from bot.settings import Settings
from storage.db import make_engine, opening_store
from storage.migrate import autogenerate, current_revision, upgrade

help = "database schema: upgrade, current, revision"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["upgrade", "current", "revision"])
    parser.add_argument("-m", "--message", default="schema change", help="with revision: what it changes")


def run(args: argparse.Namespace) -> int:
    url = Settings.load().database
    with opening_store(url):
        database = make_engine(url)
        if args.action == "upgrade":
            upgrade(database)
        elif args.action == "revision":
            autogenerate(database, args.message)
        revision = current_revision(database)
    print(f"schema revision: {revision}")
    return 0
