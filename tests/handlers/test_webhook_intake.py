"""The webhook intake commits many deliveries per transaction and still answers each one alone:
duplicates stay duplicates inside a batch, and one bad delivery fails only its own request."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, func, select

from bot.app import Options, create_web_app
from bot.services import SERVICES, Services
from bot.store.models import InboxEvent, Job
from handlers.attendee.jobs import JOB_EVENT
from handlers.webhooks import EVENT_ID_LENGTH, MAX_BATCH, Delivery, accept, inbox_key
from tests.conftest import PAYLOADS, make_settings

STATE_CHANGE = PAYLOADS / "attendee" / "webhooks"


@pytest.fixture
async def services(aiohttp_client: Any, database_url: str) -> Services:
    settings = make_settings(database_url=database_url, attendee_api_key="test-key")
    app = await create_web_app(settings, Options(workers=0, scheduler=False, migrate=False))
    client = await aiohttp_client(app)
    found: Services = client.server.app[SERVICES]
    return found


def delivery(event_id: str, **extra: Any) -> Delivery:
    capture = json.loads(next(iter(sorted(STATE_CHANGE.glob("*.json")))).read_text())
    envelope = json.loads(capture["raw_body"]) | {"idempotency_key": event_id} | extra
    return Delivery(event_id, str(envelope["trigger"]), JOB_EVENT, {"envelope": envelope})


async def stored(services: Services) -> tuple[int, list[str]]:
    async with services.sessions() as session:
        inbox = (await session.execute(select(func.count()).select_from(InboxEvent))).scalar()
        jobs = (await session.execute(select(Job.payload))).scalars().all()
    return int(inbox or 0), sorted(p["envelope"]["idempotency_key"] for p in jobs)


def count_checkouts(services: Services) -> list[int]:
    """How many times a connection is taken from the pool: the intake takes one a transaction."""
    checkouts = [0]
    engine = services.sessions.kw["bind"].sync_engine

    def on_checkout(*_args: Any) -> None:
        checkouts[0] += 1

    event.listen(engine, "checkout", on_checkout)
    return checkouts


async def test_deliveries_that_arrive_together_share_one_commit(services: Services) -> None:
    checkouts = count_checkouts(services)
    ids = [f"key-{n}" for n in range(40)]
    results = await asyncio.gather(*(accept(services, "attendee", delivery(i)) for i in ids))
    assert results == [True] * 40
    assert checkouts[0] == 1, "forty deliveries in one transaction"
    assert await stored(services) == (40, sorted(ids))
    async with services.sessions() as session:
        moments = set((await session.execute(select(InboxEvent.received_at))).scalars())
    assert len(moments) == 1, "recorded together"


async def test_a_duplicate_in_the_same_batch_is_a_duplicate(services: Services) -> None:
    assert await accept(services, "attendee", delivery("seen-before"))
    ids = ["seen-before", "new-1", "new-2", "new-1", "new-2", "new-3"]
    results = await asyncio.gather(*(accept(services, "attendee", delivery(i)) for i in ids))
    assert results == [False, True, True, False, False, True]
    assert await stored(services) == (4, ["new-1", "new-2", "new-3", "seen-before"])


async def test_one_bad_delivery_fails_alone(services: Services) -> None:
    # A value the JSON column cannot store: the batch's statement fails as a whole, then each
    # delivery is tried alone and only the bad one's request fails.
    bad = delivery("bad", extra=datetime.now(UTC))
    batch = [delivery("good-1"), bad, delivery("good-2")]
    results = await asyncio.gather(
        *(accept(services, "attendee", d) for d in batch), return_exceptions=True
    )
    assert results[0] is True and results[2] is True
    assert isinstance(results[1], Exception)
    assert await stored(services) == (2, ["good-1", "good-2"])
    # Nothing was recorded for the failed one, so the provider's retry is taken.
    assert await accept(services, "attendee", delivery("bad")) is True


ODD_IDS = [
    "a" * (EVENT_ID_LENGTH + 40) + "-1",  # longer than the column, and alike for 295 characters
    "a" * (EVENT_ID_LENGTH + 40) + "-2",
    "nul\x00inside",  # PostgreSQL stores no NUL in text
    "lone-\ud800-surrogate",  # nor what UTF-8 cannot encode
]


async def test_any_event_id_is_recorded_and_deduplicated(services: Services) -> None:
    first = await asyncio.gather(*(accept(services, "attendee", delivery(i)) for i in ODD_IDS))
    again = await asyncio.gather(*(accept(services, "attendee", delivery(i)) for i in ODD_IDS))
    assert first == [True] * len(ODD_IDS), "each is new: none truncated into another"
    assert again == [False] * len(ODD_IDS), "each is known"
    assert (await stored(services))[0] == len(ODD_IDS)


async def test_any_kind_is_recorded(services: Services) -> None:
    kinds = ["t" * 300, "nul\x00kind", "lone-\udfff-kind"]
    deliveries = [delivery(f"kind-{n}", trigger=kind) for n, kind in enumerate(kinds)]
    results = await asyncio.gather(*(accept(services, "attendee", d) for d in deliveries))
    assert results == [True] * len(kinds)
    async with services.sessions() as session:
        stored_kinds = set((await session.execute(select(InboxEvent.kind))).scalars())
    assert stored_kinds == {"t" * 100, "nulkind", "lone-?-kind"}


def test_the_inbox_key_is_the_id_where_it_can_be_and_a_digest_where_not() -> None:
    assert (
        inbox_key("5f0c3b55-6d0e-4c41-9a3e-2b4a3d0c9e11") == "5f0c3b55-6d0e-4c41-9a3e-2b4a3d0c9e11"
    )
    assert inbox_key("é" * EVENT_ID_LENGTH) == "é" * EVENT_ID_LENGTH
    keys = {inbox_key(i) for i in ODD_IDS}
    assert len(keys) == len(ODD_IDS)
    assert all(len(k) == 64 and int(k, 16) >= 0 for k in keys)


async def test_a_payload_no_job_can_read_is_refused_before_the_batch(services: Services) -> None:
    wrong = Delivery("wrong", "bot.state_change", JOB_EVENT, {"not": "an envelope"})
    with pytest.raises(ValueError):
        await accept(services, "attendee", wrong)
    assert await stored(services) == (0, [])


async def test_a_flood_of_deliveries_lets_others_use_the_database_between_batches(
    aiohttp_client: Any, sqlite_url: str
) -> None:
    """On SQLite the process has one connection. While batches follow one another, a worker
    (here: any transaction) waiting for it gets it between two batches, not after all."""
    settings = make_settings(database_url=sqlite_url, attendee_api_key="test-key")
    app = await create_web_app(settings, Options(workers=0, scheduler=False, migrate=True))
    services: Services = (await aiohttp_client(app)).server.app[SERVICES]
    count = 2 * MAX_BATCH + 10  # three batches
    flood = asyncio.gather(*(accept(services, "attendee", delivery(f"k{n}")) for n in range(count)))

    async def meanwhile() -> int:
        await asyncio.sleep(0)  # the flood has queued its deliveries and its first batch runs
        async with services.sessions() as session, session.begin():
            seen = await session.execute(select(func.count()).select_from(InboxEvent))
            return int(seen.scalar() or 0)

    seen, results = await asyncio.gather(meanwhile(), flood)
    assert results == [True] * count
    assert 0 < seen < count, f"the waiting transaction ran after {seen} of {count} deliveries"
