"""The Slack Web API as Debrief uses it: one shared session, retries, per-channel pacing, Slack's
errors mapped to what a job does next, and one cached lookup of people (``users.info``).

Messages kept under a meeting's natural key, posted exactly once, are ``bot.posting``'s.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.blockkit import MESSAGE_TEXT, escape, file_title, fit
from bot.cache import TTLCache
from bot.jobs import Verdict

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
#: Seconds a ``users.info`` answer is reused by default (``DEBRIEF_MEMBERSHIP_TTL`` in the app):
#: an admin flag taken away stops counting within a minute.
PEOPLE_TTL = 60.0


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
class Person:
    """A Slack user as ``users.info`` describes them: what Debrief reads of one."""

    id: str
    user: Mapping[str, Any]

    @property
    def is_admin(self) -> bool:
        """A workspace admin or owner."""
        return bool(
            self.user.get("is_admin")
            or self.user.get("is_owner")
            or self.user.get("is_primary_owner")
        )

    @property
    def timezone(self) -> tzinfo:
        """Their Slack time zone; UTC when Slack does not say (or names one unknown here)."""
        name = self.user.get("tz")
        if not name:
            return UTC
        try:
            return ZoneInfo(str(name))
        except (ZoneInfoNotFoundError, ValueError):
            log.info("unknown time zone %r for %s; using UTC", name, self.id)
            return UTC

    @property
    def profile(self) -> Mapping[str, Any]:
        profile = self.user.get("profile")
        return profile if isinstance(profile, Mapping) else {}

    def label(self) -> str:
        """``Ada Lovelace (@ada)``: the full name and the handle people mention (else the id)."""
        real = str(self.user.get("real_name") or self.profile.get("real_name") or "").strip()
        handle = str(self.profile.get("display_name") or self.user.get("name") or "").strip()
        if real and handle and handle != real:
            return f"{real} (@{handle})"
        if real or handle:
            return real or f"@{handle}"
        return self.id


class People:
    """``users.info``, one answer per person reused ``ttl`` seconds by everything that needs one
    (time zone, admin flag, name, email): one call serves them all.

    A failure is not cached: the next lookup asks Slack again.
    """

    def __init__(
        self,
        client: AsyncWebClient,
        ttl: float = PEOPLE_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self._cache: TTLCache[Person] = TTLCache(ttl, clock)

    async def get(self, user_id: str) -> Person:
        """The person with ``user_id``.

        Raises:
            SlackApiError: Slack refused (``user_not_found``, a missing scope, …).
            aiohttp.ClientError, TimeoutError: Slack could not be reached.
        """
        cached = self._cache.get(user_id)
        if cached is not None:
            return cached
        answer = await self.client.users_info(user=user_id)
        user = answer.get("user")
        person = Person(user_id, dict(user) if isinstance(user, dict) else {})
        self._cache.put(user_id, person)
        return person


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


def response_data(response: Any) -> dict[str, Any]:
    """The body of a Web API answer as a plain dict."""
    return dict(response.data) if isinstance(response.data, dict) else {}


class SlackMessenger:
    """Posts, updates and uploads, paced per channel; private answers; who people are.

    Args:
        client: the Web API client (see :func:`create_slack_client`).
        pacer: spaces messages to one channel.
        people: the cached ``users.info`` lookup; one of its own (``PEOPLE_TTL``) by default.
    """

    def __init__(
        self, client: AsyncWebClient, pacer: ChannelPacer, *, people: People | None = None
    ) -> None:
        self.client = client
        self.pacer = pacer
        self.people = people or People(client)

    async def open_dm(self, user: str) -> str:
        """The id of the app's DM channel with ``user`` (``conversations.open``)."""
        answer = await self.client.conversations_open(users=user)
        return str((answer.get("channel") or {})["id"])

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
        return await self.send(self.message_arguments(channel, text, blocks, thread_ts, extra))

    @staticmethod
    def message_arguments(
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

    async def send(
        self, arguments: dict[str, Any], *, client: AsyncWebClient | None = None
    ) -> dict[str, Any]:
        """``chat.postMessage`` with :meth:`message_arguments`, unpaced (the caller waits its
        turn), on ``client`` (this messenger's by default)."""
        client = client or self.client
        try:
            return response_data(await self._post_or_join(client, arguments))
        except SlackApiError as exc:
            if slack_error(exc) not in BLOCK_ERRORS or not arguments.get("blocks"):
                raise
            _log_refused_blocks("chat.postMessage", arguments["channel"], exc, arguments["blocks"])
            plain = {
                **arguments,
                "blocks": None,
                "text": blocks_to_text(arguments["text"], arguments["blocks"]),
            }
            return response_data(await self._post_or_join(client, plain))

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
        return response_data(response)

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
        """A user's Slack time zone (``users.info``, cached); UTC when Slack does not say."""
        try:
            person = await self.people.get(user_id)
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            log.info("no time zone for %s (%r); using UTC", user_id, exc)
            return UTC
        return person.timezone

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
