"""``onewindow broadcast``: announcements from the shell, the same as
``/broadcast`` at the staff desk.

    onewindow broadcast create --to "place Guliston, lang uz" --text uz="Ertaga bozor" --text ru="Завтра базар"
    onewindow broadcast create --to "all" --numbers people.csv --text es="..." --at "2026-12-08 09:00" --yes
    onewindow broadcast confirm ID | cancel ID | status ID | list

``create`` prints the preview and keeps a draft; ``--yes`` confirms it at
once. ``--numbers`` adds the phone numbers or Telegram ids of a CSV (bad
rows are reported by line, and nothing is created while there are any).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot import broadcasting
from bot.catalog import Catalog
from bot.settings import Settings
from bot.wiring import open_store
from storage import broadcasts as store
from storage.db import session_scope

help = "announcements: create (preview, then confirm), confirm, cancel, status, list"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["create", "confirm", "cancel", "status", "list"])
    parser.add_argument("id", nargs="?", help="confirm, cancel, status: the announcement's number")
    parser.add_argument("--to", default="", help='the audience: "all", "place NAME, lang uz", "subscribers NAME", "channels NAME", ...')
    parser.add_argument("--text", action="append", default=[], metavar="LANG=TEXT", help="the text in one language (repeat for each)")
    parser.add_argument("--numbers", metavar="CSV", help="a CSV of phone numbers or Telegram ids to add to the audience")
    parser.add_argument("--at", help="when, in the place's local time: YYYY-MM-DD HH:MM (default: now)")
    parser.add_argument("--urgent", action="store_true", help="an emergency warning: it goes at night too")
    parser.add_argument("--fallback", help="the language whose text goes to citizens whose language has none")
    parser.add_argument("--yes", action="store_true", help="confirm at once, without a separate confirm")


def run(args: argparse.Namespace) -> int:
    if args.action in ("confirm", "cancel", "status") and not args.id:
        print(f"onewindow broadcast {args.action}: say which announcement (its number)", file=sys.stderr)
        return 2
    database = open_store(Settings.load().database)
    try:
        catalog = Catalog.from_store(database)
        with session_scope(database) as session:
            try:
                return ACTIONS[args.action](session, catalog, args)
            except broadcasting.BroadcastError as error:
                from flows.i18n import text

                print(f"onewindow broadcast: {text('en', error.key, value=error.value)}", file=sys.stderr)
                session.rollback()
                return 1
    finally:
        database.dispose()


def _create(session, catalog, args) -> int:
    audience = args.to
    if args.numbers:
        try:
            source = sys.stdin.read() if args.numbers == "-" else Path(args.numbers).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as problem:
            print(f"onewindow broadcast: cannot read {args.numbers}: {problem}", file=sys.stderr)
            return 1
        found, errors = broadcasting.read_numbers_csv(source)
        for line, cell in errors:
            print(f"{args.numbers}:{line}: «{cell}» is neither a phone number with its country code nor a Telegram id", file=sys.stderr)
        if errors:
            print("nothing was created: correct these rows, or remove them", file=sys.stderr)
            return 1
        audience = ", ".join(part for part in (audience, "numbers " + " ".join(found) if found else "") if part)
    texts = {}
    for given in args.text:
        language, sep, body = given.partition("=")
        if not sep:
            print(f"onewindow broadcast: --text {given!r}: write it as LANG=TEXT, e.g. uz=\"Ertaga bozor\"", file=sys.stderr)
            return 2
        texts[language] = body
    draft = broadcasting.compose(catalog, audience, texts, "en", at=args.at, urgent=args.urgent, fallback=args.fallback)
    created, counts = broadcasting.create(session, draft, "shell")
    total = sum(n for kind, n in counts.items() if kind != "skipped")
    print(f"Announcement #{created.id}: {broadcasting.describe(created.audience, catalog, 'en')}")
    print(f"reaches {total} ({', '.join(f'{k} {n}' for k, n in sorted(counts.items())) or '—'}), "
          f"{'at ' + broadcasting.local_time(created.send_at, created.audience['zone']) if created.send_at else 'now'}"
          f"{', urgent' if created.urgent else ''}")
    for language, body in created.texts.items():
        print(f"[{language}{'*' if language == created.fallback else ''}] {body}")
    if args.yes:
        broadcasting.confirm(session, created.id, "shell")
        print(f"confirmed: it goes {'at its time' if created.send_at else 'now'} (onewindow broadcast status {created.id})")
    else:
        print(f"a draft: send it with  onewindow broadcast confirm {created.id}")
    return 0


def _confirm(session, catalog, args) -> int:
    confirmed = broadcasting.confirm(session, broadcasting.find(session, args.id).id, "shell")
    print(f"Announcement #{confirmed.id} confirmed")
    return 0


def _cancel(session, catalog, args) -> int:
    cancelled, stopped = broadcasting.cancel(session, broadcasting.find(session, args.id).id)
    print(f"Announcement #{cancelled.id} cancelled; {stopped} messages not sent")
    return 0


def _status(session, catalog, args) -> int:
    item = broadcasting.find(session, args.id)
    counts = store.progress(session, item.id)
    print(f"Announcement #{item.id}: {item.status}; written to the outbox {item.recipients}")
    print(" · ".join(f"{status} {number}" for status, number in counts.items()))
    return 0


def _list(session, catalog, args) -> int:
    for item in broadcasting.recent(session, 50):
        when = broadcasting.local_time(item.send_at, item.audience.get("zone", "UTC")) if item.send_at else "now"
        print(f"#{item.id}  {item.status:<10} {when:<16}  {item.recipients:>7} people  {item.texts[item.fallback][:60]}")
    return 0


ACTIONS = {"create": _create, "confirm": _confirm, "cancel": _cancel, "status": _status, "list": _list}
