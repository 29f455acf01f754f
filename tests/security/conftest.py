"""The real app (a World: the app over HTTP against the stand-ins) in an event loop of its own
thread, so that hypothesis tests, which are synchronous, can send it requests over loopback.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from sandbox.world import World
from tests.e2e.conftest import world_options

T = TypeVar("T")


class Background:
    """An event loop running in a daemon thread; :meth:`run` waits for a coroutine on it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()


@pytest.fixture(scope="module")
def background_world(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Background, World]]:
    """One World on SQLite for a whole module of property tests (each example is a request)."""
    path: Path = tmp_path_factory.mktemp("world") / "debrief.db"
    background = Background()
    world = World(world_options(f"sqlite+aiosqlite:///{path}", workers=1))
    background.run(world.start())
    try:
        yield background, world
    finally:
        background.run(world.stop())
        background.close()
