"""Delivery rounds: how much of a channel's queue one claim takes, and how
many claimed messages are still going.

A channel's loop (:meth:`notifications.outbox.Outbox.run`) claims about half
a second of its sends at a time and claims the next round once half of the
last is out, so the channel never waits on the store and a reply queued
meanwhile waits behind at most about a round of announcements.
"""

from __future__ import annotations

import asyncio
import math
from collections import defaultdict

BATCH = 100  # most messages claimed at once
ROUND_SECONDS = 0.5  # a round claims about this many seconds of a channel's sends...
MIN_ROUND = 4  # ...and never fewer messages than this


def round_size(per_second: float) -> int:
    """About :data:`ROUND_SECONDS` of a channel's sends (all of a batch when it has no limit)."""
    if per_second <= 0:
        return BATCH
    return max(MIN_ROUND, min(BATCH, math.ceil(per_second * ROUND_SECONDS)))


def by_address(claimed: list) -> dict[str, list]:
    """Claimed ``(id, attempts, outgoing)`` items grouped per address, each
    address's in the order claimed (the order they must go)."""
    grouped: dict[str, list] = defaultdict(list)
    for item in claimed:
        grouped[item[2].address].append(item)
    return grouped


class InFlight:
    """How many claimed messages are not yet done, and a way to wait until few are."""

    def __init__(self) -> None:
        self.count = 0
        self.changed = asyncio.Event()

    def add(self, n: int) -> None:
        self.count += n

    def done(self, n: int) -> None:
        self.count -= n
        self.changed.set()

    async def at_most(self, n: int) -> None:
        while self.count > n:
            self.changed.clear()
            await self.changed.wait()
