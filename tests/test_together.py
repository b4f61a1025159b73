"""Webhooks that arrive together are handled together: what comes while a
batch is being handled waits for the next one and goes with the others;
each waiter gets its own result, a broken batch fails only its own, and a
waiter that gives up leaves its item handled all the same."""

from __future__ import annotations

import asyncio
import threading

import pytest

from handlers.together import Together


class Handler:
    """Doubles what it is given; the first batch waits until it is let go."""

    def __init__(self, broken: set[int] = frozenset()):
        self.batches: list[list[int]] = []
        self.first_may_finish = threading.Event()
        self.broken = broken

    def __call__(self, items: list[int]) -> list[int]:
        self.batches.append(list(items))
        if len(self.batches) == 1:
            self.first_may_finish.wait(5)
        if self.broken & set(items):
            raise ValueError("the store is away")
        return [item * 2 for item in items]


async def until(check) -> None:
    for _ in range(200):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


async def test_what_arrives_while_a_batch_is_handled_goes_together_in_the_next():
    handler = Handler()
    together = Together(handler)
    first = asyncio.ensure_future(together.submit(1))
    await until(lambda: handler.batches)
    later = [asyncio.ensure_future(together.submit(n)) for n in range(2, 7)]
    await asyncio.sleep(0.05)
    assert handler.batches == [[1]]  # the others wait: one batch at a time
    handler.first_may_finish.set()
    assert await first == 2
    assert await asyncio.gather(*later) == [4, 6, 8, 10, 12]  # each gets its own
    assert handler.batches == [[1], [2, 3, 4, 5, 6]]


async def test_a_batch_takes_at_most_so_many():
    handler = Handler()
    handler.first_may_finish.set()
    together = Together(handler, most=2)
    assert await asyncio.gather(*(together.submit(n) for n in range(5))) == [0, 2, 4, 6, 8]
    assert handler.batches == [[0, 1], [2, 3], [4]]


async def test_a_broken_batch_fails_its_own_waiters_only():
    handler = Handler(broken={3})
    together = Together(handler)
    first = asyncio.ensure_future(together.submit(1))
    await until(lambda: handler.batches)
    broken = [asyncio.ensure_future(together.submit(n)) for n in (2, 3)]
    await asyncio.sleep(0.01)
    handler.first_may_finish.set()
    assert await first == 2
    for waiter in broken:
        with pytest.raises(ValueError, match="the store is away"):
            await waiter
    assert await together.submit(4) == 8  # the next batch is not hurt


async def test_a_waiter_that_gives_up_leaves_its_item_handled():
    handler = Handler()
    together = Together(handler)
    waiter = asyncio.ensure_future(together.submit(1))
    await until(lambda: handler.batches)
    waiter.cancel()  # the channel hung up
    handler.first_may_finish.set()
    await asyncio.sleep(0.05)
    assert handler.batches == [[1]]
    assert await together.submit(2) == 4


async def test_lanes_run_batches_side_by_side():
    handler = Handler()
    together = Together(handler, lanes=2)
    first = asyncio.ensure_future(together.submit(1))
    await until(lambda: handler.batches)
    second = asyncio.ensure_future(together.submit(2))
    await until(lambda: len(handler.batches) == 2)  # not held behind the first
    assert await second == 4
    handler.first_may_finish.set()
    assert await first == 2


async def test_one_at_a_time_each_is_answered():
    handler = Handler()
    handler.first_may_finish.set()
    together = Together(handler)
    for n in range(50):
        assert await asyncio.wait_for(together.submit(n), 5) == 2 * n
    assert handler.batches == [[n] for n in range(50)]
