"""``onewindow chat``: talk to the bot as a citizen in the terminal, through
the same engine and store as every other channel."""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
from typing import TextIO

from bot.settings import Settings
from bot.wiring import build, configure_logging
from bot.privacy import file_for_upload
from handlers.console import CHANNEL, ConsoleSender, to_incoming, tolerant

help = "talk to the bot as a citizen in this terminal"
BANNER = "onewindow console: you are the citizen {user!r}. Say hello; choose by number or in words.\n/location LAT LON shares a place, /quit leaves.\n"


STAFF_BANNER = "onewindow console: you are {user!r} of the staff. /help lists the commands; /quit leaves.\n"


def configure(parser: argparse.ArgumentParser) -> None:
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--user", default="you", help="who you are (each name is a separate citizen)")
    who.add_argument("--staff", metavar="NAME", help="work the queue as this member of staff (see `onewindow staff add --console NAME`)")
    parser.add_argument("--language", default=None, help="your phone's language, e.g. ru or es")


def run(args: argparse.Namespace) -> int:
    settings = Settings.load()
    configure_logging("WARNING" if settings.log_level.upper() == "INFO" else settings.log_level)
    if getattr(args, "staff", None):
        if not _is_staff(settings, args.staff):
            print(f"{args.staff!r} is not staff. First: onewindow staff add --console {args.staff} --role caseworker --department ID", file=sys.stderr)
            return 2
        asyncio.run(chat(settings, args.staff, args.language, banner=STAFF_BANNER))
        return 0
    asyncio.run(chat(settings, args.user, args.language))
    return 0


def _is_staff(settings: Settings, name: str) -> bool:
    from handlers.staff.desk import StaffDesk
    from bot.wiring import open_store

    database = open_store(settings.database)
    try:
        return StaffDesk(database, None).is_staff(f"console:{name}")
    finally:
        database.dispose()


async def read_line(lines: TextIO) -> str:
    """The next line, read in a daemon thread of its own: Ctrl-C then stops
    the chat at once, instead of waiting (as a pooled thread would, at
    shutdown) for a line that may never come."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[str] = loop.create_future()

    def read() -> None:
        try:
            line = lines.readline()
        except BaseException as error:  # handed to the chat, which decides
            loop.call_soon_threadsafe(_settle, done, None, error)
        else:
            loop.call_soon_threadsafe(_settle, done, line, None)

    threading.Thread(target=read, name="console-input", daemon=True).start()
    return await done


def _settle(future: asyncio.Future, result, error) -> None:
    if future.done():
        return  # the chat was interrupted meanwhile
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


async def chat(settings: Settings, user: str, language: str | None = None, lines: TextIO | None = None, out: TextIO | None = None, banner: str = BANNER) -> None:
    lines = tolerant(lines or sys.stdin)
    out = out or sys.stdout
    sender = ConsoleSender(out)
    bot = build(settings, {"console": sender})
    bot.outbox.addresses = [f"{CHANNEL}:{user}"]  # this terminal's person only: others' messages wait for their own terminals
    sender.files = file_for_upload(bot.database)
    try:
        while await bot.outbox.deliver_due():  # what waited for this person while their terminal was closed
            pass
        print(banner.format(user=user), file=out, flush=True)
        while True:
            if lines is sys.stdin and sys.stdin.isatty():
                print("> ", end="", file=out, flush=True)
            line = await read_line(lines)
            if not line or line.strip() in ("/quit", "/exit"):
                break
            await asyncio.to_thread(bot.engine.handle, to_incoming(line.rstrip("\n"), user, language))
            while await bot.outbox.deliver_due():
                pass
    finally:
        bot.database.dispose()
