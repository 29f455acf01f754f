"""Socket Mode: with SLACK_APP_TOKEN, Slack's commands, clicks and events reach Debrief over a
websocket that Debrief opens (Bolt's aiohttp adapter), with no signing secret and no public URL.

The Slack stand-in plays Slack's side for real: ``apps.connections.open`` hands out a ``ws://``
URL on loopback, the socket says ``hello``, requests travel as envelopes and come back acked.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.app import Options, create_web_app
from bot.config import load_settings
from handlers.action_items.blocks import ACTION_REMINDERS
from sandbox.slack import SlackStandIn
from tests.conftest import make_settings

APP_TOKEN = "xapp-1-A0DEBRIEF-0000-sandbox"


@asynccontextmanager
async def socket_app(
    database_url: str, **overrides: Any
) -> AsyncIterator[tuple[SlackStandIn, TestClient[Any, Any]]]:
    async with SlackStandIn(app_token=APP_TOKEN) as slack:
        assert slack.socket is not None
        settings = make_settings(
            slack_api_url=slack.api_url,
            slack_bot_token=slack.bot_token,
            slack_signing_secret=None,
            slack_app_token=APP_TOKEN,
            database_url=database_url,
            **overrides,
        )
        app = await create_web_app(settings, Options(workers=1, scheduler=False, migrate=True))
        async with TestClient(TestServer(app)) as client:
            async with asyncio.timeout(10):
                await slack.socket.wait_connected()
            yield slack, client


async def test_a_slash_command_arrives_over_the_socket_and_is_answered(database_url: str) -> None:
    async with socket_app(database_url) as (slack, _client):
        assert slack.socket is not None
        delivery = await slack.command("", "/debrief", "help")
        assert delivery.status == 200
        envelope, ack = slack.socket.envelopes[-1]
        assert envelope["type"] == "slash_commands"
        assert ack is not None and ack["envelope_id"] == envelope["envelope_id"]
        # The answer travels back in the ack and is shown to the person who typed it.
        shown = slack.ephemerals(slack.default_user)
        assert shown and "/debrief join" in str(shown[-1].blocks or shown[-1].text)


async def test_a_typo_gets_the_usage_line_over_the_socket(database_url: str) -> None:
    async with socket_app(database_url) as (slack, _client):
        await slack.command("", "/debrief", "jion https://zoom.us/j/1")
        text = str([(e.text, e.blocks) for e in slack.ephemerals(slack.default_user)])
        assert "jion" in text and "/debrief help" in text


async def test_an_event_and_a_click_arrive_over_the_socket(database_url: str) -> None:
    async with socket_app(database_url) as (slack, _client):
        assert slack.socket is not None
        await slack.open_home("")
        # app_home_opened is an Events API envelope; Debrief publishes the Home tab for it.
        home = None
        for _ in range(50):
            home = slack.home(slack.default_user)
            if home is not None:
                break
            await asyncio.sleep(0.05)
        assert home is not None
        # A click on the Home tab (the reminders switch) is an interactive envelope.
        delivery = await slack.click("", home, ACTION_REMINDERS)
        assert delivery.status == 200
        kinds = [e["type"] for e, _ack in slack.socket.envelopes]
        assert kinds == ["events_api", "interactive"]
        assert all(ack is not None for _e, ack in slack.socket.envelopes)


async def test_no_http_route_for_slack_without_a_signing_secret(database_url: str) -> None:
    async with socket_app(database_url) as (_slack, client):
        response = await client.post("/slack/events", data=b"command=%2Fdebrief")
        assert response.status == 404
        assert (await client.get("/healthz")).status == 200


async def test_it_reconnects_when_slack_asks_and_keeps_answering(database_url: str) -> None:
    async with socket_app(database_url) as (slack, _client):
        socket = slack.socket
        assert socket is not None
        assert socket.opened == 1
        await socket.disconnect("refresh_requested")
        for _ in range(100):
            if socket.opened == 2 and socket.connections:
                break
            await asyncio.sleep(0.05)
        assert socket.opened == 2
        delivery = await slack.command("", "/debrief", "help")
        assert delivery.status == 200
        assert len(slack.calls_to("/api/apps.connections.open")) == 2


async def test_a_wrong_app_token_is_refused_by_slack() -> None:
    async with SlackStandIn(app_token=APP_TOKEN) as slack:
        assert slack.socket is not None
        assert slack.socket.connections_open("xoxb-not-an-app-token")["error"] == (
            "not_allowed_token_type"
        )
        assert slack.socket.connections_open("xapp-1-wrong")["error"] == "invalid_auth"


def test_settings_need_no_signing_secret_in_socket_mode(monkeypatch: Any, tmp_path: Any) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_APP_TOKEN", APP_TOKEN)
    settings = load_settings()
    names = {p.setting for p in settings.problems()}
    assert "SLACK_BOT_TOKEN" not in names and "SLACK_SIGNING_SECRET" not in names
    # The app token is a secret like the others: redacted from every log line.
    assert APP_TOKEN in settings.secret_values()
    monkeypatch.setenv("SLACK_APP_TOKEN", "xoxb-wrong-kind")
    assert "SLACK_APP_TOKEN" in {p.setting for p in load_settings().problems()}
    monkeypatch.delenv("SLACK_APP_TOKEN")
    assert "SLACK_SIGNING_SECRET" in {p.setting for p in load_settings().problems()}
