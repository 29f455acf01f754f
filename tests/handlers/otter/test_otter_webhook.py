"""`POST /webhooks/otter`: authentication, de-duplication, and the digest it leads to."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from typing import Any, Literal

import pytest

from handlers.otter.jobs import JOB_AWAIT, JOB_WEBHOOK
from providers.otter import SIGNATURE_HEADER, sign
from sandbox.otter import OtterStandIn
from tests.handlers.digest.support import OTTER, Rig, otter_payload, rig, text_of

SECRET = "otter-webhook-secret-for-tests"
DIGESTS = "C0MEETINGS"


@pytest.fixture
async def otter() -> AsyncIterator[OtterStandIn]:
    async with OtterStandIn(seed=False, requests_per_second=None) as stand_in:
        yield stand_in


def signed(body: bytes, encoding: Literal["hex", "base64"] = "hex") -> dict[str, str]:
    return {SIGNATURE_HEADER: sign(body, SECRET, encoding), "Content-Type": "application/json"}


async def post(r: Rig, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    response = await r.client.post("/webhooks/otter", data=body, headers=headers)
    return response.status, await response.json()


async def test_refused_when_no_secret_is_configured(sqlite_url: str) -> None:
    body = (OTTER / "webhook_conversation_completed.json").read_bytes()
    async with rig(sqlite_url) as r:
        status, answer = await post(r, body, signed(body))
        assert status == 401 and "OTTER_WEBHOOK_SECRET" in answer["error"]
        assert await r.jobs(JOB_WEBHOOK) == []


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {SIGNATURE_HEADER: "00" * 32},
        {"Authorization": "Bearer not-the-secret"},
        {"Authorization": "Basic " + "x" * 20},
    ],
    ids=["unsigned", "bad-hmac", "bad-bearer", "basic"],
)
async def test_unauthenticated_deliveries_are_refused(
    sqlite_url: str, headers: dict[str, str]
) -> None:
    body = (OTTER / "webhook_conversation_completed.json").read_bytes()
    async with rig(sqlite_url, otter_webhook_secret=SECRET) as r:
        status, _ = await post(r, body, headers)
        assert status == 401
        assert await r.jobs(JOB_WEBHOOK) == []


@pytest.mark.parametrize("scheme", ["hex", "base64", "bearer"])
async def test_each_configured_scheme_is_accepted(sqlite_url: str, scheme: str) -> None:
    body = (OTTER / "webhook_conversation_completed.json").read_bytes()
    headers = (
        {"Authorization": f"Bearer {SECRET}"}
        if scheme == "bearer"
        else signed(body, "hex" if scheme == "hex" else "base64")
    )
    async with rig(sqlite_url, otter_webhook_secret=SECRET) as r:
        assert await post(r, body, headers) == (200, {"status": "accepted"})


async def test_a_redelivery_is_dropped_and_the_digest_posted_once(
    database_url: str, otter: OtterStandIn
) -> None:
    body = (OTTER / "webhook_conversation_completed.json").read_bytes()
    async with rig(database_url, otter, otter_webhook_secret=SECRET, digest_channel=DIGESTS) as r:
        answers = [await post(r, body, signed(body)) for _ in range(3)]
        assert [a[1]["status"] for a in answers] == ["accepted", "duplicate", "duplicate"]
        await r.drain()
        (parent,) = r.slack.messages(DIGESTS)
        assert "Customer Discovery Call – ACME Corp" in text_of(parent.blocks)
        assert otter.calls == [], "the payload was complete: no fetch"


async def test_an_incomplete_payload_costs_exactly_one_fetch(
    sqlite_url: str, otter: OtterStandIn
) -> None:
    otter.add_record(otter_payload("conversation_all")["data"])
    body = (OTTER / "webhook_nested_relationships.json").read_bytes()
    async with rig(sqlite_url, otter, otter_webhook_secret=SECRET, digest_channel=DIGESTS) as r:
        assert (await post(r, body, signed(body)))[1] == {"status": "accepted"}
        await r.drain()
        (fetch,) = otter.calls
        assert fetch.path == "/v1/conversations/conversation_id"
        assert fetch.query == {"include": "action_items,insights,outlines,transcript"}
        (parent,) = r.slack.messages(DIGESTS)
        assert "Customer Discovery Call" in text_of(parent.blocks)


async def test_announced_but_unfinished_waits_for_processing(
    sqlite_url: str, otter: OtterStandIn
) -> None:
    conversation_id = otter.add_conversation("Board meeting", summary="Numbers.")
    payload = json.loads(otter.webhook_body(conversation_id))
    async with rig(
        sqlite_url,
        otter,
        otter_webhook_secret=SECRET,
        digest_channel=DIGESTS,
    ) as r:
        body = json.dumps(payload).encode()
        await post(r, body, signed(body))
        await r.drain()
        assert r.slack.messages(DIGESTS) == []
        assert [j.status for j in await r.jobs(JOB_AWAIT)] == ["queued"]
        await r.make_due()
        await r.drain()
        assert r.slack.messages(DIGESTS) == [], "still processing: it waits again"
        await otter.finish_processing(conversation_id)
        await r.make_due()
        await r.drain()
        (parent,) = r.slack.messages(DIGESTS)
        assert "Board meeting" in text_of(parent.blocks) and "Numbers." in text_of(parent.blocks)


@pytest.mark.parametrize(
    ("event", "outcome"),
    [("ConversationCompleted", "accepted"), ("conversation.deleted", "ignored")],
)
async def test_event_variants(sqlite_url: str, event: str, outcome: str) -> None:
    payload = copy.deepcopy(otter_payload("webhook_conversation_completed"))
    payload["meta"]["webhook"]["event"] = event
    body = json.dumps(payload).encode()
    async with rig(sqlite_url, otter_webhook_secret=SECRET) as r:
        assert await post(r, body, signed(body)) == (200, {"status": outcome})


async def test_a_malformed_body_is_a_400(sqlite_url: str) -> None:
    async with rig(sqlite_url, otter_webhook_secret=SECRET) as r:
        for body in (b"not json", b'{"meta": {}}'):
            status, answer = await post(r, body, signed(body))
            assert status == 400, answer
