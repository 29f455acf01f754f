"""The world for end-to-end tests: the real app over real HTTP, against the stand-ins."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.jobs import QueueConfig
from sandbox.world import World, WorldOptions
from tests.conftest import IsolatedSettings


def world_options(database_url: str, **overrides: Any) -> WorldOptions:
    options: dict[str, Any] = {
        "database_url": database_url,
        "workers": 2,
        "scheduler": False,
        "queue": QueueConfig(lease_seconds=10, poll_seconds=0.5, backoff_base=0.2),
        "settings_class": IsolatedSettings,
    }
    # Attendee's bots step quickly; a test's options for a stand-in replace these.
    stand_ins = {"attendee": {"step_delay": 0.05, "webhook_backoff": 0.05}}
    stand_ins |= overrides.pop("stand_ins", {})
    options.update(overrides)
    return WorldOptions(**options, stand_ins=stand_ins)


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    async with World(world_options(database_url)) as started:
        yield started
