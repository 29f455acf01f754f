"""Typed client for Otter.ai's public API (beta, Enterprise plans)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import httpx

from providers.budget import BudgetLedger, WindowBudget
from providers.errors import ProviderResponseError
from providers.http import (
    Clock,
    ProviderTransport,
    RateLimiter,
    RetryPolicy,
    Sleep,
)
from providers.otter.models import (
    AudioLink,
    Channel,
    Conversation,
    CreateConversationResult,
    Envelope,
    Page,
    Workspace,
)

PROVIDER = "otter"
OTTER_API_URL = "https://api.otter.ai/v1"
#: Otter's documented budget: 10 requests a second, then 429.
REQUESTS_PER_SECOND = 10

#: What a digest needs. The transcript is left out because it can be large; ask for it separately.
DIGEST_INCLUDE = ("action_items", "insights", "outlines")

PageT = TypeVar("PageT", bound=Page[Any])

_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


def otter_rate_limiter(
    *,
    ledger: BudgetLedger | None = None,
    clock: Clock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
) -> WindowBudget:
    """Pacing for Otter's documented 10 requests per second.

    A sliding window never puts more than ten requests in any second of ours; its margin (a
    tenth of a second, more when round trips are slower) keeps them apart by the time they
    reach Otter, so that latency jitter cannot bunch eleven into one of Otter's seconds.

    Args:
        ledger: where requests are counted; this process only when omitted. Give every client
            of the same key one shared ledger (``bot.budgets`` keeps one in the database).
        clock: monotonic time, or wall time for a ledger shared between processes.
        sleep: injectable for tests.
    """
    return WindowBudget(
        REQUESTS_PER_SECOND, window=1.0, margin=0.1, ledger=ledger, clock=clock, sleep=sleep
    )


def conversation_id_from(text: str) -> str:
    """The conversation id in an Otter link (`https://otter.ai/u/<id>?…`) or a bare id.

    Raises:
        ValueError: ``text`` is neither, with a message fit to show the user.
    """
    value = text.strip()
    # Slack sends links in message text as <url> or <url|label>.
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1].split("|", 1)[0].strip()
    if _ID.fullmatch(value):
        return value
    candidate = value if "://" in value else f"https://{value}"
    try:
        parts = urlsplit(candidate)
    except ValueError:
        parts = None
    host = (parts.hostname or "") if parts else ""
    if parts is not None and (host == "otter.ai" or host.endswith(".otter.ai")):
        segments = [s for s in parts.path.split("/") if s]
        if len(segments) == 2 and segments[0] == "u" and _ID.fullmatch(segments[1]):
            return segments[1]
    raise ValueError(
        f"{text.strip()[:80]!r} is not an Otter conversation: "
        "paste a link like https://otter.ai/u/<id> or the conversation id"
    )


def include_param(include: Iterable[str] | str) -> str | None:
    """The `include` query value: comma-separated, de-duplicated, `all` absorbing the rest."""
    tokens = include.split(",") if isinstance(include, str) else list(include)
    cleaned = list(dict.fromkeys(t.strip().lower() for t in tokens if t and t.strip()))
    if "all" in cleaned:
        return "all"
    return ",".join(cleaned) or None


class OtterClient:
    """Otter.ai's REST API, paced to its 10 requests per second.

    Args:
        http_client: the shared ``httpx.AsyncClient`` (see ``providers.http.build_http_client``).
        api_key: an Otter API key, sent as ``Authorization: Bearer``.
        base_url: the API root; the sandbox stand-in's ``api_url`` in tests.
        limiter: pacing; :func:`otter_rate_limiter` (in this process) when omitted. Pass a
            limiter on a shared ledger when several clients or processes use the same key.
        retry: retry policy. Otter reportedly sends no ``Retry-After``, so a 429 backs off
            exponentially.
        sleep: injectable for tests.
    """

    def __init__(
        self,
        http_client: httpx.AsyncClient,
        *,
        api_key: str,
        base_url: str = OTTER_API_URL,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not api_key:
            raise ValueError("an Otter API key is required")
        self._transport = ProviderTransport(
            PROVIDER,
            http_client,
            base_url=base_url,
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            limiter=limiter or otter_rate_limiter(),
            retry=retry,
            sleep=sleep,
        )

    @property
    def limiter(self) -> RateLimiter:
        """The limiter pacing this client."""
        return self._transport.limiter

    async def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return await self._transport.json("GET", path, params=params)

    async def list_channels(self) -> list[Channel]:
        """Channels the user is a member of, alphabetically.

        Raises:
            ProviderError: a subclass per failure (see ``providers.errors``).
        """
        channels: list[Channel] = []
        async for page in self._pages("channels", {}, Page[Channel]):
            channels.extend(page.data)
        return channels

    async def list_conversations(
        self,
        *,
        include_shared: bool | None = None,
        channel_id: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[Conversation]:
        """One page of conversations, most recent first.

        Args:
            include_shared: also list conversations shared with the user (Otter's default: no).
            channel_id: only this channel's conversations (implies ``include_shared``).
            limit: page size, 1 to 100.
            cursor: ``meta.next_cursor`` of the previous page.

        Raises:
            ValueError: ``limit`` is outside 1–100.
            NotFound: the channel does not exist.
            ProviderError: another failure (see ``providers.errors``).
        """
        params = _conversation_params(include_shared, channel_id, limit)
        if cursor:
            params["cursor"] = cursor
        body = await self._get("conversations", params)
        return self._transport.parse(Page[Conversation], body)

    async def iter_conversation_pages(
        self,
        *,
        include_shared: bool | None = None,
        channel_id: str | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[Page[Conversation]]:
        """Every page of conversations, following ``next_cursor`` while ``has_more``.

        Raises:
            ProviderResponseError: Otter says there is more but gives no new cursor.
            ProviderError: another failure (see ``providers.errors``).
        """
        params = _conversation_params(include_shared, channel_id, limit)
        async for page in self._pages("conversations", params, Page[Conversation]):
            yield page

    async def iter_conversations(
        self,
        *,
        include_shared: bool | None = None,
        channel_id: str | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[Conversation]:
        """Every conversation, most recent first; pages are fetched as the caller iterates.

        Raises:
            ProviderError: see :meth:`iter_conversation_pages`.
        """
        pages = self.iter_conversation_pages(
            include_shared=include_shared, channel_id=channel_id, limit=limit
        )
        async for page in pages:
            for conversation in page.data:
                yield conversation

    async def _pages(
        self, path: str, params: dict[str, Any], model: type[PageT]
    ) -> AsyncIterator[PageT]:
        seen: set[str] = set()
        cursor: str | None = None
        while True:
            query = dict(params)
            if cursor:
                query["cursor"] = cursor
            page = self._transport.parse(model, await self._get(path, query))
            yield page
            if not page.meta.has_more:
                return
            cursor = page.meta.next_cursor
            # Following a missing or repeated cursor would fetch the same page forever.
            if not cursor or cursor in seen:
                raise ProviderResponseError(
                    PROVIDER, f"GET /{path} says has_more but gives no new next_cursor"
                )
            seen.add(cursor)

    async def get_conversation(
        self, conversation_id: str, include: Iterable[str] | str = DIGEST_INCLUDE
    ) -> Conversation:
        """One conversation with the requested relationships.

        Args:
            conversation_id: the id (see :func:`conversation_id_from` for links).
            include: any of `action_items`, `insights`, `outlines`, `transcript`, or `"all"`;
                a comma-separated string works too. Empty sends no `include` at all.

        Raises:
            NotFound: no such conversation (or not visible to this key).
            ProviderError: another failure (see ``providers.errors``).
        """
        params: dict[str, Any] = {}
        encoded = include_param(include)
        if encoded:
            params["include"] = encoded
        body = await self._get(_conversation_path(conversation_id), params)
        return self._transport.parse(Envelope[Conversation], body).data

    async def get_audio(self, conversation_id: str) -> AudioLink:
        """The MP3 download link of a conversation.

        Raises:
            NotFound: no such conversation.
            ProviderError: another failure (see ``providers.errors``).
        """
        body = await self._get(f"{_conversation_path(conversation_id)}/audio")
        return self._transport.parse(Envelope[AudioLink], body).data

    async def create_conversation(
        self, file_url: str, name: str | None = None
    ) -> CreateConversationResult:
        """Ask Otter to import and process a recording from ``file_url``.

        Args:
            file_url: a URL Otter can download the audio or video from.
            name: the conversation's title.

        Raises:
            BadRequest: Otter refused the file or the parameters.
            ProviderError: another failure (see ``providers.errors``).
        """
        payload: dict[str, str] = {"file": file_url}
        if name:
            payload["name"] = name
        body = await self._transport.json("POST", "conversations", json=payload)
        return self._transport.parse(CreateConversationResult, body)

    async def get_workspace(self) -> Workspace:
        """The authenticated user's workspace.

        Raises:
            NotFound: the user is not in a workspace.
            ProviderError: another failure (see ``providers.errors``).
        """
        body = await self._get("workspace")
        return self._transport.parse(Envelope[Workspace], body).data


def _conversation_path(conversation_id: str) -> str:
    if not conversation_id or not conversation_id.strip():
        raise ValueError("a conversation id is required")
    return f"conversations/{quote(conversation_id.strip(), safe='')}"


def _conversation_params(
    include_shared: bool | None, channel_id: str | None, limit: int | None
) -> dict[str, Any]:
    if limit is not None and not 1 <= limit <= 100:
        raise ValueError("limit must be between 1 and 100")
    params: dict[str, Any] = {}
    if include_shared is not None:
        params["include_shared"] = "true" if include_shared else "false"
    if channel_id:
        params["channel_id"] = channel_id
    if limit is not None:
        params["limit"] = limit
    return params
