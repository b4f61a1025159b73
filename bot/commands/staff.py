"""``onewindow staff add|list|link``: the first admin, and staff from the shell.

    onewindow staff add --telegram 123456789 --role admin --name "Nodira K."
    onewindow staff add --console karim --role caseworker --department utilities
    onewindow staff add --console karim --role supervisor --update   # change someone already on the staff
    onewindow staff link "Nodira K."                                 # a one-time link to the web dashboard
"""

from __future__ import annotations

import argparse
import sys

from sqlmodel import select

from bot.settings import Settings
from bot.wiring import open_store
from handlers.staff import signin
from handlers.staff.context import ROLES
from handlers.staff.team import AlreadyStaff, add, changes_to, describe, find
from storage import sign_in
from storage.db import session_scope
from storage.models import Caseworker, Department

help = "add or list staff (caseworkers, supervisors, admins), or give one a sign-in link to the dashboard"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["add", "list", "link"])
    parser.add_argument("who", nargs="?", help="link: the person's name (or --telegram, --console, --address)")
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--telegram", metavar="USER_ID", help="their Telegram user id (a number)")
    who.add_argument("--console", metavar="NAME", help="their name in `onewindow chat --staff NAME`")
    who.add_argument("--address", help="any channel address, e.g. whatsapp:+5492215550134")
    parser.add_argument("--role", choices=ROLES, help="caseworker (the default for someone new), supervisor or admin")
    parser.add_argument("--department", help="a department id from storage/seed/routing.json")
    parser.add_argument("--name", help="how colleagues see them (link: whom the link is for)")
    parser.add_argument("--language", help="the language of the bot's answers to them (en by default)")
    parser.add_argument("--update", action="store_true", help="change someone already on the staff (what is not given is kept)")


def run(args: argparse.Namespace) -> int:
    settings = Settings.load()
    database = open_store(settings.database)
    with session_scope(database) as session:
        if args.action == "link":
            return _link(session, args, settings.web_url)
        if args.action == "list":
            for person in session.exec(select(Caseworker).where(Caseworker.active).order_by(Caseworker.id)):
                print(f"#{person.id}\t{person.name}\t{person.role}\t{person.department_id or '-'}\t{person.address}")
            return 0
        address = f"telegram:{args.telegram}" if args.telegram else f"console:{args.console}" if args.console else args.address
        if not address:
            print("Say who: --telegram USER_ID, --console NAME or --address ADDRESS.", file=sys.stderr)
            return 2
        if args.telegram and not args.telegram.isdigit():
            print("--telegram takes the numeric user id (ask them to send /start to @userinfobot).", file=sys.stderr)
            return 2
        if args.department and session.get(Department, args.department) is None:
            known = ", ".join(d.id for d in session.exec(select(Department)))
            print(f"No department {args.department!r}. Known: {known}", file=sys.stderr)
            return 2
        existing = find(session, address)
        changes = changes_to(existing, args.role, args.department, args.name, args.language) if existing and existing.active else None
        try:
            person = add(session, address, args.role, args.department, args.name, args.language, update=args.update)
        except AlreadyStaff as known:
            print(f"{address} is already staff (#{known.person.id} {known.person.name}, {known.person.role}); "
                  f"this would change {describe(known.changes)}. Add --update to change it.", file=sys.stderr)
            return 2
        if changes is not None:
            print(f"#{person.id} {person.name}: " + (f"changed {describe(changes)}" if changes else "nothing to change"))
        else:
            print(f"#{person.id} {person.name}: {person.role} in {person.department_id or 'every department'} ({address})")
    return 0


def _link(session, args: argparse.Namespace, web_url: str) -> int:
    """A one-time sign-in link (ten minutes) for someone on the staff, found by name or address."""
    address = f"telegram:{args.telegram}" if args.telegram else f"console:{args.console}" if args.console else args.address
    active = select(Caseworker).where(Caseworker.active)
    name = args.who or args.name or ""
    people = list(session.exec(active.where(Caseworker.address == address) if address else active.where(Caseworker.name == name)))
    if len(people) != 1:
        who = address or name
        problem = f"No one on the staff is {who!r}" if not people else f"{len(people)} people on the staff are called {who!r}; say who by address"
        print(f"{problem} (see: onewindow staff list).", file=sys.stderr)
        return 2
    token = sign_in.issue(session.connection(), people[0].id)
    print(f"A sign-in link for {people[0].name}, valid once within 10 minutes:")
    print(signin.link(web_url, token))
    return 0
