"""CPU work on untrusted input (verifying and parsing a request body) kept off the event loop.

Two ways, for two kinds of work:

- :func:`off_loop`, worker threads, for work that mostly releases the GIL (an HMAC over a big
  body: hashlib does) or whose input is already authentic. A body up to
  ``DEBRIEF_INLINE_PARSE_BYTES`` is handled where it is, which is cheaper than a thread hop.
- :func:`in_worker_process`, a small pool of processes, for work an unauthenticated sender can
  make expensive while it holds the GIL: parsing JSON to verify a signature over its canonical
  form (as one provider signs). In a thread, such work would keep the event loop waiting for the
  GIL at every turn (measured: a forged 256 KiB body at a time put a slash command's ack at 4.5 s);
  in another process it takes a core, never the loop. At most ``DEBRIEF_PARSE_PROCESSES`` such
  bodies are worked on at once and ``DEBRIEF_PARSE_QUEUE`` more wait; beyond that the request
  is refused at once (:class:`Busy`, a 429) and its memory freed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import concurrent.futures.process
import contextvars
import functools
import multiprocessing
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from bot.config import Settings

P = ParamSpec("P")
T = TypeVar("T")


class Busy(Exception):
    """Too many big bodies are already waiting to be verified: refuse this one (429)."""


@dataclass
class _Gate:
    slots: asyncio.Semaphore
    queue: int
    waiting: int = 0


#: One gate per event loop and kind of work (tests run several apps, and loops, in one process).
_GATES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, _Gate]] = (
    weakref.WeakKeyDictionary()
)
#: The worker processes, one pool per process, started on first use.
_POOL: list[concurrent.futures.ProcessPoolExecutor] = []


def _gate(kind: str, slots: int, queue: int) -> _Gate:
    gates = _GATES.setdefault(asyncio.get_running_loop(), {})
    if kind not in gates:
        gates[kind] = _Gate(asyncio.Semaphore(slots), queue)
    return gates[kind]


async def _bounded(gate: _Gate, start: Callable[[], asyncio.Future[T]]) -> T:
    if gate.waiting >= gate.queue:
        raise Busy("too many large requests are being verified; try again shortly")
    gate.waiting += 1
    try:
        await gate.slots.acquire()
    finally:
        gate.waiting -= 1
    try:
        running = start()
    except BaseException:
        gate.slots.release()
        raise
    # The slot is freed when the work is done, not when a caller that went away stops
    # waiting: otherwise abandoned requests would let more run at once than the cap.
    running.add_done_callback(lambda _: gate.slots.release())
    return await asyncio.shield(running)


async def off_loop(
    settings: Settings, size: int, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """``work(*args, **kwargs)``: here when ``size`` is small, else in a bounded worker thread
    (at most ``DEBRIEF_PARSE_THREADS`` at once, the rest waiting their turn).

    Raises:
        Busy: more than ``DEBRIEF_PARSE_QUEUE`` big bodies are waiting already.
    """
    if size <= settings.inline_parse_bytes:
        return work(*args, **kwargs)
    loop = asyncio.get_running_loop()
    call = functools.partial(contextvars.copy_context().run, work, *args, **kwargs)
    gate = _gate("thread", settings.parse_threads, settings.parse_queue)
    return await _bounded(gate, lambda: loop.run_in_executor(None, call))


async def in_worker_process(
    settings: Settings, size: int, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """``work(*args, **kwargs)``: here when ``size`` is small, else in a worker process;
    ``work`` and its arguments must pickle (a module-level function of bytes and strings).

    Raises:
        Busy: more than ``DEBRIEF_PARSE_QUEUE`` big bodies are waiting already.
    """
    if size <= settings.inline_parse_bytes:
        return work(*args, **kwargs)
    pool = _pool(settings)
    gate = _gate("process", settings.parse_processes, settings.parse_queue)
    call = functools.partial(work, *args, **kwargs)
    try:
        return await _bounded(gate, lambda: asyncio.wrap_future(pool.submit(call)))
    except concurrent.futures.process.BrokenProcessPool:
        # A worker died (killed for memory, say): the next request starts a new pool, and the
        # sender is asked to try again rather than answered 500.
        if _POOL and _POOL[0] is pool:
            _POOL.clear()
            pool.shutdown(wait=False, cancel_futures=True)
        raise Busy("the process verifying large requests stopped; try again shortly") from None


def _pool(settings: Settings) -> concurrent.futures.ProcessPoolExecutor:
    if not _POOL:
        # forkserver: workers start from a small clean process, not a fork of this one (its
        # threads, sockets and memory); a worker is replaced after a number of tasks, so that
        # what one huge body left in its heap is given back.
        _POOL.append(
            concurrent.futures.ProcessPoolExecutor(
                max_workers=settings.parse_processes,
                mp_context=multiprocessing.get_context("forkserver"),
                max_tasks_per_child=1000,
            )
        )
    return _POOL[0]


def shutdown() -> None:
    """Stop the worker processes, if any were started (the next use starts new ones)."""
    while _POOL:
        _POOL.pop().shutdown(wait=True, cancel_futures=True)
