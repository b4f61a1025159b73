"""``onewindow outbox list|retry``: the replies that did not reach their
citizen, from the shell, as ``/outbox`` shows them to admins.

    onewindow outbox list [failed|held] [--limit N]
    onewindow outbox retry 12 15
    onewindow outbox retry all|failed|held
"""

from __future__ import annotations

import argparse
import sys

from bot.settings import Settings
from bot.wiring import open_store
from flows.i18n import text
from handlers.staff.outbox import code_of, line, retry, statuses_for
from storage import undelivered
from storage.db import session_scope

help = "list the replies that were not delivered (failed or held), or send them again"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["list", "retry"])
    parser.add_argument("which", nargs="*", metavar="ID|all|failed|held",
                        help="list: failed, held or all (the default); retry: message ids, or all, failed or held")
    parser.add_argument("--limit", type=int, default=50, help="how many to list, newest first (default 50)")


def run(args: argparse.Namespace) -> int:
    database = open_store(Settings.load().database)
    try:
        with session_scope(database) as session:
            if args.action == "list":
                return _list(session, args.which, args.limit)
            return _retry(session, args.which)
    finally:
        database.dispose()


def _list(session, which: list[str], limit: int) -> int:
    statuses = statuses_for(which[0] if which else "all")
    if statuses is None or len(which) > 1:
        print("onewindow outbox list takes failed, held or all.", file=sys.stderr)
        return 2
    rows, total = undelivered.stuck(session, statuses, max(1, limit))
    for row in rows:
        print(line(row, code_of(session, row)))
    print(f"{len(rows)} of {total} not delivered" + (" (onewindow outbox retry ID|all|failed|held sends them again)" if rows else ""), file=sys.stderr)
    return 0


def _retry(session, which: list[str]) -> int:
    queued, skipped = retry(session, which)
    if queued is None:
        print("onewindow outbox retry takes message ids, or all, failed or held.", file=sys.stderr)
        return 2
    print(text("en", "staff_outbox_retried_skipped" if skipped else "staff_outbox_retried", count=len(queued), skipped=skipped))
    if not queued and not skipped and which[:1] not in (["all"], ["failed"], ["held"]):
        print(f"No held or failed message {' '.join(which)}.", file=sys.stderr)
        return 1
    return 0
