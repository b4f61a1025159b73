"""``/outbox`` for admins: the replies that did not reach their citizen
(``failed`` after a day of retries or for a reason no retry cures, and
``held`` until the citizen writes), with the reason, the age and a masked
address; and sending them again. ``onewindow outbox`` does the same from
the shell with the same words.

    /outbox                  the latest held and failed messages
    /outbox failed|held      only those
    /outbox retry 12 15      those messages again
    /outbox retry all|failed|held
"""

from __future__ import annotations

from datetime import datetime

from flows.masking import mask
from handlers.staff.cards import age
from handlers.staff.context import Desk, Refusal
from storage import undelivered
from storage.models import Message, Request

USAGE = "/outbox [failed|held] | /outbox retry ID…|all|failed|held"
SHOWN = 20
REASON = 160  # characters of the reason in a line


def outbox(desk: Desk) -> None:
    words = desk.args.split()
    if words[:1] == ["retry"]:
        queued, skipped = retry(desk.session, words[1:])
        if queued is None:
            raise Refusal(desk.t("staff_usage", usage=USAGE))
        if not queued and not skipped and words[1:2] not in (["all"], ["failed"], ["held"]):
            raise Refusal(desk.t("staff_outbox_not_found", ids=" ".join(words[1:])))
        key = "staff_outbox_retried_skipped" if skipped else "staff_outbox_retried"
        desk.say(desk.t(key, count=len(queued), skipped=skipped))
        return
    statuses = statuses_for(words[0] if words else "all")
    if statuses is None or len(words) > 1:
        raise Refusal(desk.t("staff_usage", usage=USAGE))
    rows, total = undelivered.stuck(desk.session, statuses, SHOWN)
    if not rows:
        desk.say(desk.t("staff_outbox_empty"))
        return
    lines = [desk.t("staff_outbox_title", shown=len(rows), total=total)]
    lines += [line(row, code_of(desk.session, row)) for row in rows]
    lines.append(desk.t("staff_outbox_hint", retry_one="/outbox retry ID", retry_many="/outbox retry all|failed|held"))
    desk.say("\n".join(lines))


def statuses_for(word: str) -> tuple[str, ...] | None:
    return {"all": undelivered.STUCK, "failed": ("failed",), "held": ("held",)}.get(word.lower())


def retry(session, words: list[str]) -> tuple[list[int] | None, int]:
    """``12 15`` or ``all|failed|held``: (ids queued again, skipped); None: not understood."""
    if len(words) == 1 and (statuses := statuses_for(words[0])) is not None:
        return undelivered.send_again(session, statuses=statuses)
    ids = [int(word.lstrip("#")) for word in words if word.lstrip("#").isdigit()]
    if not words or len(ids) != len(words):
        return None, 0
    return undelivered.send_again(session, ids=ids)


def line(row: Message, code: str | None = None, now: datetime | None = None) -> str:
    """``#12 · failed · 3h · whatsapp:+54922****134 · KX7-4MP · Twilio 20500: …``:
    the age is the citizen's wait, since the message was queued."""
    reason = row.error or "—"
    contact, masked = row.address.partition(":")[2], mask(row.address).partition(":")[2]
    for quoted in (contact, contact.lstrip("+")):  # a channel's reason may quote the number
        if len(quoted) >= 5:
            reason = reason.replace(quoted, masked)
    if len(reason) > REASON:
        reason = reason[: REASON - 1] + "…"
    parts = [f"#{row.id}", row.status, age(row.created_at, now), mask(row.address)] + ([code] if code else []) + [reason]
    return " · ".join(parts)


def code_of(session, row: Message) -> str | None:
    """The tracking code of the request the message is about, if any."""
    request = session.get(Request, row.request_id) if row.request_id else None
    return request.code if request else None
