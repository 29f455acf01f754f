"""CPU work on untrusted input (verifying and parsing a request body) kept off the event loop.

A body up to ``DEBRIEF_INLINE_PARSE_BYTES`` is handled where it is, which is cheaper than a
thread hop; a bigger one in a worker thread, at most ``DEBRIEF_PARSE_THREADS`` at once in a
process, the rest waiting their turn. HMACs over a big body release the GIL (hashlib does) and
so run beside the loop; the parsers hold it, but each call on a body within its route's limit is
short, and between calls the loop runs.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import weakref
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from bot.config import Settings

P = ParamSpec("P")
T = TypeVar("T")

#: One gate per event loop (tests run several apps, and loops, in one process).
_GATES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _gate(loop: asyncio.AbstractEventLoop, settings: Settings) -> asyncio.Semaphore:
    gate = _GATES.get(loop)
    if gate is None:
        gate = _GATES[loop] = asyncio.Semaphore(settings.parse_threads)
    return gate


async def off_loop(
    settings: Settings, size: int, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """``work(*args, **kwargs)``: here when ``size`` is small, else in a bounded worker thread."""
    if size <= settings.inline_parse_bytes:
        return work(*args, **kwargs)
    loop = asyncio.get_running_loop()
    gate = _gate(loop, settings)
    await gate.acquire()
    call = functools.partial(contextvars.copy_context().run, work, *args, **kwargs)
    running = loop.run_in_executor(None, call)
    # The slot is freed when the thread is done, not when a caller that went away stops
    # waiting: otherwise abandoned requests would let more threads run than the cap.
    running.add_done_callback(lambda _: gate.release())
    return await asyncio.shield(running)
