"""``onewindow db upgrade``: bring the store's schema up to date."""

from __future__ import annotations

import argparse

from bot.settings import Settings
from storage.db import make_engine
from storage.migrate import autogenerate, current_revision, upgrade

help = "database schema: upgrade, current, revision"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["upgrade", "current", "revision"])
    parser.add_argument("-m", "--message", default="schema change", help="with revision: what it changes")


def run(args: argparse.Namespace) -> int:
    database = make_engine(Settings.load().database)
    if args.action == "upgrade":
        upgrade(database)
    elif args.action == "revision":
        autogenerate(database, args.message)
    print(f"schema revision: {current_revision(database)}")
    return 0
