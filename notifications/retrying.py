"""How long a reply keeps being tried, and saying so once.

A channel that is down (Twilio answering 500 or 429, connections refused)
must not cost a citizen their answer. A message that could not go is tried
again with exponential back-off capped at a few minutes (or after the
channel's own ``retry_after``), for ``OUTBOX_RETRY_HOURS`` (24 by default)
from its first failed try; only then is it ``failed``, and staff can still
send it again (``/outbox retry``, ``onewindow outbox retry``).

The logs hear of a message's trouble once, when it starts, with the
channel's error code and the masked address, never the text; then once
more when it ends: delivered after all, or given up. The tries in between
are DEBUG. A message that fails for a reason no retry cures (an invalid
number, a bot blocked by the citizen) is logged once, as it fails.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flows.masking import mask
from notifications.senders import SendResult
from storage.models import Message

log = logging.getLogger("notifications.outbox")


@dataclass(frozen=True)
class RetryPolicy:
    give_up_after: timedelta = timedelta(hours=24)
    max_delay: float = 300.0  # once the channel is back, a reply waits at most this long

    def delay(self, attempts: int, retry_after: float | None = None) -> float:
        """Seconds before the next try: 2, 4, 8 … up to :attr:`max_delay`,
        or what the channel asked for."""
        if retry_after is not None:
            return max(0.0, retry_after)
        return min(self.max_delay, 2.0 ** max(1, attempts))

    def record(self, row: Message, attempts: int, result: SendResult, now: datetime) -> None:
        """Write the outcome of one try on ``row`` (``attempts`` tries so far)."""
        row.error = result.error
        who = f"message {row.id} to {mask(row.address)}"
        code = result.code or "no error code"
        if result.status == "sent":
            if row.failing_since is not None:
                log.info("%s delivered after %d tries, %s after its first failure", who, attempts, _span(now - row.failing_since))
            row.status, row.sent_at, row.next_attempt_at, row.failing_since = "sent", now, None, None
            row.external_id = result.external_id or row.external_id
            return
        if result.status == "held":  # waits for the citizen; holding costs no attempt
            log.info("%s held until the citizen writes (%s)", who, code)
            row.status, row.next_attempt_at, row.attempts = "held", None, max(0, attempts - 1)
            return
        first = row.failing_since is None
        if first:
            row.failing_since = now
        if result.status == "retry" and now - row.failing_since < self.give_up_after:
            delay = self.delay(attempts, result.retry_after)
            row.status, row.next_attempt_at = "retry", now + timedelta(seconds=delay)
            if first:
                log.warning("%s not delivered (%s): trying again for up to %s", who, code, _span(self.give_up_after))
            else:
                log.debug("%s try %d not delivered (%s): next in %.0f s", who, attempts, code, delay)
            return
        row.status, row.next_attempt_at, row.failed_at = "failed", None, now
        if result.status == "retry":
            log.error("%s given up after %d tries over %s (%s); `/outbox retry %s` sends it again",
                      who, attempts, _span(now - row.failing_since), code, row.id)
        elif result.status == "blocked":
            log.warning("%s refused: the contact blocked the bot or opted out (%s); nothing more goes there", who, code)
        else:
            log.error("%s failed (%s), a reason retrying does not cure; `/outbox retry %s` sends it again", who, code, row.id)


def _span(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
