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
from collections import deque
from collections.abc import Awaitable, Callable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
EPSILON = 1e-9  # a float's rounding, not a wait
TOLERANCE = 0.5  # of the interval between sends: how early a send may go to make up for a late one


class RateLimiter:
    """At most ``per_second`` sends in any one second, evenly spaced.

    Two rules together. Each send has a due time one interval after the one
    before (a generic cell rate algorithm): it may go up to :data:`TOLERANCE`
    of an interval early, so a wake-up a millisecond late is made up by the
    next send instead of lost for good, yet the sends never bunch into a
    burst that, shifted by the network on its way, would make more than the
    limit arrive within one second. And a sliding window of the last
    second's sends holds the limit itself, whatever the rounding. A 429
    pauses it."""

    def __init__(self, per_second: float, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep):
        self.rate = per_second
        self.limit = max(1, int(per_second))
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.clock, self.sleep = clock, sleep
        self.sent: deque[float] = deque()
        self.due = float("-inf")  # when the next send is due
        self.paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        """The channel said "too many, wait": nobody sends on it until then."""
        self.paused_until = max(self.paused_until, self.clock() + seconds)

    async def wait(self) -> None:
        async with self._lock:
            while (paused := self.paused_until - self.clock()) > 0:
                await self.sleep(paused)
            if self.rate <= 0:
                return
            while True:
                now = self.clock()
                while self.sent and now - self.sent[0] >= 1.0 - EPSILON:
                    self.sent.popleft()
                wait = self.sent[0] + 1.0 - now if len(self.sent) >= self.limit else 0.0
                wait = max(wait, self.due - TOLERANCE * self.interval - now)
                if wait <= EPSILON:
                    self.sent.append(now)
                    self.due = max(self.due, now) + self.interval
                    return
                await self.sleep(wait)


class ChatPacer:
    """When the next message to one chat may go. ``pace(address)`` gives
    the seconds between messages to that chat and how many may go at once
    (a reply of two or three messages is not held a second each; a run of
    them is)."""

    KEEP = 10_000  # chats remembered; older ones have their full allowance back anyway

    def __init__(self, pace: Callable[[str], tuple[float, int]], *, clock: Clock = time.monotonic):
        self.pace, self.clock = pace, clock
        self.allowance: dict[str, tuple[float, float]] = {}  # address -> (tokens, when counted)

    def _tokens(self, address: str, now: float) -> tuple[float, float, int]:
        interval, burst = self.pace(address)
        tokens, counted = self.allowance.get(address, (float(burst), now))
        return min(float(burst), tokens + (now - counted) / interval), interval, burst

    def delay(self, address: str) -> float:
        """Seconds to wait before sending to ``address`` now (0: at once)."""
        if address not in self.allowance:
            return 0.0
        tokens, interval, _ = self._tokens(address, self.clock())
        return 0.0 if tokens >= 1 - EPSILON else (1 - tokens) * interval

    def sent(self, address: str) -> None:
        interval, _ = self.pace(address)
        if interval <= 0:
            return
        now = self.clock()
        if len(self.allowance) >= self.KEEP:
            self.allowance = {a: v for a, v in self.allowance.items() if now - v[1] < 60}
        tokens, _, _ = self._tokens(address, now)
        self.allowance[address] = (max(0.0, tokens - 1), now)
