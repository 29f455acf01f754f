"""The polling fallback: a floor in the database, waiters de-duplicated, nothing missed or
repeated when the process dies mid-walk or restarts between runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.store.db import transaction
from handlers import otter as otter_feature
from handlers.otter import polling
from handlers.otter.jobs import JOB_AWAIT
from handlers.otter.settings import otter_settings
from providers.otter import Conversation, OtterClient
from sandbox.otter import OtterStandIn
from sandbox.slack import SlackStandIn
from tests.conftest import make_settings
from tests.handlers.digest.support import Rig, rig

DIGESTS = "C0MEETINGS"


@pytest.fixture
async def otter() -> AsyncIterator[OtterStandIn]:
    async with OtterStandIn(seed=False, requests_per_second=None) as stand_in:
        yield stand_in


class DyingOtter:
    """The real client, except that the process "dies" after ``after`` listed conversations."""

    def __init__(self, real: OtterClient, after: int) -> None:
        self.real, self.after = real, after

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    async def iter_conversations(self, **kwargs: Any) -> AsyncIterator[Conversation]:
        count = 0
        async for conversation in self.real.iter_conversations(**kwargs):
            if count == self.after:
                raise RuntimeError("the process died here")
            count += 1
            yield conversation


async def poll(r: Rig) -> None:
    """What the scheduler does each interval: enqueue one poll job; then run what is due."""
    async with transaction(r.services.sessions) as session:
        await r.services.queue.enqueue(session, polling.JOB_POLL, polling.PollJob())
    await r.drain()


def titles(slack: SlackStandIn) -> list[str]:
    return sorted(m.text.removeprefix("Meeting digest: ") for m in slack.messages(DIGESTS))


def minutes_ago(minutes: float) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


async def test_a_poll_dying_mid_walk_and_a_restart_miss_and_repeat_nothing(
    database_url: str, otter: OtterStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(polling, "PAGE_SIZE", 3)  # several pages from a few conversations
    otter.add_conversation("Too old", created_at=minutes_ago(300), processing=False)
    async with SlackStandIn(signing_secret="test-signing-secret-0000") as slack:
        async with rig(database_url, otter, slack=slack, digest_channel=DIGESTS) as r:
            await poll(r)  # the first run sets the floor an hour back
            assert slack.messages(DIGESTS) == []
            for n in range(8):
                otter.add_conversation(f"M{n}", created_at=minutes_ago(40 - n), processing=False)
            real = r.services.clients[OtterClient]
            assert real is not None
            r.services.clients[OtterClient] = DyingOtter(real, after=4)  # type: ignore[assignment]
            await poll(r)
            assert slack.messages(DIGESTS) == []
            assert await r.jobs(JOB_AWAIT) == [], "nothing was enqueued by the dead run"
            (dead_run,) = [j for j in await r.jobs(polling.JOB_POLL) if j.status != "done"]
            assert dead_run.status == "queued" and "died" in (dead_run.last_error or "")
        # A new process on the same database picks the failed run up again.
        async with rig(database_url, otter, slack=slack, digest_channel=DIGESTS) as r:
            await r.make_due()
            await r.drain()
            assert titles(slack) == [f"M{n}" for n in range(8)]
            await poll(r)  # the overlap walks the same conversations again: no repeats
            otter.add_conversation("Late", created_at=minutes_ago(1), processing=False)
        async with rig(database_url, otter, slack=slack, digest_channel=DIGESTS) as r:
            await poll(r)
            await poll(r)
            assert titles(slack) == sorted(["Late", *(f"M{n}" for n in range(8))])
            assert len(slack.calls_of("chat.postMessage")) == 9


async def test_a_conversation_still_processing_is_posted_once_finished(
    sqlite_url: str, otter: OtterStandIn
) -> None:
    async with rig(sqlite_url, otter, digest_channel=DIGESTS) as r:
        await poll(r)
        conversation_id = otter.add_conversation("Design review", created_at=minutes_ago(2))
        await poll(r)
        assert r.slack.messages(DIGESTS) == []
        (waiter,) = await r.jobs(JOB_AWAIT)
        assert waiter.status == "queued"
        await poll(r)
        assert len(await r.jobs(JOB_AWAIT)) == 1, "one waiter per conversation"
        await otter.finish_processing(conversation_id)
        await r.make_due()
        await r.drain()
        await poll(r)
        assert titles(r.slack) == ["Design review"]


async def test_the_floor_trails_the_newest_conversation(
    sqlite_url: str, otter: OtterStandIn
) -> None:
    async with rig(sqlite_url, otter, digest_channel=DIGESTS) as r:
        before = datetime.now(UTC)
        await poll(r)
        first = await polling.read_floor(r.services)
        assert first is not None
        assert before - polling.FIRST_RUN_LOOKBACK <= first <= datetime.now(UTC)
        created = minutes_ago(5).replace(microsecond=0)
        otter.add_conversation("Standup", created_at=created, processing=False)
        await poll(r)
        assert await polling.read_floor(r.services) == max(first, created - polling.OVERLAP)


async def test_polling_is_off_when_webhooks_are_configured(
    sqlite_url: str, otter: OtterStandIn
) -> None:
    on = make_settings(otter_api_key="k")
    assert otter_feature.schedule(on) == [(polling.JOB_POLL, otter_settings(on).otter_poll_seconds)]
    assert otter_feature.schedule(make_settings(otter_api_key="k", otter_webhook_secret="s")) == []
    assert otter_feature.schedule(make_settings(otter_api_key="k", otter_poll_seconds=0)) == []
    assert otter_feature.schedule(make_settings()) == []
    async with rig(sqlite_url, otter, otter_webhook_secret="s") as r:
        await poll(r)
        assert otter.calls == [], "a poll enqueued before webhooks took over does nothing"
