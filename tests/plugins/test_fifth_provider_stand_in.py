"""Acme Notes' sandbox stand-in and routing target, declared on its descriptor in tests/ (no
other file knows of them): a World built with it starts the stand-in, gives the app its
settings, shows it on the sandbox page and delivers its signed webhooks, and routing takes
its folder kind."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from handlers.digest import render
from handlers.routing import rules
from sandbox.world import World
from tests.e2e.conftest import world_options
from tests.plugins.fake_provider import SIGNATURE, AcmeClient
from tests.plugins.fake_standin import AcmePlugin, AcmeStandIn
from tests.plugins.test_fifth_provider import WITH_ACME


@pytest.fixture(autouse=True)
def forget_acme(monkeypatch: pytest.MonkeyPatch) -> None:
    # What an app registers of its providers is process-wide: Acme's goes with this test.
    monkeypatch.setattr(render, "REGISTERED_NAMES", {})
    monkeypatch.setattr(rules, "REGISTERED_FOLDERS", {})


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    async with World(world_options(database_url, providers=WITH_ACME)) as started:
        yield started


async def page(world: World, path: str, body: Any = None) -> Any:
    """What the sandbox page gets from the Slack stand-in at ``path`` (a POST with ``body``)."""
    async with (
        aiohttp.ClientSession(headers=world.lock.headers()) as http,
        http.request(
            "GET" if body is None else "POST", f"{world.slack.url}{path}", json=body
        ) as response,
    ):
        assert response.status == 200, await response.text()
        return await response.json()


async def command(world: World, text: str) -> str:
    delivery = await world.slack.command(
        world.app_url, "/debrief", text, user_id="U0ADA", channel_id="C0GENERAL"
    )
    assert delivery.status == 200, delivery.body
    return json.dumps(delivery.json, ensure_ascii=False)


async def test_a_world_runs_the_stand_in_its_descriptor_declares(world: World) -> None:
    plugin = world.stand_ins["acme"]
    assert isinstance(plugin, AcmePlugin)
    acme = world.stand_in("acme", AcmeStandIn)
    assert acme.url.startswith("http://127.0.0.1:"), "started"
    # The app is given its settings: its client's key, and the secret its webhooks are
    # signed with.
    assert world.services.client(AcmeClient).api_key == plugin.api_key
    assert world.services.settings.secret("acme_webhook_secret") == acme.webhook_secret
    # The page lists it with the section it declares, and reads its state through the proxy.
    config = await page(world, "/_sandbox/config")
    assert config["providers"]["acme"] == acme.url
    assert config["panels"]["acme"] == {"title": "Acme Notes", "state": "acme/state"}
    state = await page(world, "/_sandbox/providers/acme/acme/state")
    assert state["webhook"] == f"{world.app_url}/webhooks/acme", "connected once the app listened"
    (control,) = state["controls"]

    # Its folder routes: the page's button files a meeting in "Launch", whose digest goes to
    # #eng; one in another folder goes to the default channel.
    assert "Route #1 added" in await command(world, "route acme-folder:Launch #eng")
    answer = await page(world, f"/_sandbox/providers/acme/{control['path']}", control["body"])
    assert answer["deliveries"] == [{"status": 200, "state": "sent"}]
    (digest,) = await world.eventually(lambda: world.slack.messages("C0ENG"))
    await world.settle()
    assert "Acme launch review" in json.dumps(digest.blocks)
    assert world.slack.messages("C0MEETINGS") == []
    (delivery,) = acme.outbox.records
    assert delivery.ok and SIGNATURE in delivery.headers

    body = {"title": "Acme budget review", "folder": "Finance"}
    await page(world, "/_sandbox/providers/acme/acme/meetings", body)
    (elsewhere,) = await world.eventually(lambda: world.slack.messages("C0MEETINGS"))
    assert "Acme budget review" in json.dumps(elsewhere.blocks)
    assert len(world.slack.messages("C0ENG")) == 1


async def test_routing_lists_and_describes_its_folder_kind(world: World) -> None:
    usage = await command(world, "route nowhere:x #eng")  # as Slack shows it: < and > escaped
    assert "`acme-folder:&lt;Acme folder name&gt;`" in usage
    assert "`otter-channel:" in usage, "beside the registry's"
    await command(world, "route acme-folder:Launch #eng")
    assert "Acme Notes meetings in the folder “launch”" in await command(world, "routes")
