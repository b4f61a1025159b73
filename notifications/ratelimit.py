"""Pacing sends to what a channel allows.

:class:`RateLimiter` is a token bucket per channel (Telegram: 30 messages a
second per bot; WhatsApp: ``WHATSAPP_PER_SECOND``), which a 429 pauses for
the whole channel for as long as the channel said (``retry_after``).
:class:`ChatPacer` spaces the messages to one chat (Telegram: one a second
to a person, twenty a minute to a group or channel).

Both take the clock and the sleep they use, so tests run them on a fake
clock. Each process paces its own sends: with several processes sharing
the outbox, give each its share of the channel's rate (see the README).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class RateLimiter:
    def __init__(self, per_second: float, burst: int | None = None, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep):
        self.rate = per_second
        self.capacity = burst or max(1, int(per_second))
        self.clock, self.sleep = clock, sleep
        self.tokens = float(self.capacity)
        self.updated = clock()
        self.paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        """The channel said "too many, wait": nobody sends on it until then."""
        self.paused_until = max(self.paused_until, self.clock() + seconds)
        self.tokens = 0.0

    async def wait(self) -> None:
        async with self._lock:
            while (paused := self.paused_until - self.clock()) > 0:
                await self.sleep(paused)
                self.updated = self.clock()
            if self.rate <= 0:
                return
            while True:
                now = self.clock()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1 - 1e-9:  # a token's worth, give or take the float's rounding
                    self.tokens = max(0.0, self.tokens - 1)
                    return
                await self.sleep((1 - self.tokens) / self.rate)


class ChatPacer:
    """When the next message to one chat may go: ``interval(address)``
    seconds after the last one."""

    KEEP = 10_000  # chats remembered; older ones are past their interval anyway

    def __init__(self, interval: Callable[[str], float], *, clock: Clock = time.monotonic):
        self.interval, self.clock = interval, clock
        self.next_at: dict[str, float] = {}

    def delay(self, address: str) -> float:
        """Seconds to wait before sending to ``address`` now (0: at once)."""
        return max(0.0, self.next_at.get(address, 0.0) - self.clock())

    def sent(self, address: str) -> None:
        gap = self.interval(address)
        if gap <= 0:
            return
        now = self.clock()
        if len(self.next_at) >= self.KEEP:
            self.next_at = {a: t for a, t in self.next_at.items() if t > now}
        self.next_at[address] = now + gap
