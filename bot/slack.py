"""The Slack Web API as Debrief uses it: one shared session, retries, per-channel pacing, and
messages kept under a meeting's natural key so that a retry updates instead of re-posting.

A message under a key is posted behind an intent row and carries the key in its metadata, so
that neither a crash between the post and its answer nor two workers at once make a twin: the
next attempt finds the message in Slack (conversations.history/replies, which needs the
``channels:history`` and ``groups:history`` scopes) instead of posting it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient
from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.blockkit import MESSAGE_TEXT, escape, file_title, fit
from bot.jobs import Verdict
from bot.leases import LeaseHolder, job_holds, running_job
from bot.store.db import insert_ignore, touched, write
from bot.store.models import SlackPost, SlackPostIntent, utcnow

log = logging.getLogger(__name__)

Block = dict[str, Any]

# Errors that the same call will meet again however often it is retried.
PERMANENT_SLACK_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "no_text",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "missing_scope",
        "user_not_found",
        "users_not_found",
        "cant_update_message",
        "restricted_action",
    }
)


#: Errors of a message's blocks: the message is then sent as plain text (and the blocks logged).
BLOCK_ERRORS = frozenset({"invalid_blocks", "invalid_blocks_format"})
#: Slack truncates text past 40,000 characters; leave room for the ellipsis.
PLAIN_TEXT_LIMIT = MESSAGE_TEXT - 1000
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


def slack_error(exc: SlackApiError) -> str:
    """The ``error`` code of a Slack API failure (``unknown`` when the body has none)."""
    data = getattr(exc.response, "data", None)
    if isinstance(data, dict):
        return str(data.get("error") or "unknown")
    return "unknown"


def is_permanent_slack_error(exc: BaseException) -> bool:
    return isinstance(exc, SlackApiError) and slack_error(exc) in PERMANENT_SLACK_ERRORS


def slack_verdict(exc: SlackApiError) -> Verdict:
    """How the job queue treats a Slack API failure: SlackApiError cannot say it itself.

    A rate limit or a 5xx reaches a job only once the client's own retries ran out; the
    queue's backoff is the next, longer wait.
    """
    return Verdict(retryable=slack_error(exc) not in PERMANENT_SLACK_ERRORS)


def create_slack_client(
    token: str | None, base_url: str, session: aiohttp.ClientSession
) -> AsyncWebClient:
    """A Web API client on the shared aiohttp session, retrying connection errors, 429 and 5xx.

    Args:
        token: the bot token (``xoxb-…``).
        base_url: ``SLACK_API_URL``: Slack's, GovSlack's or the sandbox's.
        session: shared with every other Slack call; the caller closes it.
    """
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        session=session,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=3),
            AsyncRateLimitErrorRetryHandler(max_retry_count=4),
            AsyncServerErrorRetryHandler(max_retry_count=3),
        ],
    )


class ChannelPacer:
    """Spaces messages to one channel ``interval`` seconds apart (Slack's ~1 per second)."""

    def __init__(
        self,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._next: dict[str, float] = {}
        self._lock = asyncio.Lock()

    async def wait(self, channel: str) -> None:
        if self.interval <= 0:
            return
        async with self._lock:
            now = self._clock()
            slot = max(now, self._next.get(channel, 0.0))
            self._next[channel] = slot + self.interval
            if len(self._next) > 10_000:  # forget channels long quiet
                self._next = {c: t for c, t in self._next.items() if t > now}
        delay = slot - now
        if delay > 0:
            await self._sleep(delay)


@dataclass(frozen=True)
class Thread:
    """Where a private answer goes when the click came from a thread: Slack puts a response_url
    answer in a thread only when it is for everyone (``in_channel``), and shows an ephemeral one
    in the channel whatever ``thread_ts`` says, so a private answer in a thread is a
    ``chat.postEphemeral`` to that person there."""

    channel: str
    user: str
    ts: str


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


def blocks_to_text(text: str, blocks: Sequence[Block] | None) -> str:
    """A plain-text rendering of a message whose blocks Slack refused: the fallback text, then
    the words of every header, section and context block (buttons and images left out).

    The result is read as mrkdwn, so ``plain_text`` objects (a header holding a meeting's
    title as typed) are escaped on the way: a title of ``<!channel>`` must not ping anyone.
    """
    lines = [text] if text else []

    def words(obj: Any) -> str:
        if not isinstance(obj, dict):
            return ""
        said = str(obj.get("text", ""))
        return escape(said) if obj.get("type") == "plain_text" else said

    for block in blocks or ():
        kind = block.get("type")
        if kind in ("header", "section"):
            lines.append(words(block.get("text")))
        if kind == "section":
            lines += [words(f) for f in block.get("fields") or ()]
        if kind == "context":
            lines += [
                words(e)
                for e in block.get("elements") or ()
                if isinstance(e, dict) and e.get("type") in ("mrkdwn", "plain_text")
            ]
    return fit("\n".join(line for line in lines if line), PLAIN_TEXT_LIMIT)


def _is_uncertain(exc: BaseException) -> bool:
    """A failure after which Slack may or may not have acted on the request."""
    if isinstance(exc, aiohttp.ClientError | TimeoutError):
        return True
    if isinstance(exc, SlackApiError):
        return int(getattr(exc.response, "status_code", 200) or 200) >= 500
    return False


def _data(response: Any) -> dict[str, Any]:
    return dict(response.data) if isinstance(response.data, dict) else {}


class SlackMessenger:
    """Posts and updates messages, paced per channel, remembering them under natural keys.

    Args:
        client: the Web API client (see :func:`create_slack_client`).
        sessions: the database, where posts and post intents are kept.
        pacer: spaces messages to one channel.
        claim_timeout: seconds after which another live attempt's unfinished post is presumed
            dead and taken over (a slow one that finishes after all deletes its twin), when
            that attempt ran outside any job; one in a job is presumed dead when its job's
            lease runs out, and never before.
        clock: the current time, for intents.
        sleep: injectable for tests.
    """

    def __init__(
        self,
        client: AsyncWebClient,
        sessions: async_sessionmaker[AsyncSession],
        pacer: ChannelPacer,
        *,
        claim_timeout: float = CLAIM_TIMEOUT,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.client = client
        self.sessions = sessions
        self.pacer = pacer
        self.claim_timeout = claim_timeout
        self._clock = clock
        self._sleep = sleep
        self._timezones: dict[str, tuple[tzinfo, float]] = {}
        # Intents are owned by "<instance>:<attempt>"; an attempt of this instance that is no
        # longer in flight is known to be over, one of another instance only by its age.
        self.instance = uuid.uuid4().hex[:12]
        self.started_at = clock()
        self._in_flight: set[str] = set()
        # chat.postMessage under a key is never retried blindly (a dropped connection or a 5xx
        # may come after Slack posted): it is looked up in Slack first. 429s are safe to retry.
        self._posting_client = AsyncWebClient(
            token=client.token,
            base_url=client.base_url,
            timeout=client.timeout,
            session=client.session,
            retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=4)],
        )

    async def post(
        self,
        channel: str,
        text: str,
        blocks: Sequence[Block] | None = None,
        *,
        thread_ts: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """``chat.postMessage`` paced to the channel; returns Slack's answer.

        A public channel the app is not in is joined first; blocks Slack refuses are logged and
        the message is sent as plain text instead.
        """
        await self.pacer.wait(channel)
        return await self._send(
            self.client, self._arguments(channel, text, blocks, thread_ts, extra)
        )

    @staticmethod
    def _arguments(
        channel: str,
        text: str,
        blocks: Sequence[Block] | None,
        thread_ts: str | None,
        extra: dict[str, Any],
    ) -> dict[str, Any]:
        return {
            "channel": channel,
            "text": text,
            "blocks": list(blocks) if blocks else None,
            "thread_ts": thread_ts,
            "unfurl_links": False,
            "unfurl_media": False,
            **extra,
        }

    async def _send(self, client: AsyncWebClient, arguments: dict[str, Any]) -> dict[str, Any]:
        try:
            return _data(await self._post_or_join(client, arguments))
        except SlackApiError as exc:
            if slack_error(exc) not in BLOCK_ERRORS or not arguments.get("blocks"):
                raise
            _log_refused_blocks("chat.postMessage", arguments["channel"], exc, arguments["blocks"])
            plain = {
                **arguments,
                "blocks": None,
                "text": blocks_to_text(arguments["text"], arguments["blocks"]),
            }
            return _data(await self._post_or_join(client, plain))

    async def _post_or_join(self, client: AsyncWebClient, arguments: dict[str, Any]) -> Any:
        try:
            return await client.chat_postMessage(**arguments)
        except SlackApiError as exc:
            if slack_error(exc) != "not_in_channel":
                raise
            channel = arguments["channel"]
            # A public channel the app was never invited to: join it and try once more. A
            # private one refuses the join; the app must be invited, as not_in_channel says.
            log.info("joining %s to post there", channel)
            try:
                await self.client.conversations_join(channel=channel)
            except SlackApiError as join_error:
                log.warning(
                    "cannot join %s (%s): invite the app to the channel",
                    channel,
                    slack_error(join_error),
                )
                raise exc from join_error
            return await client.chat_postMessage(**arguments)

    async def update(
        self, channel: str, ts: str, text: str, blocks: Sequence[Block] | None = None
    ) -> dict[str, Any]:
        """``chat.update`` of one message; refused blocks fall back to plain text, as in post."""
        try:
            response = await self.client.chat_update(
                channel=channel, ts=ts, text=text, blocks=list(blocks) if blocks else []
            )
        except SlackApiError as exc:
            if slack_error(exc) not in BLOCK_ERRORS or not blocks:
                raise
            _log_refused_blocks("chat.update", channel, exc, list(blocks))
            response = await self.client.chat_update(
                channel=channel, ts=ts, text=blocks_to_text(text, blocks), blocks=[]
            )
        return _data(response)

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
            await self.update(put.key.channel_id, existing.ts, put.text, put.blocks)
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
        await self.pacer.wait(put.key.channel_id)
        arguments = self._arguments(
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
                answer = await self._send(self._posting_client, arguments)
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
            await self.client.chat_delete(channel=channel, ts=ts)
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
            method, common["ts"] = self.client.conversations_replies, thread_ts
        else:
            method = self.client.conversations_history
            # Anything it posted is newer than its intent; a minute covers clocks apart.
            common["oldest"] = f"{since.timestamp() - 60:.6f}"
        cursor: str | None = None
        try:
            for _ in range(LOOKUP_PAGES):
                answer = _data(await method(**common, cursor=cursor))
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

    async def respond(
        self,
        response_url: str,
        text: str,
        blocks: Sequence[Block] | None = None,
        *,
        replace_original: bool = False,
        thread: Thread | None = None,
    ) -> None:
        """Answer an interaction privately through its ``response_url`` (valid for 30 minutes),
        or in ``thread`` when the click came from one (else Slack shows the answer in the
        channel, away from the thread the person is reading)."""
        if (
            thread is not None
            and not replace_original
            and await self.answer_in_thread(thread, text, blocks)
        ):
            return
        webhook = AsyncWebhookClient(response_url, session=self.client.session)
        response = await webhook.send(
            text=text,
            blocks=list(blocks) if blocks else None,
            response_type="ephemeral",
            replace_original=replace_original,
        )
        if response.status_code >= 400:
            log.warning("response_url answered %d: %s", response.status_code, response.body)

    async def answer_in_thread(
        self, thread: Thread, text: str, blocks: Sequence[Block] | None = None
    ) -> bool:
        """Show ``text`` to ``thread.user`` alone in that thread; False when Slack refuses (the
        app left the channel, say), so that the caller answers in the channel instead."""
        try:
            await self.client.chat_postEphemeral(
                channel=thread.channel,
                user=thread.user,
                thread_ts=thread.ts,
                text=text,
                blocks=list(blocks) if blocks else None,
            )
        except SlackApiError as exc:
            log.info("no private answer in the thread (%s); in the channel", slack_error(exc))
            return False
        return True

    async def user_timezone(self, user_id: str) -> tzinfo:
        """A user's Slack time zone (``users.info``), cached; UTC when Slack does not say."""
        cached = self._timezones.get(user_id)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        zone: tzinfo = UTC
        try:
            answer = await self.client.users_info(user=user_id)
            name = (answer.get("user") or {}).get("tz")
            if name:
                zone = ZoneInfo(name)
        except (SlackApiError, ZoneInfoNotFoundError, ValueError) as exc:
            log.info("no time zone for %s (%s); using UTC", user_id, exc)
        self._timezones[user_id] = (zone, time.monotonic() + 3600)
        return zone

    async def upload_text(
        self, channel: str, thread_ts: str | None, filename: str, content: str, title: str
    ) -> None:
        """Share a text file in a channel or thread (``files_upload_v2``'s three steps)."""
        await self.pacer.wait(channel)
        await self.client.files_upload_v2(
            channel=channel,
            thread_ts=thread_ts,
            filename=filename,
            content=content,
            title=file_title(title),
        )


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


def _log_refused_blocks(
    method: str, channel: str, exc: SlackApiError, blocks: Sequence[Block]
) -> None:
    data = getattr(exc.response, "data", None)
    details: Any = None
    if isinstance(data, dict):
        details = data.get("errors") or (data.get("response_metadata") or {}).get("messages")
    log.warning(
        "%s in %s: Slack refused the blocks (%s %s); sending plain text instead. Blocks: %s",
        method,
        channel,
        slack_error(exc),
        details or "",
        json.dumps(list(blocks), ensure_ascii=False)[:20_000],
    )
