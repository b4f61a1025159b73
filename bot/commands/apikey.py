"""``onewindow apikey add|list|revoke``: the keys other systems file
requests with through the Open311 API (``/open311/v2/requests.json``).

    onewindow apikey add "La Plata city portal"   # prints the key, once
    onewindow apikey list
    onewindow apikey revoke 3                      # by id, or by the client's name
"""

from __future__ import annotations

import argparse
import sys

from bot.settings import Settings
from bot.wiring import open_store
from storage import api_keys

help = "keys for other systems that file requests through the Open311 API"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["add", "list", "revoke"])
    parser.add_argument("client", nargs="?", help="add: who the key is for; revoke: the key's id or the client's name")


def run(args: argparse.Namespace) -> int:
    if args.action != "list" and not (args.client or "").strip():
        print(f"onewindow apikey {args.action}: say which client, e.g. onewindow apikey {args.action} \"City portal\"", file=sys.stderr)
        return 2
    database = open_store(Settings.load().database)
    try:
        if args.action == "add":
            row, key = api_keys.add(database, args.client)
            print(f"Key #{row.id} for {row.name} (shown only now; keep it secret):")
            print(key)
            return 0
        if args.action == "revoke":
            revoked = api_keys.revoke(database, args.client.strip())
            if not revoked:
                print(f"onewindow apikey: no live key {args.client!r} (see onewindow apikey list)", file=sys.stderr)
                return 1
            for row in revoked:
                print(f"Revoked key #{row.id} of {row.name}.")
            return 0
        rows = api_keys.listed(database)
        if not rows:
            print("No API keys yet: onewindow apikey add \"Client name\"")
        for row in rows:
            state = f"revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "live"
            used = f"last used {row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never used"
            print(f"#{row.id}\t{row.name}\tmade {row.created_at:%Y-%m-%d}\t{used}\t{state}")
        return 0
    finally:
        database.dispose()
