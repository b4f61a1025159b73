"""``onewindow catalog load``: load (or reload) the default catalogue."""

from __future__ import annotations

import argparse

from bot.settings import Settings
from storage import catalog
from storage.db import make_engine, opening_store
from storage.migrate import upgrade

help = "load the default catalogue of categories and sample localities"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["load"])


def run(args: argparse.Namespace) -> int:
    url = Settings.load().database
    with opening_store(url):
        database = make_engine(url)
        upgrade(database)
    counts = catalog.load(database)
    print(", ".join(f"{count} {kind}" for kind, count in counts.items()) + " loaded")
    return 0
