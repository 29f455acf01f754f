"""bot/offload.py: big bodies are worked on in threads, never more at once than the cap, even
when the requests that wanted them went away."""

from __future__ import annotations

import asyncio
import os
import threading
import time

import pytest

from bot.config import Settings
from bot.offload import Busy, in_worker_process, off_loop, shutdown


def settings(threads: int) -> Settings:
    return Settings(inline_parse_bytes=1024, parse_threads=threads)


async def test_a_small_body_is_worked_on_here_a_big_one_in_a_thread() -> None:
    here = threading.get_ident()
    small = await off_loop(settings(2), 1024, threading.get_ident)
    big = await off_loop(settings(2), 1025, threading.get_ident)
    assert small == here
    assert big != here


class Overlap:
    """Counts how many works run at once, at most."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.running = 0
        self.most = 0

    def work(
        self, until: threading.Event | None = None, started: threading.Event | None = None
    ) -> None:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        if started is not None:
            started.set()
        if until is not None:
            until.wait(10)
        else:
            time.sleep(0.02)  # long enough for the others to start, were they let
        with self._lock:
            self.running -= 1


async def test_no_more_big_bodies_at_once_than_the_cap() -> None:
    overlap = Overlap()
    await asyncio.gather(*(off_loop(settings(2), 10**6, overlap.work) for _ in range(8)))
    assert overlap.most == 2


async def test_a_caller_that_goes_away_keeps_its_slot_until_its_thread_is_done() -> None:
    overlap = Overlap()
    started, release = threading.Event(), threading.Event()
    first = asyncio.create_task(off_loop(settings(1), 10**6, overlap.work, release, started))
    await asyncio.to_thread(started.wait, 10)
    first.cancel()  # the request went away; its thread has not
    others = [asyncio.create_task(off_loop(settings(1), 10**6, overlap.work)) for _ in range(3)]
    await asyncio.sleep(0.1)  # room for the bug to show: another thread starting now
    release.set()
    await asyncio.gather(*others)
    assert overlap.most == 1


def settings_with_queue(queue: int) -> Settings:
    return Settings(inline_parse_bytes=1024, parse_threads=1, parse_queue=queue)


async def test_beyond_the_queue_a_big_body_is_refused_at_once() -> None:
    release = threading.Event()
    started = threading.Event()
    few = settings_with_queue(2)
    working = asyncio.create_task(off_loop(few, 10**6, Overlap().work, release, started))
    await asyncio.to_thread(started.wait, 10)
    waiting = [asyncio.create_task(off_loop(few, 10**6, time.monotonic)) for _ in range(2)]
    await asyncio.sleep(0)
    with pytest.raises(Busy):
        await off_loop(few, 10**6, time.monotonic)
    assert await off_loop(few, 10, threading.get_ident) == threading.get_ident(), "small: here"
    release.set()
    await asyncio.gather(working, *waiting)


def square(n: int) -> tuple[int, int]:
    return os.getpid(), n * n


async def test_a_big_body_verified_in_a_worker_process_small_ones_here() -> None:
    try:
        there = await in_worker_process(settings(1), 10**6, square, 7)
        here = await in_worker_process(settings(1), 10, square, 7)
    finally:
        await asyncio.to_thread(shutdown)
    assert there[1] == here[1] == 49
    assert here[0] == os.getpid()
    assert there[0] != os.getpid()


def die(code: int) -> None:
    os._exit(code)


async def test_a_worker_process_that_dies_is_a_busy_answer_and_replaced() -> None:
    try:
        with pytest.raises(Busy):
            await in_worker_process(settings(1), 10**6, die, 3)
        again = await in_worker_process(settings(1), 10**6, square, 3)
    finally:
        await asyncio.to_thread(shutdown)
    assert again[1] == 9
