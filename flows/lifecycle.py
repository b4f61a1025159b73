"""A request's life: its statuses, the moves allowed between them, and what
the citizen is told at each.

``new -> in_progress -> waiting_citizen -> resolved -> closed``, plus
``duplicate`` (merged into a primary) and ``reopened``. Every move is an
event on record; the moves a citizen should know about are pushed to them in
their language with the tracking code.
"""

from __future__ import annotations

from flows.i18n import text

STATUSES = ("new", "in_progress", "waiting_citizen", "resolved", "closed", "duplicate", "reopened")
OPEN = frozenset({"new", "in_progress", "waiting_citizen", "reopened"})
FINISHED = frozenset({"closed", "duplicate"})

ALLOWED: dict[str, frozenset[str]] = {
    "new": frozenset({"in_progress", "waiting_citizen", "resolved", "closed", "duplicate"}),
    "in_progress": frozenset({"waiting_citizen", "resolved", "closed", "duplicate", "new"}),
    "waiting_citizen": frozenset({"in_progress", "resolved", "closed", "duplicate"}),
    "resolved": frozenset({"closed", "reopened", "in_progress"}),
    "closed": frozenset({"reopened"}),
    "duplicate": frozenset({"reopened"}),
    "reopened": frozenset({"in_progress", "waiting_citizen", "resolved", "closed", "duplicate"}),
}

# The status a citizen hears about, and the text that tells them.
PUSHED = {
    "in_progress": "push_in_progress",
    "waiting_citizen": "push_waiting_citizen",
    "resolved": "push_resolved",
    "closed": "push_closed",
    "duplicate": "push_duplicate",
    "reopened": "push_reopened",
}


def can_move(current: str, target: str) -> bool:
    return target in ALLOWED.get(current, frozenset())


def parse_status(word: str) -> str | None:
    """A status as staff type it: ``in progress``, ``in-progress``, ``waiting``…"""
    cleaned = word.strip().lower().replace("-", "_").replace(" ", "_")
    aliases = {"waiting": "waiting_citizen", "progress": "in_progress", "open": "in_progress", "done": "resolved", "merged": "duplicate"}
    cleaned = aliases.get(cleaned, cleaned)
    return cleaned if cleaned in STATUSES else None


def notice(language: str | None, code: str, status: str, note: str | None = None) -> str | None:
    """What the citizen is told when their request moves to ``status``."""
    key = PUSHED.get(status)
    if key is None:
        return None
    message = text(language, key, code=code)
    return f"{message}\n{note}" if note else message
