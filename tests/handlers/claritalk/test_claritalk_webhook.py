"""`POST /webhooks/claritalk`: authentication, the digest, the PDF shared once, status lines."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import update

from bot.leases import LeaseHolder
from handlers.claritalk import store
from handlers.claritalk.jobs import JOB_MAINTAIN, JOB_WEBHOOK
from handlers.claritalk.report import attach_report, keep_report
from handlers.claritalk.tables import ClaritalkReport
from handlers.routing.publish import JOB_RELEASE_HELD
from providers.claritalk import ClaritalkEvent, MeetingProcessed
from sandbox.claritalk import ClaritalkStandIn
from tests.handlers.claritalk.support import (
    CALLBACK,
    CLARITALK,
    Clock,
    Rig,
    envelope,
    payload,
    rig,
)
from tests.handlers.digest.support import text_of

DIGESTS = "C0MEETINGS"
MEETING_ID = "660e8400-e29b-41d4-a716-446655440000"
OWNER_ID = "550e8400-e29b-41d4-a716-446655440000"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def claritalk(clock: Clock) -> AsyncIterator[ClaritalkStandIn]:
    stand_in = ClaritalkStandIn(redirect_uris=[CALLBACK], clock=clock.wall)
    async with stand_in:
        yield stand_in


def seen(message: Any) -> str:
    return message.text + "\n" + text_of(message.blocks)


def thread(r: Rig, parent: Any) -> list[Any]:
    return r.slack.thread(DIGESTS, parent.ts)[1:]


def shared_files(r: Rig, parent: Any) -> list[dict[str, Any]]:
    return [f for m in thread(r, parent) for f in m.files]


async def test_refused_while_no_secret_is_configured(
    sqlite_url: str, claritalk: ClaritalkStandIn, clock: Clock
) -> None:
    async with rig(sqlite_url, claritalk, clock, claritalk_webhook_secret=None) as r:
        status, answer = await r.deliver(payload("meeting_processed.json"))
        assert status == 401 and "no webhook secret is configured" in answer["error"]
        assert await r.jobs(JOB_WEBHOOK) == []


@pytest.mark.parametrize("token", [None, "", "not-the-secret"], ids=["none", "empty", "wrong"])
async def test_a_wrong_or_missing_url_token_is_refused(
    sqlite_url: str, claritalk: ClaritalkStandIn, clock: Clock, token: str | None
) -> None:
    async with rig(sqlite_url, claritalk, clock) as r:
        status, _ = await r.deliver(payload("meeting_processed.json"), token=token)
        assert status == 401
        assert await r.jobs(JOB_WEBHOOK) == []


async def test_an_hmac_header_is_accepted_when_configured(
    sqlite_url: str, claritalk: ClaritalkStandIn, clock: Clock
) -> None:
    body = payload("meeting_status_changed.json")
    key = "hmac-key-for-tests"
    good = hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
    async with rig(sqlite_url, claritalk, clock, claritalk_webhook_hmac_secret=key) as r:
        for signature, expected in (("00" * 32, 401), (f"sha256={good}", 200)):
            response = await r.client.post(
                "/webhooks/claritalk",
                data=body,
                headers={"X-Claritalk-Signature": signature, "Content-Type": "application/json"},
            )
            assert response.status == expected


async def test_a_processed_meeting_is_a_digest_with_its_pdf_shared_once(
    database_url: str, claritalk: ClaritalkStandIn, clock: Clock
) -> None:
    body = payload("meeting_processed.json")
    async with rig(database_url, claritalk, clock) as r:
        await r.connect()  # Ada connected her Claritalk account: she is the meeting's host
        ada = claritalk.users["ada@example.com"]
        meeting = json.loads(body)
        meeting["data"]["userId"] = ada.id
        body = json.dumps(meeting).encode()
        assert await r.deliver(body) == (200, {"status": "accepted"})
        assert await r.deliver(body) == (200, {"status": "duplicate"})
        await r.drain()

        (parent,) = r.slack.messages(DIGESTS)
        text = seen(parent)
        assert "Weekly standup" in text and "pilot the new onboarding checklist" in text
        assert "Send the revised Q3 budget to finance — Include the travel line" in text
        # The assignee as Claritalk named her, or as the Slack user her email belongs to.
        assert "_Grace Hopper_" in text or "<@U0GRACE>" in text
        assert "*Host*\nAda Lovelace" in text
        details = "\n".join(seen(m) for m in thread(r, parent))
        assert "*Budget*" in details and "❓ Can travel move from Q4 to Q3? — Yes" in details
        assert "*Q3 budget*" in details and "Finance to confirm by Friday" in details

        (shared,) = shared_files(r, parent)
        assert shared["name"] == "weekly-standup-summary-report.pdf"
        content = r.slack.workspace.files[shared["id"]].content
        assert content == (CLARITALK / "weekly-standup-summary-report.pdf").read_bytes()

        # A crash right after Slack completed the upload, before it was recorded: the retry
        # finds the file already shared in the channel and shares nothing more.
        async with r.services.sessions() as session, session.begin():
            await session.execute(
                update(ClaritalkReport)
                .where(ClaritalkReport.meeting_id == MEETING_ID)
                .values(done_at=None, content=content)
            )
        assert await attach_report(r.services, MEETING_ID, DIGESTS, parent.ts, "Weekly standup")
        assert len(shared_files(r, parent)) == 1
        assert len(r.slack.calls_of("files.completeUploadExternal")) == 1
        assert [c["file"] for c in r.slack.calls_of("files.info")] == [shared["id"]]


async def test_a_report_left_by_a_crashed_job_is_shared_when_its_job_lease_runs_out(
    database_url: str, claritalk: ClaritalkStandIn, clock: Clock
) -> None:
    async with rig(database_url, claritalk, clock) as r:
        await r.deliver(payload("meeting_processed.json"))
        # A worker claimed the delivery, stored the report and leased it, and died.
        crashed = await r.services.queue.claim("crashed-worker")
        assert crashed is not None
        data = ClaritalkEvent.model_validate(crashed.payload["body"]).data
        assert isinstance(data, MeetingProcessed)
        await keep_report(r.services, data)
        holder = LeaseHolder(crashed.id, "crashed-worker")
        assert await store.lease_report(r.services.sessions, MEETING_ID, clock.now(), holder)
        assert await r.drain() == 0, "the job's lease still holds"
        assert not await store.lease_report(
            r.services.sessions, MEETING_ID, clock.now(), LeaseHolder(None)
        ), "a live job's report was taken from it"
        # No heartbeat comes: once the job's lease runs out, the job claimed again shares the
        # report at once, instead of leaving it to a lease of the report's own.
        clock.advance(seconds=r.services.queue.config.lease_seconds + 1)
        assert await r.drain() == 1
        (parent,) = r.slack.messages(DIGESTS)
        assert len(shared_files(r, parent)) == 1
        async with r.services.sessions() as session:
            report = await session.get(ClaritalkReport, MEETING_ID)
        assert report is not None and report.done_at is not None
        assert (report.lease_until, report.lease_job_id, report.leased_by) == (None, None, None)


async def test_an_upload_whose_bytes_never_arrived_is_done_again(
    sqlite_url: str, claritalk: ClaritalkStandIn, clock: Clock
) -> None:
    async with rig(sqlite_url, claritalk, clock) as r:
        # The first attempt died after asking for an upload URL and recording the file id.
        r.slack.fail(
            r"files\.completeUploadExternal", status=200, body={"ok": False, "error": "fatal_error"}
        )
        await r.deliver(payload("meeting_processed.json"))
        await r.drain()
        (parent,) = r.slack.messages(DIGESTS)
        assert shared_files(r, parent) == []
        (job,) = await r.jobs(JOB_WEBHOOK)
        assert job.status == "queued" and "fatal_error" in (job.last_error or "")
        async with r.services.sessions() as session:
            report = await session.get(ClaritalkReport, MEETING_ID)
        assert report is not None and report.file_id and report.done_at is None

        async with r.services.sessions() as session, session.begin():
            await session.execute(update(ClaritalkReport).values(file_id="F0NEVERSENT"))
        await attach_report(r.services, MEETING_ID, DIGESTS, parent.ts, "Weekly standup")
        (shared,) = shared_files(r, parent)
        assert shared["id"] != "F0NEVERSENT"
        assert r.slack.workspace.files[shared["id"]].content


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("meeting_processed_truncated_pdf.json", "truncated"),
        ("meeting_processed_no_files.json", "no PDF report"),
    ],
)
async def test_a_broken_or_missing_pdf_is_noted_and_the_digest_posted(
    sqlite_url: str, claritalk: ClaritalkStandIn, clock: Clock, name: str, why: str
) -> None:
    async with rig(sqlite_url, claritalk, clock) as r:
        assert (await r.deliver(payload(name)))[0] == 200
        await r.drain()
        (parent,) = r.slack.messages(DIGESTS)
        assert "Weekly standup" in seen(parent)
        notes = [m for m in thread(r, parent) if "PDF report is not attached" in m.text]
        assert len(notes) == 1 and why in notes[0].text
        assert r.slack.calls_of("files.getUploadURLExternal") == []


async def test_status_changes_are_a_line_on_the_digest_updated_in_place(
    sqlite_url: str, claritalk: ClaritalkStandIn, clock: Clock
) -> None:
    async with rig(sqlite_url, claritalk, clock) as r:
        early = envelope("meeting_status_changed")
        await r.deliver(json.dumps(early).encode())
        await r.drain()
        assert r.slack.messages(DIGESTS) == [], "no digest yet: nothing to put a line on"

        await r.deliver(payload("meeting_processed_no_files.json"))
        await r.drain()
        (parent,) = r.slack.messages(DIGESTS)
        for status, updated in (("Archived", "12:00:00"), ("Shared", "13:00:00")):
            later = envelope("meeting_status_changed")
            later["data"] |= {"status": status, "updatedAt": f"2025-01-15 {updated}"}
            assert (await r.deliver(json.dumps(later).encode()))[0] == 200
            await r.drain()
        lines = [m for m in thread(r, parent) if "Claritalk status" in m.text]
        assert len(lines) == 1 and "*Shared*" in lines[0].text


async def test_a_new_user_is_accepted_and_only_logged(
    sqlite_url: str, claritalk: ClaritalkStandIn, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="handlers.claritalk")
    async with rig(sqlite_url, claritalk, clock) as r:
        assert await r.deliver(payload("users_created.json")) == (200, {"status": "accepted"})
        await r.drain()
        assert "user 770e8400-e29b-41d4-a716-446655440000 (user) was created" in caplog.text
        assert r.slack.calls_of("chat.postMessage") == []


async def test_a_held_digest_gets_its_report_once_it_is_posted(
    sqlite_url: str, claritalk: ClaritalkStandIn, clock: Clock
) -> None:
    async with rig(sqlite_url, claritalk, clock, digest_channel=None) as r:
        await r.deliver(payload("meeting_processed.json"))
        await r.drain()
        assert r.slack.messages(DIGESTS) == []
    # Restarted with a default channel: the held digest goes out, and the upkeep attaches the PDF.
    async with rig(sqlite_url, claritalk, clock) as r:
        await r.enqueue(JOB_RELEASE_HELD)
        await r.drain()
        (parent,) = r.slack.messages(DIGESTS)
        assert shared_files(r, parent) == []
        await r.enqueue(JOB_MAINTAIN)
        await r.drain()
        (shared,) = shared_files(r, parent)
        assert shared["name"] == "weekly-standup-summary-report.pdf"
