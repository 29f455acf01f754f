"""A small per-process cache whose entries expire a fixed time after they were stored."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

#: Entries kept per cache before the expired ones are dropped.
CACHE_ENTRIES = 10_000

Value = TypeVar("Value")


class TTLCache(Generic[Value]):
    """Entries expire ``ttl`` seconds after they were stored; a ``ttl`` of 0 keeps nothing."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[float, Value]] = {}

    def get(self, key: str) -> Value | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._entries[key]
            return None
        return entry[1]

    def put(self, key: str, value: Value) -> None:
        if self.ttl <= 0:
            return
        now = self._clock()
        if len(self._entries) >= CACHE_ENTRIES:
            self._entries = {k: e for k, e in self._entries.items() if e[0] > now}
            if len(self._entries) >= CACHE_ENTRIES:
                self._entries.clear()
        self._entries[key] = (now + self.ttl, value)

    def forget(self, key: str) -> None:
        self._entries.pop(key, None)
