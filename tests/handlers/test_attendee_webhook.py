"""`POST /webhooks/attendee` through the real app: real captures in, 2xx before any work."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import Options, create_web_app
from bot.services import SERVICES
from bot.store.models import InboxEvent, Job
from tests.conftest import PAYLOADS, make_settings

CAPTURES = sorted((PAYLOADS / "attendee" / "webhooks").glob("*.json"))


def capture(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / "attendee" / "webhooks" / name).read_text())


@pytest.fixture
async def client(aiohttp_client: Any, database_url: str) -> Any:
    secret = capture(CAPTURES[0].name)["secret_b64"]
    settings = make_settings(
        database_url=database_url, attendee_api_key="test-key", attendee_webhook_secret=secret
    )
    app = await create_web_app(settings, Options(workers=0, scheduler=False, migrate=False))
    return await aiohttp_client(app)


async def post(
    client: Any, delivery: dict[str, Any], body: bytes | None = None, signature: str | None = "keep"
) -> Any:
    headers = {"Content-Type": "application/json"}
    sig = delivery["headers"]["X-Webhook-Signature"] if signature == "keep" else signature
    if sig is not None:
        headers["X-Webhook-Signature"] = sig
    raw = delivery["raw_body"].encode() if body is None else body
    return await client.post("/webhooks/attendee", data=raw, headers=headers)


async def counts(client: Any) -> tuple[int, int]:
    services = client.server.app[SERVICES]
    async with services.sessions() as session:
        inbox = (await session.execute(select(func.count()).select_from(InboxEvent))).scalar()
        jobs = (await session.execute(select(func.count()).select_from(Job))).scalar()
    return int(inbox or 0), int(jobs or 0)


async def test_every_real_capture_is_accepted_once(client: Any) -> None:
    for path in CAPTURES:
        response = await post(client, capture(path.name))
        assert response.status == 200, path.name
        assert (await response.json())["status"] == "accepted"
    assert await counts(client) == (len(CAPTURES), len(CAPTURES))


async def test_a_redelivery_is_answered_200_and_dropped(client: Any) -> None:
    delivery = capture(CAPTURES[0].name)
    for expected in ("accepted", "duplicate", "duplicate"):
        response = await post(client, delivery)
        assert response.status == 200
        assert (await response.json())["status"] == expected
    assert await counts(client) == (1, 1)


async def test_other_key_order_and_spacing_still_verifies(client: Any) -> None:
    delivery = capture(CAPTURES[3].name)
    envelope = delivery["json"]
    reordered = {key: envelope[key] for key in reversed(list(envelope))}
    body = json.dumps(reordered, indent=3, ensure_ascii=True).encode()
    response = await post(client, delivery, body=body)
    assert response.status == 200, await response.text()


@pytest.mark.parametrize(
    ("change", "status", "reason"),
    [
        ("tamper", 401, "signature"),
        ("unsigned", 401, "signature"),
        ("wrong-signature", 401, "signature"),
    ],
)
async def test_forged_deliveries_are_refused(
    client: Any, change: str, status: int, reason: str
) -> None:
    delivery = capture(CAPTURES[0].name)
    body, signature = None, "keep"
    if change == "tamper":
        body = delivery["raw_body"].replace("joining", "ended").encode()
    elif change == "unsigned":
        signature = None
    else:
        signature = capture(CAPTURES[1].name)["headers"]["X-Webhook-Signature"]
    response = await post(client, delivery, body=body, signature=signature)
    assert response.status == status
    assert reason in (await response.json())["error"].lower()
    assert await counts(client) == (0, 0)


async def test_a_malformed_but_signed_body_is_a_400_with_a_reason(client: Any) -> None:
    from providers.attendee.webhooks import sign

    secret = capture(CAPTURES[0].name)["secret_b64"]
    envelope = {
        "idempotency_key": "x",
        "trigger": "bot.state_change",
        "bot_id": "bot_1",
        "data": {"new_state": "joining"},
    }
    response = await post(
        client,
        {"headers": {}, "raw_body": ""},
        body=json.dumps(envelope).encode(),
        signature=sign(envelope, secret),
    )
    assert response.status == 400
    assert "data" in (await response.json())["error"]


async def test_without_a_configured_secret_everything_is_refused(
    aiohttp_client: Any, sqlite_url: str
) -> None:
    app = await create_web_app(
        make_settings(database_url=sqlite_url), Options(workers=0, scheduler=False)
    )
    client = await aiohttp_client(app)
    response = await post(client, capture(CAPTURES[0].name))
    assert response.status == 401


async def test_an_oversized_body_is_413(
    aiohttp_client: Any, sqlite_url: str, tmp_path: Path
) -> None:
    settings = make_settings(
        database_url=sqlite_url, attendee_webhook_secret="c2VjcmV0", max_attendee_webhook_bytes=1024
    )
    client = await aiohttp_client(
        await create_web_app(settings, Options(workers=0, scheduler=False))
    )
    response = await client.post(
        "/webhooks/attendee",
        data=b"{" + b" " * 4096 + b"}",
        headers={"X-Webhook-Signature": "A" * 43 + "="},  # 32 bytes: could be a signature
    )
    assert response.status == 413
