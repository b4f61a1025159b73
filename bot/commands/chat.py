"""``onewindow chat``: talk to the bot as a citizen in the terminal, through
the same engine and store as every other channel."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TextIO

from bot.settings import Settings
from bot.wiring import build, configure_logging
from handlers.console import ConsoleSender, to_incoming

help = "talk to the bot as a citizen in this terminal"
BANNER = "onewindow console: you are the citizen {user!r}. Say hello; choose by number or in words.\n/location LAT LON shares a place, /quit leaves.\n"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", default="you", help="who you are (each name is a separate citizen)")
    parser.add_argument("--language", default=None, help="your phone's language, e.g. ru or es")


def run(args: argparse.Namespace) -> int:
    settings = Settings.load()
    configure_logging("WARNING" if settings.log_level.upper() == "INFO" else settings.log_level)
    asyncio.run(chat(settings, args.user, args.language))
    return 0


async def chat(settings: Settings, user: str, language: str | None = None, lines: TextIO | None = None, out: TextIO | None = None) -> None:
    lines = lines or sys.stdin
    out = out or sys.stdout
    bot = build(settings, {"console": ConsoleSender(out)})
    print(BANNER.format(user=user), file=out, flush=True)
    try:
        while True:
            if lines is sys.stdin and sys.stdin.isatty():
                print("> ", end="", file=out, flush=True)
            line = await asyncio.to_thread(lines.readline)
            if not line or line.strip() in ("/quit", "/exit"):
                break
            await asyncio.to_thread(bot.engine.handle, to_incoming(line.rstrip("\n"), user, language))
            while await bot.outbox.deliver_due():
                pass
    finally:
        bot.database.dispose()
