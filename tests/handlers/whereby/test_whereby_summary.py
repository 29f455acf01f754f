"""transcription.finished → a summary requested, polled with backoff through durable jobs, and
posted as the digest in the room's thread; without Whereby's summary the understanding engine
writes one from the transcript, and when even that cannot be read, a visible notice says so."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import update

from bot.store.models import Job
from handlers.action_items.policy import requester
from handlers.whereby.blocks import ACTION_TRANSCRIPT
from handlers.whereby.events import JOB_POLL, MAX_POLL_DELAY, next_poll_delay
from sandbox.slack import Message, validate_blocks
from sandbox.whereby import WherebyStandIn
from tests.engines import FixedEngine
from tests.handlers.digest.support import text_of
from tests.handlers.whereby.conftest import SECRET, RoomRig, event, now, room_rig
from tests.handlers.whereby.test_whereby_rooms import buttons


async def settle(rr: RoomRig, rounds: int = 60) -> None:
    """Deliver what Whereby sent and run jobs (polls brought forward) until none is left."""
    for _ in range(rounds):
        await rr.whereby.settle()
        ran = await rr.r.drain()
        async with rr.r.services.sessions() as session, session.begin():
            result = await session.execute(
                update(Job)
                .where(Job.kind == JOB_POLL, Job.status == "queued")
                .values(run_at=rr.r.services.clock())
            )
        if not ran and not getattr(result, "rowcount", 0):
            return
        await asyncio.sleep(0.005)
    raise AssertionError("jobs kept coming")


async def session_with_transcript(rr: RoomRig) -> tuple[str, Message, str]:
    """A room whose session was transcribed: (room name, room message, transcription id)."""
    row, message = await rr.open_room("room 30 Launch plan")
    assert row.room_name is not None
    rr.whereby.configure_webhook(f"{rr.app_url}/webhooks/whereby", SECRET)
    rr.whereby.client_joined(row.room_name, "Ada Lovelace")
    rr.whereby.client_joined(row.room_name, "Grace Hopper")
    rr.whereby.start_session(row.room_name)
    rr.whereby.end_session(row.room_name)
    record = rr.whereby.finish_transcription(row.room_name)
    return row.room_name, message, str(record["transcriptionId"])


async def test_the_summary_is_polled_then_posted_in_the_thread(
    database_url: str, whereby: WherebyStandIn
) -> None:
    whereby.configure_summaries(after_gets=3, text="We agreed to launch on the 14th.")
    async with room_rig(database_url, whereby) as rr:
        _, message, transcription_id = await session_with_transcript(rr)
        await settle(rr)
        (create,) = whereby.calls_to("/v1/summaries", "POST")
        assert create.json == {"transcriptionId": transcription_id, "template": "General Narrative"}
        gets = [c for c in whereby.calls_to("", "GET") if c.path.startswith("/v1/summaries/")]
        assert len(gets) == 3, "polled until Whereby had written it"

        (digest,) = rr.thread(message)
        shown = text_of(digest.blocks)
        assert "Launch plan" in shown
        assert "We agreed to launch on the 14th." in shown
        assert "Ada Lovelace" in shown and "Grace Hopper" in shown
        assert validate_blocks(digest.blocks) == []
        assert "summary is in the thread" in text_of(message.blocks)

        await rr.click(digest, ACTION_TRANSCRIPT)
        await rr.r.drain()
        (link,) = whereby.calls_to("/access-link", "GET")
        assert link.path == f"/v1/transcriptions/{transcription_id}/access-link"
        assert f"/files/transcriptions/{transcription_id}" in rr.said()


async def test_a_repeated_transcription_event_asks_for_one_summary(
    sqlite_url: str, whereby: WherebyStandIn
) -> None:
    async with room_rig(sqlite_url, whereby) as rr:
        _, message, transcription_id = await session_with_transcript(rr)
        await settle(rr)
        # Whereby sends it again under a new event id (not a duplicate delivery to the inbox).
        again = event("transcription.finished", {"transcriptionId": transcription_id}, now())
        assert await rr.deliver(again) == (200, {"status": "accepted"})
        await settle(rr)
        assert len(whereby.calls_to("/v1/summaries", "POST")) == 1
        assert len(rr.thread(message)) == 1


#: The transcript file cannot be fetched: there is nothing for the engine to read.
UNREADABLE = r"^/files/transcriptions/"


@pytest.mark.parametrize("how", ["failed", "never"])
async def test_a_summary_that_does_not_come_is_written_from_the_transcript(
    sqlite_url: str, whereby: WherebyStandIn, how: str
) -> None:
    whereby.configure_summaries(fail=how == "failed", never=how == "never")
    async with room_rig(sqlite_url, whereby, whereby_summary_timeout_seconds=0.2) as rr:
        engine = FixedEngine()
        rr.r.services.understanding = engine
        _, message, transcription_id = await session_with_transcript(rr)
        await settle(rr, rounds=400)
        digest, *details = rr.thread(message)
        assert all("details" in d.text for d in details), "the rest of the digest, in order"
        shown = text_of(digest.blocks)
        assert "The team agreed to ship the Slack integration on Friday." in shown
        assert "Decisions" in shown and "Write the release notes" in shown
        assert "could not summarise" in shown if how == "failed" else "did not arrive" in shown
        assert buttons(digest.blocks)[ACTION_TRANSCRIPT]["value"].endswith(transcription_id)
        # The engine read the stand-in's transcript file, speakers and words.
        (turns, _), *_ = engine.calls
        assert "I will draft the announcement by Friday." in [t.text for t in turns]
        assert {t.speaker for t in turns} <= {"Ada Lovelace", "Grace Hopper"}
        assert "No summary this time" not in text_of(message.blocks)
        assert not validate_blocks(digest.blocks)
        # The engine's items are the room's: its opener may act on them like on any room's.
        async with rr.r.services.sessions() as session:
            assert await requester(session, "whereby", transcription_id) == "U0ADA"


@pytest.mark.parametrize("how", ["failed", "never"])
async def test_a_summary_that_does_not_come_ends_in_a_notice(
    sqlite_url: str, whereby: WherebyStandIn, how: str
) -> None:
    whereby.configure_summaries(fail=how == "failed", never=how == "never")
    async with room_rig(sqlite_url, whereby, whereby_summary_timeout_seconds=0.2) as rr:
        whereby.fail(UNREADABLE, status=404, times=50)
        _, message, transcription_id = await session_with_transcript(rr)
        await settle(rr, rounds=400)
        (notice,) = rr.thread(message)
        shown = text_of(notice.blocks)
        if how == "failed":
            assert "could not summarise" in shown
        else:
            assert "did not arrive within 1 minute, so" in shown
        assert buttons(notice.blocks)[ACTION_TRANSCRIPT]["value"].endswith(transcription_id)
        assert "No summary this time" in text_of(message.blocks)
        assert await rr.r.jobs(JOB_POLL) and all(
            j.status == "done" for j in await rr.r.jobs(JOB_POLL)
        )


async def test_a_failed_transcription_ends_in_a_notice(
    sqlite_url: str, whereby: WherebyStandIn
) -> None:
    async with room_rig(sqlite_url, whereby) as rr:
        row, message = await rr.open_room()
        assert row.room_name is not None
        whereby.configure_webhook(f"{rr.app_url}/webhooks/whereby", SECRET)
        whereby.start_session(row.room_name)
        whereby.fail_transcription(row.room_name, error="Audio was silent")
        await settle(rr)
        (notice,) = rr.thread(message)
        assert "could not transcribe this session: Audio was silent" in text_of(notice.blocks)
        assert whereby.calls_to("/v1/summaries", "POST") == []


async def test_a_poller_that_keeps_failing_leaves_a_notice(
    sqlite_url: str, whereby: WherebyStandIn
) -> None:
    async with room_rig(sqlite_url, whereby) as rr:
        _, message, _ = await session_with_transcript(rr)
        whereby.fail(r"^/v1/summaries/", status=404, times=50)
        whereby.fail(UNREADABLE, status=404, times=50)
        await settle(rr)
        (notice,) = rr.thread(message)
        assert "could not fetch Whereby's summary" in text_of(notice.blocks)


def test_polling_backs_off_and_stops_at_the_timeout() -> None:
    waited, delays = 0.0, []
    while waited < 3600:
        delay = next_poll_delay(waited, 5.0, 3600)
        delays.append(delay)
        waited += delay
    assert delays[:4] == [5.0, 5.0, 10.0, 20.0]
    assert max(delays) == MAX_POLL_DELAY
    assert waited == pytest.approx(3600), "the last look is at the timeout, not after"
    assert len(delays) < 25, "about a look every few minutes once it has taken a while"
