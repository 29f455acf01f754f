"""Typed client for Attendee's bot API (``/api/v1``), hosted or self-hosted."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
import pydantic

from providers.attendee.calendars import CalendarApi
from providers.attendee.models import Bot, BotPage, CreateBot, Recording, Transcript, Utterance
from providers.attendee.paging import cursor_params, iso
from providers.budget import BudgetLedger, WindowBudget
from providers.errors import BadRequest, Conflict, NotFound, ProviderResponseError
from providers.http import Clock, ProviderTransport, RateLimiter, RetryPolicy, Sleep

PROVIDER = "attendee"
DEFAULT_BASE_URL = "https://app.attendee.dev"
#: Self-hosted Attendee's default throttle for POSTs, per project.
DEFAULT_POSTS_PER_MINUTE = 3000

_DEDUPLICATION_ERROR = re.compile(r"deduplication key already in use", re.IGNORECASE)
# "Event leave_requested not allowed when bot is in state leaving. …" and
# "Bot is in state joining but can only be deleted when in scheduled state".
_STATE_ERROR = re.compile(
    r"not allowed when bot is in state (?P<a>\w+)|bot is in state (?P<b>\w+)", re.IGNORECASE
)
_NO_RECORDING = re.compile(r"no recording", re.IGNORECASE)
_STATES_PAST_LEAVING = frozenset(
    {"leaving", "post_processing", "ended", "fatal_error", "data_deleted"}
)


class DuplicateBot(BadRequest):
    """400: a bot with this ``deduplication_key`` is still active (not ended or failed)."""

    def __init__(self, message: str, *, deduplication_key: str | None, body: object = None) -> None:
        super().__init__(PROVIDER, message, status_code=400, body=body)
        self.deduplication_key = deduplication_key


class InvalidBotState(Conflict):
    """The bot's ``state`` does not allow this (Attendee answers 400; ``status_code`` keeps it)."""

    def __init__(self, message: str, *, state: str | None, status_code: int, body: object) -> None:
        super().__init__(PROVIDER, message, status_code=status_code, body=body)
        self.state = state


class AlreadyLeaving(InvalidBotState):
    """Leave was refused because the bot is already leaving, processing or finished."""


def post_cost(method: str) -> float:
    """A request's weight in Attendee's budget: 1 for POST, 0 (never waits) for anything else."""
    return 1.0 if method.upper() == "POST" else 0.0


def attendee_rate_limiter(
    posts_per_minute: float = DEFAULT_POSTS_PER_MINUTE,
    *,
    window: float = 60.0,
    ledger: BudgetLedger | None = None,
    clock: Clock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
) -> WindowBudget:
    """Never more than ``posts_per_minute`` POSTs in any minute, for one Attendee project.

    Attendee throttles POSTs only: with :func:`post_cost` every other request costs nothing,
    and a :class:`WindowBudget` never holds a request that costs nothing, not even while a 429
    pauses the POSTs.

    Args:
        posts_per_minute: the project's budget (self-hosted Attendee's default is 3000).
        window: the minute, in seconds; benchmarks scale it down.
        ledger: where POSTs are counted; this process only when omitted. Give every client of
            the same project one shared ledger (``bot.budgets`` keeps one in the database).
        clock: monotonic time, or wall time for a ledger shared between processes.
        sleep: injectable for tests.
    """
    return WindowBudget(posts_per_minute, window=window, ledger=ledger, clock=clock, sleep=sleep)


def _api_root(base_url: str) -> str:
    root = base_url.rstrip("/")
    # ATTENDEE_API_URL is documented as the host, but people paste the API root too.
    if root.endswith("/api/v1"):
        root = root[: -len("/api/v1")]
    return f"{root}/api/v1"


def _bot_path(bot_id: str, *rest: str) -> str:
    if not bot_id:
        raise ValueError("bot_id must not be empty")
    return "/".join(("bots", quote(bot_id, safe=""), *rest))


def _state_in(message: str) -> str | None:
    match = _STATE_ERROR.search(message)
    return (match.group("a") or match.group("b")) if match else None


class AttendeeClient:
    """Attendee's bot API: create, list, inspect and dismiss bots; fetch transcripts and recordings.

    Args:
        http_client: the shared ``httpx.AsyncClient``; not closed here.
        api_key: the project's API key, sent as ``Authorization: Token <key>``.
        base_url: Attendee's address (``ATTENDEE_API_URL``); ``/api/v1`` is appended.
        limiter: the POST budget; :func:`attendee_rate_limiter` (3000 POSTs a minute, in this
            process) when omitted. Pass one limiter on a shared ledger to every client of the
            same Attendee project.
        retry: the retry policy; the transport's default when omitted.
        sleep: injectable for tests.
    """

    provider = PROVIDER

    def __init__(
        self,
        http_client: httpx.AsyncClient,
        *,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._transport = ProviderTransport(
            PROVIDER,
            http_client,
            base_url=_api_root(base_url),
            headers={"Authorization": f"Token {api_key}", "Accept": "application/json"},
            limiter=limiter if limiter is not None else attendee_rate_limiter(sleep=sleep),
            cost=post_cost,
            retry=retry,
            sleep=sleep,
        )

    @property
    def limiter(self) -> RateLimiter:
        """The limiter pacing this client's POSTs."""
        return self._transport.limiter

    @property
    def calendars(self) -> CalendarApi:
        """The calendar API (``providers.attendee.calendars``), on this client's budget."""
        return CalendarApi(self._transport)

    async def create_bot(self, bot: CreateBot | None = None, /, **fields: Any) -> Bot:
        """Send a bot to a meeting (state ``joining``, or ``scheduled`` with ``join_at``).

        Pass a :class:`CreateBot` or its fields as keywords. A create is retried after a 5xx or a
        timeout only when it carries a ``deduplication_key``: Attendee then refuses a second
        active bot with that key, so a retry cannot make two bots. The price is that a retry
        whose first attempt did succeed ends in :class:`DuplicateBot`; callers who retried
        should treat that as "it exists" and look it up with :meth:`find_active_bot`.

        Args:
            bot: the request; or leave it out and give its fields as keyword arguments.

        Raises:
            ValueError: the fields do not make a valid request (unknown or mistyped fields).
            DuplicateBot: an active bot already has this ``deduplication_key``.
            BadRequest: Attendee refused the request; ``message`` reads like
                ``"meeting_url: Invalid meeting URL"``.
            AuthenticationFailed: the API key is missing or wrong.
            RateLimited: the POST budget is exhausted even after waiting.
            ProviderUnavailable: Attendee could not be reached or kept failing.
        """
        if bot is None:
            try:
                bot = CreateBot(**fields)
            except pydantic.ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
                )
                raise ValueError(f"invalid Attendee bot request: {problems}") from None
        elif fields:
            raise TypeError("pass either a CreateBot or keyword fields, not both")
        try:
            data = await self._transport.json(
                "POST",
                "bots",
                json=bot.to_request(),
                idempotent=bot.deduplication_key is not None,
            )
        except BadRequest as exc:
            if _DEDUPLICATION_ERROR.search(exc.message):
                raise DuplicateBot(
                    exc.message, deduplication_key=bot.deduplication_key, body=exc.body
                ) from exc
            raise
        return self._transport.parse(Bot, data)

    async def list_bots(
        self,
        *,
        meeting_url: str | None = None,
        deduplication_key: str | None = None,
        states: Iterable[str] | None = None,
        join_at_after: datetime | None = None,
        join_at_before: datetime | None = None,
        cursor: str | None = None,
    ) -> BotPage:
        """One page of the project's bots, oldest first (25 a page on Attendee).

        Args:
            meeting_url: only bots for this exact meeting URL.
            deduplication_key: only bots with this key.
            states: only bots in one of these states.
            join_at_after: only bots whose ``join_at`` is later (timezone-aware).
            join_at_before: only bots whose ``join_at`` is earlier (timezone-aware).
            cursor: a page's ``next``/``previous`` URL or a bare cursor; it carries the filters
                of the first request, so the other arguments are then ignored.

        Raises:
            BadRequest: an unknown state or a malformed date.
            AuthenticationFailed: the API key is missing or wrong.
            ProviderUnavailable: Attendee could not be reached or kept failing.
        """
        params: list[tuple[str, str]]
        if cursor:
            params = cursor_params(cursor)
        else:
            params = []
            if meeting_url:
                params.append(("meeting_url", meeting_url))
            if deduplication_key:
                params.append(("deduplication_key", deduplication_key))
            params.extend(("states", str(state)) for state in states or ())
            if join_at_after is not None:
                params.append(("join_at_after", iso(join_at_after)))
            if join_at_before is not None:
                params.append(("join_at_before", iso(join_at_before)))
        data = await self._transport.json("GET", "bots", params=params)
        return self._transport.parse(BotPage, data)

    async def iter_bots(
        self,
        *,
        meeting_url: str | None = None,
        deduplication_key: str | None = None,
        states: Iterable[str] | None = None,
        join_at_after: datetime | None = None,
        join_at_before: datetime | None = None,
    ) -> AsyncIterator[Bot]:
        """Every matching bot, following the ``next`` cursors page by page.

        Raises:
            As :meth:`list_bots`; also ProviderResponseError if Attendee repeats a cursor.
        """
        page = await self.list_bots(
            meeting_url=meeting_url,
            deduplication_key=deduplication_key,
            states=list(states) if states is not None else None,
            join_at_after=join_at_after,
            join_at_before=join_at_before,
        )
        seen: set[str] = set()
        while True:
            for bot in page.results:
                yield bot
            if not page.next:
                return
            if page.next in seen:
                raise ProviderResponseError(PROVIDER, "bot list paging went in a circle")
            seen.add(page.next)
            page = await self.list_bots(cursor=page.next)

    async def find_active_bot(self, deduplication_key: str) -> Bot | None:
        """The bot holding ``deduplication_key`` that is not ended or failed, if there is one.

        Raises:
            As :meth:`list_bots`.
        """
        async for bot in self.iter_bots(deduplication_key=deduplication_key):
            if not bot.is_terminal:
                return bot
        return None

    async def get_bot(self, bot_id: str) -> Bot:
        """One bot with its full event history.

        Raises:
            NotFound: no such bot in this project.
            AuthenticationFailed: the API key is missing or wrong.
            ProviderUnavailable: Attendee could not be reached or kept failing.
        """
        data = await self._transport.json("GET", _bot_path(bot_id))
        return self._transport.parse(Bot, data)

    async def leave_bot(self, bot_id: str) -> Bot:
        """Ask the bot to leave its meeting; it answers in state ``leaving``.

        Retried after a 5xx or timeout like an idempotent request: a second leave changes
        nothing, and if the first one did land, the retry ends in :class:`AlreadyLeaving`.

        Raises:
            AlreadyLeaving: the bot is already leaving, processing or finished; ``state`` says
                which. Usually fine to treat as success.
            InvalidBotState: the bot cannot leave from its state (``scheduled``, say).
            NotFound: no such bot.
            AuthenticationFailed, RateLimited, ProviderUnavailable: as for any request.
        """
        try:
            data = await self._transport.json("POST", _bot_path(bot_id, "leave"), idempotent=True)
        except BadRequest as exc:
            mapped = self._state_error(exc, leaving=True)
            if mapped is exc:
                raise
            raise mapped from exc
        return self._transport.parse(Bot, data)

    async def delete_bot(self, bot_id: str) -> None:
        """Delete a bot that is still ``scheduled`` (Attendee allows nothing else).

        Raises:
            InvalidBotState: the bot is no longer scheduled; ``state`` says where it is.
            NotFound: no such bot (also the answer to a retried delete that had succeeded).
            AuthenticationFailed, ProviderUnavailable: as for any request.
        """
        try:
            await self._transport.request("DELETE", _bot_path(bot_id))
        except BadRequest as exc:
            mapped = self._state_error(exc, leaving=False)
            if mapped is exc:
                raise
            raise mapped from exc

    async def get_transcript(
        self, bot_id: str, *, updated_after: datetime | None = None
    ) -> list[Utterance]:
        """The transcript so far, in time order; works while the meeting is still going on.

        An empty list means nothing has been transcribed yet. A 404 is raised, not swallowed:
        it means the bot (or its recording entry) does not exist, which callers should notice.

        Args:
            bot_id: the bot.
            updated_after: only utterances created or updated after this (timezone-aware),
                for polling.

        Raises:
            NotFound: no such bot, or Attendee has no recording entry for it.
            BadRequest: a malformed ``updated_after``.
            AuthenticationFailed, ProviderUnavailable: as for any request.
        """
        params = {"updated_after": iso(updated_after)} if updated_after is not None else None
        data = await self._transport.json("GET", _bot_path(bot_id, "transcript"), params=params)
        return self._transport.parse(Transcript, data).root

    async def get_recording(self, bot_id: str) -> Recording | None:
        """The recording's short-lived URL, or ``None`` when there is no recording file.

        The URL expires (30 minutes on Attendee): fetch it just before showing it, never store it.
        ``None`` covers Attendee's 404s for a missing recording (no storage configured, nothing
        recorded, not processed yet); a 404 for a missing *bot* still raises.

        Raises:
            NotFound: no such bot.
            AuthenticationFailed, ProviderUnavailable: as for any request.
        """
        try:
            data = await self._transport.json("GET", _bot_path(bot_id, "recording"))
        except NotFound as exc:
            if _NO_RECORDING.search(exc.message):
                return None
            raise
        return self._transport.parse(Recording, data)

    @staticmethod
    def _state_error(exc: BadRequest, *, leaving: bool) -> BadRequest | InvalidBotState:
        state = _state_in(exc.message)
        if state is None:
            return exc
        cls = AlreadyLeaving if leaving and state in _STATES_PAST_LEAVING else InvalidBotState
        return cls(exc.message, state=state, status_code=exc.status_code, body=exc.body)
