"""The caseworker command set: one queue for every channel, worked from a
chat with the bot (Telegram, a staff group, or the console).

A command is one function in a module of this package, registered in one
line of :mod:`handlers.staff.commands`, and listed by ``/help``.
"""

from handlers.staff.desk import StaffDesk

__all__ = ["StaffDesk"]
