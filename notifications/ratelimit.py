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
    """At most ``per_second`` sends arriving at the channel in any one second,
    evenly spaced.

    Two rules together. Each send has a due time one interval after the one
    before (a generic cell rate algorithm): it may go up to :data:`TOLERANCE`
    of an interval early, so a wake-up a millisecond late is made up by the
    next send instead of lost for good. And a window holds the limit itself
    whatever the network does: the channel counts a message when it arrives,
    somewhere between our sending it and its answer, so a send stays in the
    window from its start until a second after its answer (:meth:`wait`
    returns the call that says it was answered). A slow connection then
    delays the next sends instead of letting them arrive together with it.
    A 429 pauses it all."""

    def __init__(self, per_second: float, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep):
        self.rate = per_second
        self.limit = max(1, int(per_second))
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.clock, self.sleep = clock, sleep
        self.in_flight = 0
        self.answered: deque[float] = deque()  # when the sends of the last second were answered
        self.due = float("-inf")  # when the next send is due
        self.paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        """The channel said "too many, wait": nobody sends on it until then."""
        self.paused_until = max(self.paused_until, self.clock() + seconds)

    async def wait(self) -> Callable[[], None]:
        """Wait for a turn to send; call what it returns once the send is answered (or failed)."""
        async with self._lock:
            while (paused := self.paused_until - self.clock()) > 0:
                await self.sleep(paused)
            if self.rate <= 0:
                return _nothing
            while True:
                now = self.clock()
                while self.answered and now - self.answered[0] >= 1.0 - EPSILON:
                    self.answered.popleft()
                wait = 0.0
                if self.in_flight + len(self.answered) >= self.limit:
                    # the oldest answered leaves the window; or, all in flight, look again shortly
                    wait = self.answered[0] + 1.0 - now if self.answered else self.interval
                wait = max(wait, self.due - TOLERANCE * self.interval - now)
                if wait <= EPSILON:
                    self.in_flight += 1
                    self.due = max(self.due, now) + self.interval
                    return self._answered_once()
                await self.sleep(wait)

    def _answered_once(self) -> Callable[[], None]:
        answered = False

        def done() -> None:
            nonlocal answered
            if not answered:
                answered = True
                self.in_flight -= 1
                self.answered.append(self.clock())
        return done


def _nothing() -> None:
    pass


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
