"""The posting ledger: a meeting's messages kept under their natural key, posted exactly once.

A message under a key is posted behind an intent row (``slack_post_intents``) and carries the
key in its metadata, so that neither a crash between the post and its answer nor two workers at
once make a twin: the next attempt finds the message in Slack (conversations.history/replies,
which needs the ``channels:history`` and ``groups:history`` scopes) instead of posting it again.
What was posted is remembered in ``slack_posts``, so that a retry updates instead of re-posting.
The Web API calls themselves are ``bot.slack.SlackMessenger``'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.leases import LeaseHolder, job_holds, running_job
from bot.slack import Block, SlackMessenger, is_permanent_slack_error, response_data, slack_error
from bot.store.db import insert_ignore, touched, write
from bot.store.models import SlackPost, SlackPostIntent, utcnow

log = logging.getLogger(__name__)

#: The metadata event type of every message posted under a natural key.
METADATA_EVENT = "debrief_post"
#: Seconds another live attempt outside any job may hold a key before it is presumed dead (an
#: attempt in a job is presumed dead exactly when the job's lease is).
CLAIM_TIMEOUT = 20.0
CLAIM_POLL = 0.1
#: chat.postMessage attempts under a key when Slack's answer is lost (each looked up first).
POST_ATTEMPTS = 3
#: Pages of history (200 messages each) searched for a post whose answer was lost.
LOOKUP_PAGES = 10


@dataclass(frozen=True)
class PostKey:
    """Where a meeting's message lives: provider, meeting id, channel, and which part."""

    provider: str
    meeting_id: str
    channel_id: str
    part: str


@dataclass(frozen=True)
class Posted:
    channel: str
    ts: str
    thread_ts: str | None
    changed: bool


@dataclass(frozen=True)
class _Put:
    """One upsert's message, its content hash and the attempt (``token``) that carries it."""

    key: PostKey
    text: str
    blocks: Sequence[Block] | None
    thread_ts: str | None
    digest: str
    token: str


class PostBusy(RuntimeError):
    """Another attempt kept the key busy for longer than an upsert waits; the job retries."""


class _Raced(Exception):
    """Rolls a claim back: the message was finished under the key in the meantime."""


Row = TypeVar("Row")

# How many times a message is shown again while its source row keeps changing underneath.
SETTLE_ROUNDS = 4


async def show_settled(
    read: Callable[[], Awaitable[Row | None]],
    show: Callable[[Row], Awaitable[Any]],
    fingerprint: Callable[[Row], Any],
) -> Row | None:
    """Show ``read()``'s row in Slack, then read again and show again while it changed meanwhile.

    Two workers can each read one row before the other's change lands, and the one that read
    the older row can be the one whose Slack update arrives last. Reading after each update
    closes that gap: the last update is always followed by a look at the final row, and when
    ``fingerprint`` (of what a message shows) moved, the message is rendered again.
    Returns the final row, or None once it is gone.
    """
    row = await read()
    for _ in range(SETTLE_ROUNDS):
        if row is None:
            return None
        await show(row)
        shown, row = row, await read()
        if row is None or fingerprint(row) == fingerprint(shown):
            return row
    log.warning("the row behind a message kept changing while it was shown: %s", row)
    return row


def content_hash(text: str, blocks: Sequence[Block] | None) -> str:
    return hashlib.sha256(
        json.dumps([text, blocks], sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()


def post_metadata(key: PostKey) -> dict[str, Any]:
    """The message metadata that names a post's natural key, so it can be found in Slack."""
    return {
        "event_type": METADATA_EVENT,
        "event_payload": {
            "provider": key.provider,
            "meeting_id": key.meeting_id,
            "channel_id": key.channel_id,
            "part": key.part,
        },
    }


def carries_key(message: dict[str, Any], key: PostKey) -> bool:
    """Whether a message from conversations.history/replies was posted under ``key``."""
    metadata = message.get("metadata")
    if not isinstance(metadata, dict) or metadata.get("event_type") != METADATA_EVENT:
        return False
    return (
        bool(message.get("bot_id"))
        and metadata.get("event_payload") == (post_metadata(key)["event_payload"])
    )


def _is_uncertain(exc: BaseException) -> bool:
    """A failure after which Slack may or may not have acted on the request."""
    if isinstance(exc, aiohttp.ClientError | TimeoutError):
        return True
    if isinstance(exc, SlackApiError):
        return int(getattr(exc.response, "status_code", 200) or 200) >= 500
    return False


class PostLedger:
    """Messages under natural keys: posted once, updated in place, remembered in the database.

    Args:
        slack: the Web API wrapper the messages go through.
        sessions: the database, where posts and post intents are kept.
        claim_timeout: seconds after which another live attempt's unfinished post is presumed
            dead and taken over (a slow one that finishes after all deletes its twin), when
            that attempt ran outside any job; one in a job is presumed dead when its job's
            lease runs out, and never before.
        clock: the current time, for intents.
        sleep: injectable for tests.
    """

    def __init__(
        self,
        slack: SlackMessenger,
        sessions: async_sessionmaker[AsyncSession],
        *,
        claim_timeout: float = CLAIM_TIMEOUT,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.slack = slack
        self.sessions = sessions
        self.claim_timeout = claim_timeout
        self._clock = clock
        self._sleep = sleep
        # Intents are owned by "<instance>:<attempt>"; an attempt of this instance that is no
        # longer in flight is known to be over, one of another instance only by its age.
        self.instance = uuid.uuid4().hex[:12]
        self.started_at = clock()
        self._in_flight: set[str] = set()
        # chat.postMessage under a key is never retried blindly (a dropped connection or a 5xx
        # may come after Slack posted): it is looked up in Slack first. 429s are safe to retry.
        client = slack.client
        self._posting_client = AsyncWebClient(
            token=client.token,
            base_url=client.base_url,
            timeout=client.timeout,
            session=client.session,
            retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=4)],
        )

    async def find(self, key: PostKey) -> SlackPost | None:
        """The message stored under ``key``, if any."""
        async with self.sessions() as session:
            return await session.get(SlackPost, _pk(key))

    async def upsert(
        self,
        key: PostKey,
        text: str,
        blocks: Sequence[Block] | None = None,
        *,
        thread_ts: str | None = None,
    ) -> Posted:
        """Post the message for ``key``, or update it in place when it was posted before.

        An identical message is left alone; one deleted in Slack meanwhile is posted again.
        Never posts a twin: an intent row is written before posting, and an intent left by an
        attempt that died is resolved by finding its message in Slack (by metadata) first.

        Raises:
            SlackApiError: Slack refused (see ``PERMANENT_SLACK_ERRORS``) or kept failing.
            PostBusy: another attempt kept the key for longer than ``claim_timeout``.
        """
        digest = content_hash(text, blocks)
        token = f"{self.instance}:{uuid.uuid4().hex[:12]}"
        self._in_flight.add(token)
        try:
            rounds = int(self.claim_timeout / CLAIM_POLL) + 20
            for _ in range(rounds):
                posted = await self._upsert_round(_Put(key, text, blocks, thread_ts, digest, token))
                if posted is not None:
                    return posted
            raise PostBusy(f"{key} stayed busy for {self.claim_timeout:.0f}s")
        finally:
            self._in_flight.discard(token)

    async def _upsert_round(self, put: _Put) -> Posted | None:
        """One look at the key and one step towards the message; None: look again."""
        existing = await self.find(put.key)
        if existing is not None:
            return await self._update_existing(put, existing)
        intent = await self._intent(put.key)
        if intent is None:
            if not await self._claim(put.key, put.thread_ts, put.token):
                return None
            return await self._post_claimed(put)
        if intent.posting_by != put.token:
            if not await self._presumed_dead(intent):
                await self._sleep(CLAIM_POLL)
                return None
            if not await self._take_over(put.key, intent.posting_by, put.token):
                return None
            found = await self._lookup(put.key, intent.thread_ts, intent.created_at)
            if found is not None:
                log.info(
                    "%s was posted by an attempt that did not finish: adopting %s", put.key, found
                )
                await self._finish(put.key, put.token, found, intent.thread_ts, None)
                return None  # now an existing message: the next round updates it if needed
        return await self._post_claimed(put)

    async def _update_existing(self, put: _Put, existing: SlackPost) -> Posted | None:
        if existing.content_hash == put.digest:
            return Posted(put.key.channel_id, existing.ts, existing.thread_ts, False)
        try:
            await self.slack.update(put.key.channel_id, existing.ts, put.text, put.blocks)
        except SlackApiError as exc:
            if slack_error(exc) != "message_not_found":
                raise
            log.info(
                "message %s in %s was deleted; posting it again", existing.ts, put.key.channel_id
            )
            if not await self._reclaim_deleted(put.key, existing.ts, put.thread_ts, put.token):
                return None
            return await self._post_claimed(put)
        await self.remember(put.key, existing.ts, existing.thread_ts, put.digest)
        return Posted(put.key.channel_id, existing.ts, existing.thread_ts, True)

    async def _presumed_dead(self, intent: SlackPostIntent) -> bool:
        owner = intent.posting_by.split(":", 1)[0]
        if owner == self.instance:
            return intent.posting_by not in self._in_flight
        if intent.lease_job_id is not None and intent.leased_by is not None:
            # Posted from a job: alive as long as the job's lease is, however long Slack takes,
            # and dead the moment it runs out (the job, claimed again, is the one asking).
            holder = LeaseHolder(intent.lease_job_id, intent.leased_by)
            async with self.sessions() as session:
                return not await job_holds(session, holder, self._clock())
        if intent.posting_since < self.started_at:
            # Taken by a process running before this one started: after a crash, a dead one.
            # Were it alive after all, whichever of the two finishes second deletes its twin.
            return True
        return (self._clock() - intent.posting_since).total_seconds() > self.claim_timeout

    async def _post_claimed(self, put: _Put) -> Posted | None:
        """Post under an intent this attempt owns, and record the message; None if the intent
        was taken over meanwhile (the twin this attempt posted is then deleted).
        """
        await self.slack.pacer.wait(put.key.channel_id)
        arguments = self.slack.message_arguments(
            put.key.channel_id,
            put.text,
            put.blocks,
            put.thread_ts,
            {"metadata": post_metadata(put.key)},
        )
        attempt = 0
        while True:
            attempt += 1
            started = self._clock()
            try:
                answer = await self.slack.send(arguments, client=self._posting_client)
                break
            except Exception as exc:
                if not _is_uncertain(exc) or attempt >= POST_ATTEMPTS:
                    raise
                log.warning(
                    "posting %s failed (%s); looking for it before trying again", put.key, exc
                )
                await self._sleep(0.5 * 2 ** (attempt - 1))
                found = await self._lookup(put.key, put.thread_ts, started)
                if found is not None:
                    answer = {"channel": put.key.channel_id, "ts": found}
                    break
        channel = str(answer.get("channel") or put.key.channel_id)
        ts = str(answer["ts"])
        if await self._finish(put.key, put.token, ts, put.thread_ts, put.digest):
            return Posted(channel, ts, put.thread_ts, True)
        current = await self.find(put.key)
        if current is not None and current.ts == ts:
            return Posted(channel, ts, put.thread_ts, True)  # the attempt that took over adopted it
        log.warning("%s: another attempt took over while this one posted; deleting %s", put.key, ts)
        with contextlib.suppress(SlackApiError):
            await self.slack.client.chat_delete(channel=channel, ts=ts)
        return None

    async def _lookup(self, key: PostKey, thread_ts: str | None, since: datetime) -> str | None:
        """The ts of a message already posted under ``key`` (found by its metadata), if any.

        Raises:
            SlackApiError, aiohttp.ClientError: the search failed for now (not for good).
        """
        common: dict[str, Any] = {
            "channel": key.channel_id,
            "include_all_metadata": True,
            "limit": 200,
        }
        if thread_ts:
            method, common["ts"] = self.slack.client.conversations_replies, thread_ts
        else:
            method = self.slack.client.conversations_history
            # Anything it posted is newer than its intent; a minute covers clocks apart.
            common["oldest"] = f"{since.timestamp() - 60:.6f}"
        cursor: str | None = None
        try:
            for _ in range(LOOKUP_PAGES):
                answer = response_data(await method(**common, cursor=cursor))
                for message in answer.get("messages") or ():
                    if isinstance(message, dict) and carries_key(message, key):
                        return str(message["ts"])
                cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    break
        except SlackApiError as exc:
            if not (is_permanent_slack_error(exc) or slack_error(exc) == "thread_not_found"):
                raise  # Slack is unwell: looking again later beats guessing now
            # Without channels:history (or in a channel the app cannot read) a twin cannot
            # be ruled out; posting is still better than losing the message.
            log.warning("cannot look for %s in Slack (%s); posting it", key, slack_error(exc))
        return None

    async def _intent(self, key: PostKey) -> SlackPostIntent | None:
        async with self.sessions() as session:
            return await session.get(SlackPostIntent, _pk(key))

    async def _claim(self, key: PostKey, thread_ts: str | None, token: str) -> bool:
        values = _intent_values(key, thread_ts, token, self._clock())
        try:
            async with self.sessions() as session, session.begin():
                if not await insert_ignore(session, SlackPostIntent, values):
                    return False
                # Checked after the insert, which waits for a finishing attempt to commit.
                if await session.get(SlackPost, _pk(key)) is not None:
                    raise _Raced
        except _Raced:
            return False
        return True

    async def _take_over(self, key: PostKey, previous: str, token: str) -> bool:
        return await write(
            self.sessions,
            update(SlackPostIntent)
            .where(*_intent_is(key), SlackPostIntent.posting_by == previous)
            .values(posting_by=token, posting_since=self._clock(), **_job_of_attempt()),
        )

    async def _reclaim_deleted(
        self, key: PostKey, old_ts: str, thread_ts: str | None, token: str
    ) -> bool:
        """Forget a message deleted in Slack and claim the key to post it again."""
        values = _intent_values(key, thread_ts, token, self._clock())
        try:
            async with self.sessions() as session, session.begin():
                result = await session.execute(
                    delete(SlackPost).where(*_post_is(key), SlackPost.ts == old_ts)
                )
                if not touched(result):
                    return False
                if not await insert_ignore(session, SlackPostIntent, values):
                    raise _Raced
        except _Raced:
            return False
        return True

    async def _finish(
        self, key: PostKey, token: str, ts: str, thread_ts: str | None, digest: str | None
    ) -> bool:
        """Turn this attempt's intent into the stored post; False when it lost the intent."""
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                delete(SlackPostIntent).where(*_intent_is(key), SlackPostIntent.posting_by == token)
            )
            if not touched(result):
                return False
            _store(session, await session.get(SlackPost, _pk(key)), key, ts, thread_ts, digest)
        return True

    async def remember(
        self, key: PostKey, ts: str, thread_ts: str | None, digest: str | None = None
    ) -> None:
        """Store what was posted under ``key`` (a message ts, or a marker such as a file)."""
        async with self.sessions() as session, session.begin():
            _store(session, await session.get(SlackPost, _pk(key)), key, ts, thread_ts, digest)

    async def parts(self, provider: str, meeting_id: str, channel_id: str) -> list[SlackPost]:
        """Every stored message of one meeting in one channel."""
        async with self.sessions() as session:
            rows = await session.execute(
                select(SlackPost).where(
                    SlackPost.provider == provider,
                    SlackPost.meeting_id == meeting_id,
                    SlackPost.channel_id == channel_id,
                )
            )
            return list(rows.scalars())


def _intent_values(
    key: PostKey, thread_ts: str | None, token: str, now: datetime
) -> dict[str, Any]:
    return {
        "provider": key.provider,
        "meeting_id": key.meeting_id,
        "channel_id": key.channel_id,
        "part": key.part,
        "thread_ts": thread_ts,
        "posting_by": token,
        "posting_since": now,
        "created_at": now,
        **_job_of_attempt(),
    }


def _job_of_attempt() -> dict[str, Any]:
    """The intent's columns naming the job this attempt runs in (None outside a job)."""
    job = running_job.get()
    return {
        "lease_job_id": job.job_id if job else None,
        "leased_by": job.worker if job else None,
    }


def _pk(key: PostKey) -> tuple[str, str, str, str]:
    return (key.provider, key.meeting_id, key.channel_id, key.part)


def _post_is(key: PostKey) -> tuple[ColumnElement[bool], ...]:
    return (
        SlackPost.provider == key.provider,
        SlackPost.meeting_id == key.meeting_id,
        SlackPost.channel_id == key.channel_id,
        SlackPost.part == key.part,
    )


def _intent_is(key: PostKey) -> tuple[ColumnElement[bool], ...]:
    return (
        SlackPostIntent.provider == key.provider,
        SlackPostIntent.meeting_id == key.meeting_id,
        SlackPostIntent.channel_id == key.channel_id,
        SlackPostIntent.part == key.part,
    )


def _store(
    session: AsyncSession,
    row: SlackPost | None,
    key: PostKey,
    ts: str,
    thread_ts: str | None,
    digest: str | None,
) -> None:
    if row is None:
        session.add(
            SlackPost(
                provider=key.provider,
                meeting_id=key.meeting_id,
                channel_id=key.channel_id,
                part=key.part,
                ts=ts,
                thread_ts=thread_ts,
                content_hash=digest,
                updated_at=utcnow(),
            )
        )
    else:
        row.ts, row.thread_ts, row.content_hash, row.updated_at = ts, thread_ts, digest, utcnow()
