"""The table of staff commands. A new command: one function, one line here;
``/help`` lists it for everyone whose role reaches ``role``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from handlers.staff import broadcasts, learning, outbox, places, queue, requests, signin, team, visits
from handlers.staff.context import Desk


@dataclass(frozen=True)
class Command:
    run: Callable[[Desk], None]
    usage: str
    summary: str  # text key of a one-line description
    role: str = "caseworker"  # the least role allowed


COMMANDS: dict[str, Command] = {
    "help": Command(team.help, "/help", "staff_help_help"),
    "inbox": Command(queue.inbox, "/inbox [status] [category] [place] [dept:ID] [mine|unassigned|overdue|all]", "staff_help_inbox"),
    "show": Command(requests.show, "/show CODE", "staff_help_show"),
    "take": Command(requests.take, "/take CODE", "staff_help_take"),
    "assign": Command(requests.assign, "/assign CODE person-or-department", "staff_help_assign"),
    "reply": Command(requests.reply, "/reply CODE text", "staff_help_reply"),
    "ask": Command(requests.ask, "/ask CODE question", "staff_help_ask"),
    "note": Command(requests.note, "/note CODE text", "staff_help_note"),
    "status": Command(requests.status, "/status CODE status [note]", "staff_help_status"),
    "close": Command(requests.close, "/close CODE resolution", "staff_help_close"),
    "reopen": Command(requests.reopen, "/reopen CODE", "staff_help_reopen"),
    "merge": Command(requests.merge, "/merge CODE PRIMARY", "staff_help_merge"),
    "unlink": Command(requests.unlink, "/unlink CODE", "staff_help_unlink"),
    "category": Command(learning.category, "/category CODE CATEGORY", "staff_help_category"),
    "examples": Command(learning.examples, "/examples [remove ID]", "staff_help_examples", role="admin"),
    "find": Command(queue.find, "/find words", "staff_help_find"),
    "stats": Command(queue.stats, "/stats [days]", "staff_help_stats"),
    "dashboard": Command(signin.dashboard, "/dashboard", "staff_help_dashboard"),
    "places": Command(places.places, "/places", "staff_help_places"),
    "visit": Command(visits.visit, "/visit add|list|move|cancel|show|came", "staff_help_visit"),
    "demand": Command(visits.demand, "/demand [region|district]", "staff_help_demand", role="supervisor"),
    "broadcast": Command(broadcasts.broadcast, "/broadcast AUDIENCE | LANG: text … [| at DATE TIME] [| urgent] · confirm|cancel|status ID · list",
                         "staff_help_broadcast", role="supervisor"),
    "bazaar": Command(broadcasts.bazaar_days, "/bazaar add PLACE | every sunday 07:00 | LANG: text … · list · remove ID", "staff_help_bazaar",
                      role="supervisor"),
    "channels": Command(broadcasts.channels, "/channels add CHAT_ID PLACE [— title] · list · remove CHAT_ID", "staff_help_channels",
                        role="supervisor"),
    "staff": Command(team.staff, "/staff add|list|remove|invite", "staff_help_staff", role="admin"),
    "outbox": Command(outbox.outbox, "/outbox [failed|held] | retry ID…|all|failed|held", "staff_help_outbox", role="admin"),
}

# Open to anyone: the way in for a new member of staff.
OPEN = {"join": Command(team.join, "/join CODE", "staff_help_join", role="caseworker")}

# What the card buttons do (``s|ACTION|CODE``): the command each one runs.
BUTTON_ACTIONS = {
    "take": ("take", ""), "show": ("show", ""), "progress": ("status", "in_progress"),
    "close": ("status", "resolved"), "reopen": ("reopen", ""),
}
