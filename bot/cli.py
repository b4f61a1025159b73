"""The ``onewindow`` command line. A new command is one module in
``bot/commands`` (with ``help``, ``configure`` and ``run``) and one line in
:data:`COMMANDS`."""

from __future__ import annotations

import argparse
import importlib
import sys

from storage.db import StoreUnavailable

COMMANDS = {
    "run": "bot.commands.run",
    "chat": "bot.commands.chat",
    "classify": "bot.commands.classify",
    "db": "bot.commands.db",
    "catalog": "bot.commands.catalog",
    "staff": "bot.commands.staff",
    "export": "bot.commands.export",
    "outbox": "bot.commands.outbox",
    "visits": "bot.commands.visits",
    "broadcast": "bot.commands.broadcast",
    "report": "bot.commands.report",
    "import": "bot.commands.import_requests",
    "apikey": "bot.commands.apikey",
}


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="onewindow", description="A single window between citizens and public services.")
    sub = root.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        command = sub.add_parser(name, help=module.help, description=module.help)
        module.configure(command)
        command.set_defaults(handler=module.run, parser=command)
    return root


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """Like ``parse_args``, but a mistake after a command (``chat --usr x``)
    is reported with that command's usage, not the top-level one."""
    root = parser()
    args, extra = root.parse_known_args(argv)
    if extra:
        (getattr(args, "parser", None) or root).error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if not getattr(args, "handler", None):
        parser().print_help()
        return 2
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        return 130
    except StoreUnavailable as problem:  # every command that opens the store
        print(f"onewindow: {problem}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
