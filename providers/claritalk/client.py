"""Typed client for the Claritalk API (``{base_url}/api/…``).

Claritalk's published reference documents authentication, status codes, budgets and webhooks,
but only one endpoint by name (``POST /client/webhook``) and no request or response bodies.
What is assumed, each changeable without editing this module:

- the webhook registration body, ``{"webhook_url", "events"}`` (``webhook_body=``);
- ``GET /api/user`` for the current user (Laravel Passport's conventional route) and
  ``GET /api/meetings[/{id}]`` for meetings (``paths=``);
- responses either bare or wrapped in Laravel's ``{"data": …}``, lists paged by ``links.next``;
- error bodies in Laravel's shape, ``{"message", "errors": {field: [msg, …]}}``;
- which calls are "uploads" for the 50-a-minute budget: paths containing ``UPLOAD_MARKERS``.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from providers.budget import BudgetLedger, WindowBudget
from providers.claritalk.models import EVENTS, ClaritalkUser, Meeting
from providers.claritalk.oauth import DEFAULT_BASE_URL, PROVIDER, TokenSource
from providers.errors import (
    AuthenticationFailed,
    ProviderResponseError,
    ProviderStatusError,
    RateLimited,
    ServerError,
)
from providers.http import (
    Clock,
    ProviderTransport,
    RateLimiter,
    RetryPolicy,
    Sleep,
    error_message,
    retry_after_seconds,
)

#: Documented budgets: 480 requests a minute, 50 for the upload/recording calls.
REQUESTS_PER_MINUTE = 480
UPLOADS_PER_MINUTE = 50
#: Path fragments that put a request in the upload budget.
UPLOAD_MARKERS: tuple[str, ...] = ("/upload", "/recordings")


def claritalk_rate_limiter(
    per_minute: float = REQUESTS_PER_MINUTE,
    *,
    window: float = 60.0,
    ledger: BudgetLedger | None = None,
    clock: Clock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
) -> WindowBudget:
    """Never more than ``per_minute`` requests in any minute (480 overall, 50 uploads).

    Args:
        per_minute: the budget, :data:`REQUESTS_PER_MINUTE` or :data:`UPLOADS_PER_MINUTE`.
        window: the minute, in seconds; benchmarks scale it down.
        ledger: where requests are counted; this process only when omitted
            (``bot.budgets`` keeps one in the database that every process shares).
        clock: monotonic time, or wall time for a ledger shared between processes.
        sleep: injectable for tests.
    """
    return WindowBudget(per_minute, window=window, ledger=ledger, clock=clock, sleep=sleep)


@dataclass(frozen=True)
class ClaritalkPaths:
    """API paths. Only ``webhook`` is documented; the others follow Laravel conventions."""

    webhook: str = "/api/client/webhook"
    current_user: str = "/api/user"
    meetings: str = "/api/meetings"
    meeting: str = "/api/meetings/{meeting_id}"


def webhook_registration_body(url: str, events: Sequence[str]) -> dict[str, Any]:
    """Body of ``POST /api/client/webhook``: an assumption, as the reference shows none.

    ``webhook_url`` is the name the reference gives the same URL when creating an
    organisation; ``events`` is sent in case the endpoint filters (Laravel ignores unknown keys).
    """
    return {"webhook_url": url, "events": list(events)}


class DesktopClientOffline(ServerError):
    """503: the user's Claritalk Connect desktop client is not connected.

    Not retryable: it takes a person opening the app, not a few seconds of patience.
    """

    retryable = False


class _BothBuckets:
    """An upload spends from its own budget and from the overall one."""

    def __init__(self, upload: RateLimiter, overall: RateLimiter) -> None:
        self._limiters = (upload, overall)

    async def acquire(self, cost: float = 1.0) -> None:
        for limiter in self._limiters:
            await limiter.acquire(cost)

    def pause(self, seconds: float) -> None:
        for limiter in self._limiters:
            limiter.pause(seconds)

    def observe(self, response: httpx.Response) -> None:
        for limiter in self._limiters:
            limiter.observe(response)


def _retry_after(response: httpx.Response) -> float | None:
    if response.status_code == 503:
        # Claritalk documents 503 as "Claritalk Connect desktop client is not connected": it
        # takes a person to fix. An infinite wait exceeds any RetryPolicy.max_wait, so the
        # transport gives up at once instead of retrying in vain.
        return math.inf
    return retry_after_seconds(response)


def validation_detail(body: object, default: str) -> str:
    """What was invalid, from Laravel's ``{"message", "errors": {field: [msg, …]}}`` body."""
    if isinstance(body, Mapping) and isinstance(body.get("errors"), Mapping):
        problems = []
        for field, messages in body["errors"].items():
            listed = messages if isinstance(messages, list) else [messages]
            problems.append(f"{field}: {' '.join(str(m) for m in listed)}")
        if problems:
            return "; ".join(problems)
    return error_message(body, default)


class ClaritalkClient:
    """The Claritalk API with Bearer tokens from a :class:`TokenSource`.

    After a 401 the token source is invalidated and the request sent once more with a fresh
    token; a second refusal is raised. Uploads also spend from their own, smaller budget.

    Args:
        http_client: the shared ``httpx.AsyncClient``; not closed here.
        token_source: a PAT, a service account or a user's OAuth connection.
        base_url: ``CLARITALK_API_URL`` (the API lives under ``/api``).
        limiter: the overall budget; 480 requests a minute in this process by default.
        upload_limiter: the upload budget; 50 a minute in this process by default.
        retry: the retry policy.
        sleep: injectable for tests.
        paths: the API paths, for when Claritalk's differ from the assumed ones.
        webhook_body: builds the webhook registration body.
    """

    def __init__(
        self,
        http_client: httpx.AsyncClient,
        *,
        token_source: TokenSource,
        base_url: str = DEFAULT_BASE_URL,
        limiter: RateLimiter | None = None,
        upload_limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        paths: ClaritalkPaths | None = None,
        webhook_body: Callable[[str, Sequence[str]], dict[str, Any]] = webhook_registration_body,
    ) -> None:
        overall = limiter or claritalk_rate_limiter(REQUESTS_PER_MINUTE, sleep=sleep)
        uploads = upload_limiter or claritalk_rate_limiter(UPLOADS_PER_MINUTE, sleep=sleep)
        #: The budgets pacing this client: every request, and uploads besides.
        self.limiter: RateLimiter = overall
        self.upload_limiter: RateLimiter = uploads
        common: dict[str, Any] = {
            "base_url": base_url,
            "headers": {"Accept": "application/json"},
            "retry": retry,
            "retry_after": _retry_after,
            "sleep": sleep,
        }
        self._transport = ProviderTransport(PROVIDER, http_client, limiter=overall, **common)
        self._upload_transport = ProviderTransport(
            PROVIDER, http_client, limiter=_BothBuckets(uploads, overall), **common
        )
        self._tokens = token_source
        self.paths = paths or ClaritalkPaths()
        self._webhook_body = webhook_body

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Send any request with Claritalk's authentication, budget and error mapping.

        Returns the decoded JSON body, or None for an empty answer.

        Raises:
            AuthenticationFailed: the token was refused twice (reconnect, or check the token);
                ``ConnectionLapsed`` when a user's connection can no longer be refreshed.
            PermissionDenied, NotFound, Conflict, BadRequest: 403, 404, 409, 400/422.
            RateLimited: 429 after the retries ran out.
            DesktopClientOffline: 503, the Claritalk Connect desktop client is not connected.
            ProviderUnavailable: Claritalk could not be reached or kept failing.
        """
        upload = any(marker in path for marker in UPLOAD_MARKERS)
        transport = self._upload_transport if upload else self._transport
        token = await self._tokens.token()
        kwargs: dict[str, Any] = {"params": params, "json": json, "idempotent": idempotent}
        try:
            return await transport.json(method, path, headers=_bearer(token), **kwargs)
        except AuthenticationFailed as exc:
            # An access token can be revoked before it expires: renew once, then believe it.
            self._tokens.invalidate()
            fresh = await self._tokens.token()
            if fresh == token:
                raise _explain(exc) from exc
            try:
                return await transport.json(method, path, headers=_bearer(fresh), **kwargs)
            except ProviderStatusError as again:
                raise _explain(again) from again
        except ProviderStatusError as exc:
            raise _explain(exc) from exc

    async def register_webhook(self, url: str, events: Sequence[str] = EVENTS) -> dict[str, Any]:
        """Ask Claritalk to deliver ``events`` to ``url``; returns whatever it answered.

        Raises:
            BadRequest: the URL was refused (422 with Claritalk's validation detail).
            ProviderError: as for :meth:`call`.
        """
        answer = await self.call(
            "POST", self.paths.webhook, json=self._webhook_body(url, events), idempotent=True
        )
        return dict(answer) if isinstance(answer, Mapping) else {}

    async def current_user(self) -> ClaritalkUser:
        """The user (or service account) the token belongs to.

        Raises:
            ProviderError: as for :meth:`call`.
        """
        answer = await self.call("GET", self.paths.current_user)
        return self._transport.parse(ClaritalkUser, _unwrap(answer))

    async def get_meeting(self, meeting_id: str) -> Meeting:
        """One meeting; details beyond the common fields are kept as extra fields.

        Raises:
            NotFound: no such meeting, or not visible to this token.
            ProviderError: as for :meth:`call`.
        """
        path = self.paths.meeting.format(meeting_id=quote(meeting_id, safe=""))
        return self._transport.parse(Meeting, _unwrap(await self.call("GET", path)))

    async def iter_meetings(self, **params: Any) -> AsyncIterator[Meeting]:
        """Every meeting the token may see, following Laravel's ``links.next`` pages.

        Raises:
            ProviderError: as for :meth:`call`.
        """
        path: str | None = self.paths.meetings
        query: dict[str, Any] | None = params or None
        seen: set[str] = set()
        while path is not None and path not in seen:
            seen.add(path)
            answer = await self.call("GET", path, params=query)
            items = _unwrap(answer)
            if not isinstance(items, list):
                raise ProviderResponseError(PROVIDER, "the meeting list is not a list")
            for item in items:
                yield self._transport.parse(Meeting, item)
            path, query = _next_page(answer), None


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _unwrap(answer: Any) -> Any:
    """Laravel API resources wrap their payload in ``{"data": …}``; bare payloads pass."""
    if isinstance(answer, Mapping) and "data" in answer:
        return answer["data"]
    return answer


def _next_page(answer: Any) -> str | None:
    if not isinstance(answer, Mapping):
        return None
    links = answer.get("links")
    nxt = links.get("next") if isinstance(links, Mapping) else None
    nxt = nxt or answer.get("next_page_url")
    return nxt if isinstance(nxt, str) and nxt else None


_MESSAGES: dict[int, str] = {
    400: "Claritalk refused the request: {detail}",
    401: "Claritalk refused the access token; reconnect Claritalk (or replace the configured "
    "token)",
    403: "Claritalk denied permission for this ({detail}); a personal or user token only reaches "
    "its own meetings",
    404: "Claritalk found no such object ({detail})",
    409: "Claritalk reports a conflict with the current state ({detail})",
    422: "Claritalk could not process the request: {detail}",
}


def _explain(exc: ProviderStatusError) -> ProviderStatusError:
    """The same error with a message that says what to do about it."""
    status = exc.status_code
    detail = validation_detail(exc.body, f"HTTP {status}")
    if isinstance(exc, RateLimited):
        when = f"in {exc.retry_after:.0f}s" if exc.retry_after is not None else "later"
        return RateLimited(
            PROVIDER,
            f"Claritalk's rate limit was reached; back off and try again {when}",
            body=exc.body,
            retry_after=exc.retry_after,
        )
    if status == 503:
        return DesktopClientOffline(
            PROVIDER,
            "the Claritalk Connect desktop client is not connected; open Claritalk Connect and "
            "try again",
            status_code=status,
            body=exc.body,
        )
    template = _MESSAGES.get(status)
    if template is not None:
        return type(exc)(
            PROVIDER, template.format(detail=detail), status_code=status, body=exc.body
        )
    if status >= 500:
        return type(exc)(
            PROVIDER, f"Claritalk failed ({status}): {detail}", status_code=status, body=exc.body
        )
    return exc
