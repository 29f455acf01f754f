"""Slack's rate limits, enforced only when the stand-in is asked to (``enforce_rate_limits``).

chat.postMessage allows about one message per second per channel with short bursts (a token
bucket per channel); other methods have per-minute tiers (a sliding window per method).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

# Calls per minute for each of Slack's tiers.
TIER_LIMITS = {1: 1, 2: 20, 3: 50, 4: 100}

METHOD_TIERS = {
    "auth.test": 4,
    "chat.update": 3,
    "chat.delete": 3,
    "chat.postEphemeral": 4,
    "chat.getPermalink": 4,
    "conversations.info": 3,
    "conversations.join": 3,
    "conversations.list": 2,
    "conversations.members": 4,
    "conversations.open": 3,
    "conversations.history": 3,
    "conversations.replies": 3,
    "users.info": 4,
    "users.list": 2,
    "users.conversations": 3,
    "users.lookupByEmail": 3,
    "views.open": 4,
    "views.push": 4,
    "views.update": 4,
    "views.publish": 4,
    "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4,
    "team.info": 3,
}


@dataclass
class _Bucket:
    tokens: float
    updated: float


class Pacer:
    """Answers how long a call must wait (seconds, rounded up) or ``None`` when it may proceed."""

    def __init__(
        self, clock: Callable[[], float], *, per_channel_rate: float = 1.0, burst: int = 3
    ) -> None:
        self.clock = clock
        self.per_channel_rate = per_channel_rate
        self.burst = burst
        self._buckets: dict[str, _Bucket] = {}
        self._windows: dict[str, deque[float]] = {}

    def check(self, method: str, channel: str | None = None) -> int | None:
        """Consume one call of ``method``; the Retry-After seconds if it is over the limit."""
        now = self.clock()
        if method == "chat.postMessage":
            return self._take_token(channel or "", now)
        tier = METHOD_TIERS.get(method)
        if tier is None:
            return None
        window = self._windows.setdefault(method, deque())
        while window and now - window[0] >= 60:
            window.popleft()
        if len(window) >= TIER_LIMITS[tier]:
            return max(1, math.ceil(60 - (now - window[0])))
        window.append(now)
        return None

    def _take_token(self, channel: str, now: float) -> int | None:
        bucket = self._buckets.setdefault(channel, _Bucket(float(self.burst), now))
        elapsed = max(0.0, now - bucket.updated)
        bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self.per_channel_rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return None
        return max(1, math.ceil((1 - bucket.tokens) / self.per_channel_rate))
