"""The sandbox world runs the model stand-in and points DEBRIEF_LLM_* at it: the engine the
coordinator builds from those settings gets model answers, and the page's proxy steers them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.budgets import SharedBudgets
from handlers.model.settings import model_settings
from providers.llm import build_engine
from sandbox.llm import COMPLETIONS
from sandbox.world import World, WorldOptions, sqlite_url
from tests.understanding.conftest import FirstLineEngine
from understanding.model import UNUSABLE
from understanding.types import Turn

TURNS = [
    Turn(speaker="Ada", text="The launch plan needs a budget review.", start=0),
    Turn(speaker="Grace", text="I'll write the budget review by Thursday.", start=20),
]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    options = WorldOptions(
        database_url=sqlite_url(tmp_path / "w.db"), workers=0, scheduler=False, model=True
    )
    async with World(options) as started:
        yield started


async def test_the_world_runs_both_engines(world: World) -> None:
    settings = model_settings(world.services.settings)
    assert settings.url == world.llm.api_url and settings.key() == world.llm.api_key
    fallback = FirstLineEngine()
    engine = build_engine(
        settings, world.services.http, SharedBudgets(world.services.sessions), fallback
    )
    result = await engine.understand(TURNS)
    assert result.engine == "model" and result.action_items[0].owner == "Grace"
    [call] = world.llm.calls_to(COMPLETIONS)
    assert call.headers["Authorization"] == f"Bearer {world.llm.api_key}"

    # The page steers the stand-in through the Slack stand-in's proxy, as its buttons do.
    url = f"{world.slack.url}/_sandbox/providers/llm/llm/next"
    async with (
        aiohttp.ClientSession(headers=world.lock.headers()) as http,
        http.post(url, json={"answer": "invalid_json", "times": 3}) as steered,
    ):
        assert steered.status == 200 and (await steered.json())["next"] == ["invalid_json"] * 3
    fallen = await engine.understand(TURNS)
    assert fallen.engine == "embedded" and fallen.notice == UNUSABLE


async def test_the_sandbox_runs_debriefs_default_engine_unless_asked_for_the_model(
    world: World, tmp_path: Path
) -> None:
    # `debrief sandbox --model` (the fixture): the model engine, asking the stand-in.
    assert world.services.understanding.name == "model"
    plain = WorldOptions(database_url=sqlite_url(tmp_path / "p.db"), workers=0, scheduler=False)
    async with World(plain) as started:
        # `debrief sandbox`: the embedded engine, what Debrief runs with no model configured.
        assert started.services.understanding.name == "embedded"
        assert not model_settings(started.services.settings).enabled
