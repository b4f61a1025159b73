"""Webhooks that arrive together, handled together (group commit).

A channel's webhook must not answer before its message is stored, and each
message's own transaction costs a commit: a flush to disk, the scarcest
thing a busy store has. So a webhook hands its message to :class:`Together`
and waits: the first starts a batch at once; those that arrive while a batch
is being handled wait for the next one, which takes them all (up to
``most``) in one call, one transaction. Each waiter gets its own result, or
the exception that broke its batch, and answers only then. Under light load
nothing waits for anything; under heavy load the commits are shared.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Together(Generic[T, R]):
    def __init__(self, handle_many: Callable[[list[T]], list[R]], *, executor: Executor | None = None,
                 most: int = 50, lanes: int = 1):
        """``handle_many`` runs in ``executor`` (the default thread pool if
        None) and returns one result per item, in order; ``lanes`` batches
        may run at once (one on SQLite, which has one writer)."""
        self._handle_many = handle_many
        self._executor = executor
        self._most = most
        self._lanes = lanes
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._busy = 0  # lanes draining now; counted down in the very step that finds nothing left waiting
        self._tasks: set[asyncio.Task] = set()

    async def submit(self, item: T) -> R:
        """``item``'s result once its batch is done (or that batch's exception)."""
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if self._busy < self._lanes:
            self._busy += 1
            lane = asyncio.ensure_future(self._drain())
            self._tasks.add(lane)
            lane.add_done_callback(self._tasks.discard)
        return await asyncio.shield(done)  # a waiter that gives up leaves its item to be handled all the same

    async def _drain(self) -> None:
        try:
            await self._drain_waiting()
        finally:
            self._busy -= 1

    async def _drain_waiting(self) -> None:
        loop = asyncio.get_running_loop()
        while self._waiting:
            batch, self._waiting = self._waiting[:self._most], self._waiting[self._most:]
            try:
                results = await loop.run_in_executor(self._executor, self._handle_many, [item for item, _ in batch])
                if len(results) != len(batch):
                    raise RuntimeError(f"{len(batch)} items handled together gave {len(results)} results")
            except Exception as error:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(error)
                continue
            for (_, done), result in zip(batch, results):
                if not done.done():
                    done.set_result(result)
