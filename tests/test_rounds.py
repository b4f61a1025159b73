"""Delivery rounds: how much of a channel's queue one claim takes, and the
count of claimed messages still going that the next claim waits on."""

from __future__ import annotations

import asyncio

import pytest

from notifications.rounds import BATCH, MIN_ROUND, InFlight, round_size


@pytest.mark.parametrize("per_second, size", [
    (0, BATCH),        # no limit: a whole batch at once
    (-1, BATCH),
    (1, MIN_ROUND),    # a slow channel still claims a few at a time
    (8, MIN_ROUND),
    (10, 5),           # about half a second of sends
    (30, 15),
    (80, 40),
    (10_000, BATCH),   # never more than a batch
])
def test_a_round_is_about_half_a_second_of_a_channels_sends(per_second, size):
    assert round_size(per_second) == size


async def test_the_next_claim_waits_until_at_most_half_the_last_is_still_going():
    in_flight = InFlight()
    in_flight.add(6)
    in_flight.add(4)
    assert in_flight.count == 10

    waiting = asyncio.create_task(in_flight.at_most(5))
    for still_going in (9, 8, 7, 6):
        in_flight.done(1)
        await asyncio.sleep(0)
        assert not waiting.done(), f"woke with {still_going} still going"
    in_flight.done(1)  # five left: at most five
    await asyncio.wait_for(waiting, 1)
    assert in_flight.count == 5

    await asyncio.wait_for(in_flight.at_most(5), 1)  # already so: no wait
    in_flight.done(5)
    assert in_flight.count == 0
