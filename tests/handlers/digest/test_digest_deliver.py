"""Delivery under the natural key, against the Slack stand-in and a real database."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from slack_sdk.errors import SlackApiError

from bot.jobs import RetryLater, Worker
from bot.leases import UNTIED_LEASE, LeaseHolder, running_job
from bot.meetings import ActionItem, Meeting
from bot.posting import PostKey
from bot.store.models import Job
from handlers.digest import (
    JOB_DELIVER,
    DeliveredDigest,
    DeliverJob,
    deliver_digest,
    post_parts,
    render_digest,
)
from handlers.digest.deliver import _take_lease
from handlers.digest.render import ITEMS_IN_PARENT, ITEMS_PER_MESSAGE
from handlers.digest.tables import Digest
from tests.handlers.action_items.support import Clock
from tests.handlers.action_items.support import rig as clocked_rig
from tests.handlers.digest.support import Rig, huge_meeting, rig, text_of

CHANNEL = "C0MEETINGS"


def meeting_with(items: int, summary: str = "We agreed.") -> Meeting:
    return Meeting(
        provider="otter",
        meeting_id="conv-1",
        title="Weekly sync",
        summary=summary,
        action_items=[ActionItem(text=f"Task {n}") for n in range(1, items + 1)],
    )


async def test_redelivery_updates_in_place_and_never_twins(database_url: str) -> None:
    async with rig(database_url) as r:
        first = await deliver_digest(r.services, meeting_with(45), CHANNEL)
        (parent,) = r.slack.messages(CHANNEL)
        replies = r.slack.thread(CHANNEL, parent.ts)[1:]
        assert first.changed and first.ts == parent.ts
        assert len(replies) == first.thread_parts == 2  # 35 items beyond the parent's 10

        again = await deliver_digest(r.services, meeting_with(45), CHANNEL)
        assert not again.changed, "identical content is left alone"
        assert r.slack.calls_of("chat.update") == []

        changed = await deliver_digest(r.services, meeting_with(45, "We agreed twice."), CHANNEL)
        assert changed.changed and changed.ts == parent.ts
        (still,) = r.slack.messages(CHANNEL)
        assert "We agreed twice." in text_of(still.blocks)
        assert len(r.slack.thread(CHANNEL, parent.ts)) == 3
        assert len(r.slack.calls_of("chat.postMessage")) == 3


async def test_a_shorter_version_removes_surplus_replies(sqlite_url: str) -> None:
    async with rig(sqlite_url) as r:
        long = ITEMS_IN_PARENT + 3 * ITEMS_PER_MESSAGE
        await deliver_digest(r.services, meeting_with(long), CHANNEL)
        (parent,) = r.slack.messages(CHANNEL)
        assert len(r.slack.thread(CHANNEL, parent.ts)) == 4
        short = await deliver_digest(r.services, meeting_with(ITEMS_IN_PARENT + 1), CHANNEL)
        assert short.thread_parts == 1
        thread = r.slack.thread(CHANNEL, parent.ts)
        assert len(thread) == 2, "the two surplus replies were deleted"
        assert len(r.slack.calls_of("chat.delete")) == 2
        assert "Task 11" in text_of(thread[1].blocks)
        stored = await r.services.posts.parts("otter", "conv-1", CHANNEL)
        assert sorted(p.part for p in stored) == ["digest", "digest.1"]


async def test_a_parent_deleted_in_slack_is_posted_again_with_its_thread(sqlite_url: str) -> None:
    async with rig(sqlite_url) as r:
        await deliver_digest(r.services, meeting_with(15), CHANNEL)
        (old,) = r.slack.messages(CHANNEL)
        await r.services.slack.client.chat_delete(channel=CHANNEL, ts=old.ts)
        await deliver_digest(r.services, meeting_with(15, "Changed."), CHANNEL)
        tombstone, new = r.slack.messages(CHANNEL)
        assert tombstone.ts == old.ts and not tombstone.bot_id
        assert new.ts != old.ts
        replies = r.slack.thread(CHANNEL, new.ts)[1:]
        assert len(replies) == 1 and "Task 11" in text_of(replies[0].blocks)


async def test_two_deliveries_of_one_digest_never_interleave(sqlite_url: str) -> None:
    async with rig(sqlite_url) as r:
        results = await asyncio.gather(
            deliver_digest(r.services, meeting_with(3), CHANNEL),
            deliver_digest(r.services, meeting_with(3), CHANNEL),
            return_exceptions=True,
        )
        # Either the second waited its turn (and found nothing to change) or was told to retry.
        assert all(isinstance(x, RetryLater | DeliveredDigest) for x in results), results
        assert sum(isinstance(x, DeliveredDigest) and x.changed for x in results) == 1
        assert len(r.slack.messages(CHANNEL)) == 1
        assert (await lease(r, CHANNEL)) == (None, None, None)


async def claimed_delivery(r: Rig, worker: str) -> Job:
    """A job delivering ``meeting_with(3)``, claimed by ``worker``."""
    meeting = meeting_with(3)
    await r.services.queue.submit(
        JOB_DELIVER, DeliverJob(meeting=meeting.model_dump(mode="json"), channel=CHANNEL)
    )
    job = await r.services.queue.claim(worker)
    assert job is not None
    return job


async def crash_mid_delivery(r: Rig, worker: str) -> Job:
    """A delivery job claimed by ``worker``, which took the digest's lease and died."""
    job = await claimed_delivery(r, worker)
    meeting = meeting_with(3)
    key = (meeting.provider, meeting.meeting_id, CHANNEL)
    await _take_lease(r.services, key, meeting.title, LeaseHolder(job.id, worker))
    return job


async def test_a_crashed_jobs_digest_is_taken_over_as_soon_as_its_job_lease_runs_out(
    database_url: str,
) -> None:
    clock = Clock()
    async with clocked_rig(database_url, clock=clock) as r:
        await crash_mid_delivery(r, "crashed-worker")
        survivor = Worker(r.services.queue, r.services, name="survivor")
        # While the job's lease lives, the digest is its: no other delivery interleaves.
        with pytest.raises(RetryLater):
            await deliver_digest(r.services, meeting_with(3), CHANNEL)
        assert not await survivor.run_one(), "the job's lease still holds"
        assert r.slack.messages(CHANNEL) == []
        # The job lease runs out (no heartbeat from the dead worker): the job is claimed again
        # and delivers at once, instead of waiting out a lease of the digest's own.
        clock.advance(seconds=r.services.queue.config.lease_seconds + 1)
        assert await survivor.run_one()
        (job,) = await r.jobs(JOB_DELIVER)
        assert (job.status, job.attempts) == ("done", 2), job.last_error
        assert len(r.slack.messages(CHANNEL)) == 1
        assert await lease(r, CHANNEL) == (None, None, None)


async def test_two_live_jobs_delivering_one_digest_take_turns(database_url: str) -> None:
    clock = Clock()
    async with clocked_rig(database_url, clock=clock) as r:
        first, second = await crash_mid_delivery(r, "w1"), await claimed_delivery(r, "w2")
        # Both jobs run (no clock moves); the first holds the digest (it took the lease).

        async def deliver_in(job: Job, worker: str) -> DeliveredDigest:
            running_job.set(LeaseHolder(job.id, worker))
            return await deliver_digest(r.services, meeting_with(3), CHANNEL)

        with pytest.raises(RetryLater):
            await asyncio.create_task(deliver_in(second, "w2"))
        assert (await asyncio.create_task(deliver_in(first, "w1"))).changed
        assert not (await asyncio.create_task(deliver_in(second, "w2"))).changed
        assert len(r.slack.messages(CHANNEL)) == 1
        assert await lease(r, CHANNEL) == (None, None, None)


async def test_a_live_job_keeps_its_digest_however_long_it_runs(database_url: str) -> None:
    clock = Clock()
    async with clocked_rig(database_url, clock=clock) as r:
        job = await crash_mid_delivery(r, "slow-worker")
        # The worker is alive: its heartbeat renews the job's lease, and with it the digest's.
        for _ in range(40):  # 20 minutes
            clock.advance(seconds=30)
            assert await r.services.queue.extend(job, "slow-worker")
        with pytest.raises(RetryLater):
            await deliver_digest(r.services, meeting_with(3), CHANNEL)
        assert r.slack.messages(CHANNEL) == []
        # The job over (here: done elsewhere), the digest is free although never released.
        assert await r.services.queue.finish(job, "slow-worker")
        await deliver_digest(r.services, meeting_with(3), CHANNEL)
        assert len(r.slack.messages(CHANNEL)) == 1


async def test_a_lease_taken_outside_any_job_expires_on_its_own(sqlite_url: str) -> None:
    clock = Clock()
    async with clocked_rig(sqlite_url, clock=clock) as r:
        await _take_lease(
            r.services, ("otter", "conv-1", CHANNEL), "Weekly sync", LeaseHolder(None)
        )
        with pytest.raises(RetryLater):
            await deliver_digest(r.services, meeting_with(3), CHANNEL)
        assert r.slack.messages(CHANNEL) == []
        clock.advance(seconds=UNTIED_LEASE.total_seconds() + 1)
        await deliver_digest(r.services, meeting_with(3), CHANNEL)
        assert len(r.slack.messages(CHANNEL)) == 1


async def lease(r: Rig, channel: str) -> tuple[datetime | None, int | None, str | None]:
    async with r.services.sessions() as session:
        row = await session.get(Digest, ("otter", "conv-1", channel))
        assert row is not None
        return row.lease_until, row.lease_job_id, row.leased_by


async def test_the_huge_digest_is_accepted_by_slack(sqlite_url: str) -> None:
    async with rig(sqlite_url) as r:
        delivered = await deliver_digest(r.services, huge_meeting(), CHANNEL)
        (parent,) = r.slack.messages(CHANNEL)
        thread = r.slack.thread(CHANNEL, parent.ts)
        assert len(thread) == 1 + delivered.thread_parts
        assert "All-hands planning marathon" in text_of(parent.blocks)


async def test_slacks_refusal_releases_the_lease(sqlite_url: str) -> None:
    async with rig(sqlite_url) as r:
        with pytest.raises(SlackApiError, match="channel_not_found"):
            await deliver_digest(r.services, meeting_with(1), "C0HR")  # private, not a member
        assert (await lease(r, "C0HR")) == (None, None, None)


async def test_a_digest_in_the_thread_of_another_message_keeps_all_its_parts_there(
    sqlite_url: str,
) -> None:
    """As Attendee's: the parent is a reply to the status message, and so are its replies."""
    async with rig(sqlite_url) as r:
        key = ("attendee", "req-1", CHANNEL)
        status = await r.services.posts.upsert(PostKey(*key, "status"), "Status", None)
        long = ITEMS_IN_PARENT + 2 * ITEMS_PER_MESSAGE
        first = await post_parts(
            r.services, key, render_digest(meeting_with(long)), thread_ts=status.ts
        )
        assert first.changed and first.replies == 2 and first.thread_ts == status.ts
        (only,) = r.slack.messages(CHANNEL)
        assert only.ts == status.ts, "nothing but the status message at the top level"
        thread = r.slack.thread(CHANNEL, status.ts)
        assert len(thread) == 4 and thread[1].ts == first.parent.ts
        assert "Weekly sync" in text_of(thread[1].blocks)
        assert "Task 11" in text_of(thread[2].blocks) and "Task 31" in text_of(thread[3].blocks)
        # Slack threads are one level deep: every reply names the status message's thread.
        posts = r.slack.calls_of("chat.postMessage")[1:]
        assert [p.get("thread_ts") for p in posts] == [status.ts] * 3

        again = await post_parts(
            r.services, key, render_digest(meeting_with(long)), thread_ts=status.ts
        )
        assert not again.changed and r.slack.calls_of("chat.update") == []

        shorter = meeting_with(ITEMS_IN_PARENT + 1, "Changed.")
        short = await post_parts(r.services, key, render_digest(shorter), thread_ts=status.ts)
        assert short.changed and short.parent.ts == first.parent.ts, "updated in place"
        thread = r.slack.thread(CHANNEL, status.ts)
        assert len(thread) == 3 and "Changed." in text_of(thread[1].blocks)
        stored = await r.services.posts.parts(*key)
        assert sorted(p.part for p in stored) == ["digest", "digest.1", "status"]
        assert len(r.slack.calls_of("chat.postMessage")) == 4
