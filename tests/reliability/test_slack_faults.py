"""Slack failing in every way it does, against the Slack stand-in: 429 with Retry-After, 5xx
before and after the message was posted, channel_not_found, not_in_channel, invalid_blocks,
racing workers and a process that dies between a post and its answer. Each ends with exactly
one message, or with the permanent error a job gives up on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.errors import SlackApiError
from sqlalchemy import update

from bot.leases import LeaseHolder, running_job
from bot.posting import PostBusy, PostKey, PostLedger
from bot.slack import ChannelPacer, SlackMessenger, create_slack_client, is_permanent_slack_error
from bot.store.db import create_engine, create_sessionmaker, transaction
from bot.store.models import Job, utcnow
from sandbox.slack import SlackStandIn

KEY = PostKey("attendee", "meeting-1", "C0MEETINGS", "digest")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Conditions:
    """Switches a test flips to change how the stand-in answers chat.postMessage."""

    def __init__(self) -> None:
        self.fail_after_posting = 0  # answer 500 although the message was posted
        self.hold_posts = 0.0  # seconds the next post waits before Slack handles it
        self.answer_delay = 0.0  # seconds every post's answer takes once it was handled
        self.posted = asyncio.Event()


@pytest.fixture
def conditions() -> Conditions:
    return Conditions()


@pytest.fixture
async def slack(conditions: Conditions) -> AsyncIterator[SlackStandIn]:
    standin = SlackStandIn()

    @web.middleware
    async def weather(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path != "/api/chat.postMessage":
            return await handler(request)
        if conditions.hold_posts:
            hold, conditions.hold_posts = conditions.hold_posts, 0.0
            await asyncio.sleep(hold)
            if request.transport is None or request.transport.is_closing():
                # The sender is gone: this request never got through to Slack.
                return web.Response(status=499)
        response = await handler(request)
        conditions.posted.set()
        if conditions.answer_delay:
            await asyncio.sleep(conditions.answer_delay)
        if conditions.fail_after_posting > 0:
            conditions.fail_after_posting -= 1
            return web.json_response({"ok": False, "error": "internal_error"}, status=500)
        return response

    standin.app.middlewares.append(weather)
    async with standin:
        yield standin


@pytest.fixture
async def messengers(
    slack: SlackStandIn, database_url: str
) -> AsyncIterator[Callable[..., PostLedger]]:
    """Builds messengers on one database: each one is a separate process's."""
    engine = create_engine(database_url)
    async with aiohttp.ClientSession() as session:
        client = create_slack_client(slack.bot_token, slack.api_url, session)

        def build(**options: Any) -> PostLedger:
            messenger = SlackMessenger(client, ChannelPacer(0))
            return PostLedger(messenger, create_sessionmaker(engine), **options)

        yield build
    await engine.dispose()


def bot_messages(slack: SlackStandIn, channel: str = "C0MEETINGS") -> list[Any]:
    return [m for m in slack.messages(channel) if m.bot_id]


async def test_a_429_waits_for_retry_after_and_posts_once(
    slack: SlackStandIn, messengers: Callable[..., PostLedger]
) -> None:
    slack.ratelimit("chat.postMessage", retry_after=1, times=1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await messengers().upsert(KEY, "digest")
    assert loop.time() - started >= 1.0, "Retry-After was honoured"
    assert [m.text for m in bot_messages(slack)] == ["digest"]


async def test_a_5xx_before_posting_is_looked_up_then_posted_once(
    slack: SlackStandIn, messengers: Callable[..., PostLedger]
) -> None:
    slack.fail("^/api/chat[.]postMessage$", status=503, times=2)
    posted = await messengers().upsert(KEY, "digest")
    assert [m.ts for m in bot_messages(slack)] == [posted.ts]
    assert len(slack.calls_of("conversations.history")) == 2, "each failure looked up first"


async def test_a_5xx_after_posting_adopts_the_message_instead_of_a_twin(
    slack: SlackStandIn, conditions: Conditions, messengers: Callable[..., PostLedger]
) -> None:
    conditions.fail_after_posting = 1
    posted = await messengers().upsert(KEY, "digest")
    (message,) = bot_messages(slack)
    assert posted.ts == message.ts
    assert message.metadata == {
        "event_type": "debrief_post",
        "event_payload": {
            "provider": "attendee",
            "meeting_id": "meeting-1",
            "channel_id": "C0MEETINGS",
            "part": "digest",
        },
    }
    assert len(slack.calls_of("chat.postMessage")) == 1


async def test_a_dropped_connection_in_a_thread_is_looked_up_among_the_replies(
    slack: SlackStandIn, messengers: Callable[..., PostLedger]
) -> None:
    messenger = messengers()
    parent = await messenger.upsert(PostKey("attendee", "m", "C0MEETINGS", "status"), "status")
    slack.fail("^/api/chat[.]postMessage$", drop=True, times=1)
    reply = await messenger.upsert(KEY, "digest", thread_ts=parent.ts)
    thread = slack.thread("C0MEETINGS", parent.ts)
    assert [m.ts for m in thread] == [parent.ts, reply.ts]
    assert slack.calls_of("conversations.replies")[0]["ts"] == parent.ts


async def test_a_process_killed_between_post_and_answer_leaves_no_twin(
    slack: SlackStandIn, conditions: Conditions, messengers: Callable[..., PostLedger]
) -> None:
    conditions.answer_delay = 0.5
    dying = asyncio.create_task(messengers().upsert(KEY, "digest"))
    await asyncio.wait_for(conditions.posted.wait(), 5)
    dying.cancel()  # the message is in Slack; its answer never reaches the process
    await asyncio.gather(dying, return_exceptions=True)
    conditions.answer_delay = 0.0

    restarted = messengers()  # a new process: it cannot know whether the other one lives
    posted = await restarted.upsert(KEY, "digest")
    (message,) = bot_messages(slack)
    assert posted.ts == message.ts
    assert len(slack.calls_of("chat.postMessage")) == 1


async def test_a_process_killed_before_posting_is_posted_by_the_next(
    slack: SlackStandIn, conditions: Conditions, messengers: Callable[..., PostLedger]
) -> None:
    conditions.hold_posts = 1.0
    dying = asyncio.create_task(messengers().upsert(KEY, "digest"))
    await asyncio.sleep(0.3)  # the intent is written, the post is held before Slack sees it
    dying.cancel()
    await asyncio.gather(dying, return_exceptions=True)
    await messengers().upsert(KEY, "digest")
    assert [m.text for m in bot_messages(slack)] == ["digest"]


async def test_an_attempt_in_a_job_holds_its_key_exactly_as_long_as_the_jobs_lease(
    slack: SlackStandIn,
    conditions: Conditions,
    messengers: Callable[..., PostLedger],
    database_url: str,
) -> None:
    # Two other processes, running since before the attempt: one that would give up on a
    # live attempt's key after 0.1 s, one only after 10 minutes.
    impatient, patient = messengers(claim_timeout=0.1), messengers(claim_timeout=600)
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    async with transaction(sessions) as session:
        job = Job(kind="test", status="running", locked_by="w-dying")
        job.lease_until = utcnow() + timedelta(minutes=1)
        session.add(job)

    async def in_the_job() -> None:
        running_job.set(LeaseHolder(job.id, "w-dying"))
        await messengers().upsert(KEY, "digest")

    conditions.answer_delay = 0.5
    dying = asyncio.create_task(in_the_job())
    await asyncio.wait_for(conditions.posted.wait(), 5)
    dying.cancel()  # the message is in Slack; its answer never reaches the process
    await asyncio.gather(dying, return_exceptions=True)
    conditions.answer_delay = 0.0

    # The job's lease lives (its worker may be slow, not dead): nobody takes the key over.
    with pytest.raises(PostBusy):
        await impatient.upsert(KEY, "digest")
    # The lease runs out: the key is taken over at once, and the message adopted, not twinned.
    async with transaction(sessions) as session:
        await session.execute(
            update(Job).where(Job.id == job.id).values(lease_until=utcnow() - timedelta(seconds=1))
        )
    await engine.dispose()
    posted = await asyncio.wait_for(patient.upsert(KEY, "digest"), 30)
    (message,) = bot_messages(slack)
    assert posted.ts == message.ts
    assert len(slack.calls_of("chat.postMessage")) == 1


async def test_racing_workers_post_one_message(
    slack: SlackStandIn, conditions: Conditions, messengers: Callable[..., PostLedger]
) -> None:
    conditions.answer_delay = 0.1
    one, other = messengers(), messengers()
    results = await asyncio.gather(
        *(m.upsert(KEY, f"version {n % 2}") for n, m in enumerate([one, other, one, other, one]))
    )
    (message,) = bot_messages(slack)
    assert {r.ts for r in results} == {message.ts}


async def test_a_slow_attempt_presumed_dead_deletes_its_twin(
    slack: SlackStandIn, conditions: Conditions, messengers: Callable[..., PostLedger]
) -> None:
    conditions.hold_posts = 1.0
    slow = asyncio.create_task(messengers().upsert(KEY, "digest"))
    await asyncio.sleep(0.3)
    impatient = messengers(claim_timeout=0.1)
    await asyncio.sleep(0.2)
    taken = await impatient.upsert(KEY, "digest")  # finds nothing in Slack, posts it
    late = await slow  # its post lands after all, loses the intent, deletes itself
    (message,) = bot_messages(slack)
    assert message.ts == taken.ts == late.ts
    assert len(slack.calls_of("chat.postMessage")) == 2
    assert len(slack.calls_of("chat.delete")) == 1


async def test_channel_not_found_is_permanent(messengers: Callable[..., PostLedger]) -> None:
    with pytest.raises(SlackApiError) as caught:
        await messengers().upsert(PostKey("attendee", "m", "C0HR", "digest"), "secret")
    assert is_permanent_slack_error(caught.value)


async def test_not_in_channel_joins_a_public_channel(
    slack: SlackStandIn, messengers: Callable[..., PostLedger]
) -> None:
    await messengers().upsert(PostKey("attendee", "m", "C0RANDOM", "digest"), "hello")
    assert slack.calls_of("conversations.join")[0]["channel"] == "C0RANDOM"
    assert [m.text for m in bot_messages(slack, "C0RANDOM")] == ["hello"]


async def test_a_channel_that_cannot_be_joined_reports_not_in_channel(
    slack: SlackStandIn, messengers: Callable[..., PostLedger]
) -> None:
    slack.fail(
        "^/api/conversations[.]join$",
        status=200,
        body={"ok": False, "error": "method_not_supported_for_channel_type"},
    )
    with pytest.raises(SlackApiError) as caught:
        await messengers().upsert(PostKey("attendee", "m", "C0RANDOM", "digest"), "hello")
    assert caught.value.response["error"] == "not_in_channel"
    assert is_permanent_slack_error(caught.value), "the job gives up and tells the operators"


async def test_invalid_blocks_fall_back_to_plain_text_and_log_the_blocks(
    slack: SlackStandIn,
    messengers: Callable[..., PostLedger],
    caplog: pytest.LogCaptureFixture,
) -> None:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Weekly sync"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}},
    ]
    caplog.set_level(logging.WARNING, logger="bot.slack")
    messenger = messengers()
    posted = await messenger.upsert(KEY, "Digest of the weekly sync", blocks)
    (message,) = bot_messages(slack)
    assert message.ts == posted.ts and not message.blocks
    assert message.text.startswith("Digest of the weekly sync\nWeekly sync\nxxx")
    (record,) = [r for r in caplog.records if "refused the blocks" in r.getMessage()]
    assert "invalid_blocks" in record.getMessage() and '"type": "header"' in record.getMessage()

    # The same refused content is not sent again; new content is, through chat.update.
    assert not (await messenger.upsert(KEY, "Digest of the weekly sync", blocks)).changed
    blocks[1]["text"]["text"] = "y" * 3001
    await messenger.upsert(KEY, "Digest of the weekly sync", blocks)
    (message,) = bot_messages(slack)
    assert "yyy" in message.text and not message.blocks
