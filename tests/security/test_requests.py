"""Requests that must be refused, through the real app over HTTP: forged, stale and replayed
Slack requests (Bolt's signature check), oversized and compression-bomb bodies (413), and
meeting links whose host resolves to a private, loopback or link-local address.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest

from sandbox.slack import driver
from sandbox.slack.signing import sign
from sandbox.world import World
from tests.e2e.conftest import world_options

LIMIT = 64 * 1024


@pytest.fixture
async def world(sqlite_url: str) -> AsyncIterator[World]:
    options = world_options(sqlite_url, settings={"max_webhook_bytes": LIMIT})
    async with World(options) as started:
        yield started


def command_body(world: World, text: str) -> bytes:
    form = driver.command_form(
        world.slack.workspace,
        command="/debrief",
        text=text,
        user_id="U0ADA",
        channel_id="C0MEETINGS",
        verification_token=world.slack.verification_token,
    )
    return urlencode(form).encode()


def nothing_happened(world: World) -> bool:
    return not world.attendee.bots and not world.slack.ephemerals("U0ADA")


async def test_a_forged_signature_is_refused(world: World) -> None:
    body = command_body(world, "join https://zoom.us/j/123456789")
    forged = await world.slack.deliver(world.app_url, body, signature="v0=" + "0" * 64)
    wrong_secret = await world.slack.deliver(
        world.app_url, body, signature=sign("not-the-secret", int(time.time()), body)
    )
    unsigned = await world.slack.post(world.app_url + "/slack/events", body, {})
    assert (forged.status, wrong_secret.status, unsigned[0]) == (401, 401, 401)
    await world.settle()
    assert nothing_happened(world)


async def test_a_tampered_body_is_refused(world: World) -> None:
    body = command_body(world, "bots")
    stamp = int(time.time())
    tampered = body.replace(b"text=bots", b"text=join+https%3A%2F%2Fzoom.us%2Fj%2F1")
    delivery = await world.slack.deliver(
        world.app_url,
        tampered,
        timestamp=stamp,
        signature=sign(world.slack.signing_secret, stamp, body),
    )
    assert delivery.status == 401
    assert nothing_happened(world)


@pytest.mark.parametrize("skew", [-301, -3600, 301])
async def test_a_stale_or_future_request_is_refused_though_signed(world: World, skew: int) -> None:
    # What a captured request replayed more than five minutes later looks like.
    body = command_body(world, "join https://zoom.us/j/123456789")
    delivery = await world.slack.deliver(world.app_url, body, timestamp=int(time.time()) + skew)
    assert delivery.status == 401
    await world.settle()
    assert nothing_happened(world)


async def test_a_forged_button_click_is_refused(world: World) -> None:
    payload = {"type": "block_actions", "actions": [{"action_id": "attendee.leave", "value": "b"}]}
    body = urlencode({"payload": json.dumps(payload)}).encode()
    delivery = await world.slack.deliver(world.app_url, body, signature="v0=" + "f" * 64)
    assert delivery.status == 401


async def test_a_replay_inside_the_window_is_accepted_but_sends_one_notetaker(world: World) -> None:
    """Bolt refuses replays only once they are five minutes old; inside that window the
    request is authentic and acted on again, so the actions must be idempotent."""
    body = command_body(world, "join https://zoom.us/j/123456789")
    stamp = int(time.time())
    first = await world.slack.deliver(world.app_url, body, timestamp=stamp)
    replay = await world.slack.deliver(world.app_url, body, timestamp=stamp)
    assert (first.status, replay.status) == (200, 200)
    assert "Sending a notetaker" in first.json["text"]
    assert "already on its way" in replay.json["text"]
    await world.settle()
    assert len(world.attendee.bots) == 1


async def test_an_oversized_webhook_is_413(world: World) -> None:
    big = b'{"padding": "' + b"x" * (LIMIT + 1) + b'"}'
    status, _ = await world.slack.post(
        world.app_url + "/webhooks/attendee", big, {"X-Webhook-Signature": "x"}
    )
    assert status == 413


async def test_a_compression_bomb_is_413_not_inflated(world: World) -> None:
    bomb = gzip.compress(b'{"a": "' + b"0" * (20 * LIMIT) + b'"}')
    assert len(bomb) < LIMIT // 8
    headers = {"Content-Encoding": "gzip", "X-Webhook-Signature": "x"}
    status, _ = await world.slack.post(world.app_url + "/webhooks/attendee", bomb, headers)
    assert status == 413
    status, _ = await world.slack.post(world.app_url + "/slack/events", bomb, headers)
    assert status == 413


async def test_an_undecodable_webhook_body_is_400(world: World) -> None:
    headers = {"Content-Encoding": "gzip", "X-Webhook-Signature": "x"}
    status, _ = await world.slack.post(world.app_url + "/webhooks/attendee", b"\0\0", headers)
    assert status == 400


async def test_an_undecodable_slack_body_is_400(world: World) -> None:
    headers = {"Content-Encoding": "gzip"}
    status, _ = await world.slack.post(world.app_url + "/slack/events", b"\0\0", headers)
    assert status == 400


async def test_an_oversized_slack_request_is_413(world: World) -> None:
    body = command_body(world, "x" * (2 * LIMIT + 1))
    delivery = await world.slack.deliver(world.app_url, body)
    assert delivery.status == 413


PRIVATE_HOSTS = {
    "inside.zoom.us": ["10.0.0.5"],
    "router.zoom.us": ["192.168.1.1"],
    "loop.zoom.us": ["127.0.0.1"],
    "metadata.zoom.us": ["169.254.169.254"],
    "v6loop.zoom.us": ["::1"],
    "v6link.zoom.us": ["fe80::1"],
    "mapped.zoom.us": ["::ffff:10.1.2.3"],
    "mixed.zoom.us": ["170.114.52.2", "172.16.0.9"],
}


@pytest.fixture
async def dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's event loop resolves the test's hosts as the table says."""
    loop = asyncio.get_running_loop()
    real = loop.getaddrinfo
    table = {**PRIVATE_HOSTS, "public.zoom.us": ["170.114.52.2"]}

    async def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in table:
            return await real(host, port, *args, **kwargs)
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, 0))
            for a in table[host]
        ]

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize("host", sorted(PRIVATE_HOSTS))
async def test_a_meeting_host_resolving_to_a_private_address_is_refused(
    world: World, dns: None, host: str
) -> None:
    delivery = await world.slack.command(
        world.app_url, "/debrief", f"join https://{host}/j/123456789", channel_id="C0MEETINGS"
    )
    assert "private or local address" in delivery.json["text"]
    await world.settle()
    assert not world.attendee.bots


async def test_a_meeting_host_resolving_to_a_public_address_is_sent(
    world: World, dns: None
) -> None:
    delivery = await world.slack.command(
        world.app_url,
        "/debrief",
        "join https://public.zoom.us/j/123456789",
        channel_id="C0MEETINGS",
    )
    assert "Sending a notetaker" in delivery.json["text"]
    await world.eventually(lambda: world.attendee.bots)
