"""The one place where provider HTTP calls are paced, retried and mapped to errors.

Every provider client wraps a :class:`ProviderTransport` around an injected ``httpx.AsyncClient``.
The transport waits for the provider's rate limiter before each attempt, retries what is safe to
retry (transport errors before the request was sent, 429 always, 5xx and timeouts only for
idempotent requests) with exponential backoff and jitter, honours ``Retry-After``, and turns every
failure into the :mod:`providers.errors` tree.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import httpx
import pydantic

from providers.errors import (
    ProviderResponseError,
    ProviderStatusError,
    ProviderUnavailable,
    RateLimited,
    error_for_status,
)
from providers.webhooks import describe_validation_error

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def build_http_client(
    *,
    timeout: float = 10.0,
    transport: httpx.AsyncBaseTransport | None = None,
    max_connections: int = 20,
) -> httpx.AsyncClient:
    """A client suited to provider APIs; the caller owns it and must ``aclose()`` it.

    Args:
        timeout: seconds for connect, read, write and pool waits each.
        transport: an ``httpx.MockTransport`` in tests; the network otherwise.
        max_connections: connection pool size shared by every provider using this client.
    """
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout),
        transport=transport,
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=10),
        headers={"User-Agent": "Debrief/0.1 (+https://github.com/debrief)"},
        follow_redirects=False,
    )


class RateLimiter(Protocol):
    """Paces requests to a provider's budget; ``cost`` is the request's weight in its units."""

    async def acquire(self, cost: float = 1.0) -> None: ...

    def pause(self, seconds: float) -> None: ...

    def observe(self, response: httpx.Response) -> None: ...


class Unlimited:
    """A limiter that never waits, for providers without a documented budget."""

    async def acquire(self, cost: float = 1.0) -> None:
        return None

    def pause(self, seconds: float) -> None:
        return None

    def observe(self, response: httpx.Response) -> None:
        return None


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry; ``max_wait`` caps any one wait (Retry-After too)."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_wait: float = 60.0

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Exponential backoff with 'equal jitter': never less than half the nominal delay."""
        nominal = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return nominal / 2 + (rng or random).uniform(0, nominal / 2)


def retry_after_seconds(
    response: httpx.Response, now: Callable[[], float] = time.time
) -> float | None:
    """Seconds to wait according to ``Retry-After`` (seconds or an HTTP date), if present."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now())


def error_message(body: object, default: str) -> str:
    """A person-readable reason from the error bodies providers send.

    Understands ``{"error": "…"}``, ``{"detail": "…"}``, ``{"message": "…"}`` and field
    validation maps such as ``{"meeting_url": ["Invalid meeting URL"]}``.
    """
    if isinstance(body, str) and body.strip():
        return body.strip()[:300]
    if not isinstance(body, Mapping):
        return default
    for key in ("error", "detail", "message", "error_description"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, Mapping) and isinstance(value.get("message"), str):
            return str(value["message"])
    problems = []
    for field, value in body.items():
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            problems.append(f"{field}: {' '.join(value)}")
    return "; ".join(problems) if problems else default


def _body_of(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return response.text


class ProviderTransport:
    """Sends requests to one provider with its pacing, retries and error mapping.

    Args:
        provider: the provider's name, used in errors and logs.
        http_client: the shared ``httpx.AsyncClient``; not closed here.
        base_url: prefix joined to every path.
        headers: sent with every request (authentication, usually).
        limiter: the provider's budget; :class:`Unlimited` when omitted.
        cost: a request's weight for the limiter, from its method.
        retry: the retry policy.
        retry_after: reads the wait a 429 or 503 asks for; ``Retry-After`` by default.
        sleep: injectable for tests.
    """

    def __init__(
        self,
        provider: str,
        http_client: httpx.AsyncClient,
        *,
        base_url: str,
        headers: Mapping[str, str] | None = None,
        limiter: RateLimiter | None = None,
        cost: Callable[[str], float] = lambda method: 1.0,
        retry: RetryPolicy | None = None,
        retry_after: Callable[[httpx.Response], float | None] = retry_after_seconds,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.provider = provider
        self._http = http_client
        self._base_url = base_url.rstrip("/")
        self._headers = dict(headers or {})
        self.limiter: RateLimiter = limiter or Unlimited()
        self._cost = cost
        self._retry = retry or RetryPolicy()
        self._retry_after = retry_after
        self._sleep = sleep
        self._rng = rng

    def url(self, path: str) -> str:
        """The absolute URL of ``path``; absolute URLs (such as paging links) pass through."""
        if path.startswith(("http://", "https://")):
            return path
        return f"{self._base_url}/{path.lstrip('/')}"

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        content: bytes | None = None,
        attempt_timeout: float | None = None,
    ) -> httpx.Response:
        """Send one logical request, retrying as the policy allows; return a 2xx/3xx response.

        ``attempt_timeout`` (seconds) replaces the client's own for this request: a model
        endpoint may think for a minute where a provider API answers in a second.

        Raises:
            ProviderStatusError: a subclass per status, when the provider refuses.
            ProviderUnavailable: the provider could not be reached or kept failing.
        """
        method = method.upper()
        safe = method in _SAFE_METHODS if idempotent is None else idempotent
        url = self.url(path)
        merged = {**self._headers, **(headers or {})}
        per_request: dict[str, Any] = {}
        if attempt_timeout is not None:
            per_request["timeout"] = httpx.Timeout(attempt_timeout)
        attempts = max(1, self._retry.attempts)
        for attempt in range(1, attempts + 1):
            await self.limiter.acquire(self._cost(method))
            try:
                response = await self._http.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    data=data,
                    content=content,
                    headers=merged,
                    **per_request,
                )
            except httpx.TransportError as exc:
                # A request that never left (connect failure) is safe to send again even when
                # it is not idempotent; one that may have arrived is not.
                not_sent = isinstance(
                    exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout
                )
                if attempt < attempts and (safe or not_sent):
                    delay = self._retry.backoff(attempt, self._rng)
                    log.warning(
                        "%s %s %s failed (%s); retry %d in %.1fs",
                        self.provider,
                        method,
                        path,
                        type(exc).__name__,
                        attempt,
                        delay,
                    )
                    await self._sleep(delay)
                    continue
                reason = "timed out" if isinstance(exc, httpx.TimeoutException) else "unreachable"
                raise ProviderUnavailable(
                    self.provider, f"{reason} ({type(exc).__name__})"
                ) from exc
            self.limiter.observe(response)
            status = response.status_code
            if status < 400:
                return response
            retryable = status == 429 or (status >= 500 and safe)
            wait = self._retry_after(response) if status in (429, 503) else None
            if status == 429:
                self.limiter.pause(
                    wait if wait is not None else self._retry.backoff(attempt, self._rng)
                )
            if retryable and attempt < attempts:
                delay = wait if wait is not None else self._retry.backoff(attempt, self._rng)
                if delay <= self._retry.max_wait:
                    log.warning(
                        "%s %s %s answered %d; retry %d in %.1fs",
                        self.provider,
                        method,
                        path,
                        status,
                        attempt,
                        delay,
                    )
                    await self._sleep(delay)
                    continue
            raise self._status_error(response, wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _status_error(self, response: httpx.Response, wait: float | None) -> ProviderStatusError:
        status = response.status_code
        body = _body_of(response)
        message = error_message(body, f"HTTP {status}")
        cls = error_for_status(status)
        if cls is RateLimited:
            return RateLimited(self.provider, message, body=body, retry_after=wait)
        return cls(self.provider, message, status_code=status, body=body)

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Like :meth:`request`, returning the decoded JSON body (``None`` for 204)."""
        response = await self.request(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise ProviderResponseError(
                self.provider, f"{method} {path} did not answer JSON"
            ) from exc

    def parse(self, model: type[ModelT], data: Any) -> ModelT:
        """Validate ``data`` as ``model``; a mismatch is the provider's fault, not ours."""
        return parse_model(self.provider, model, data)


def parse_model(provider: str, model: type[ModelT], data: Any) -> ModelT:
    """Validate provider data, mapping pydantic's error to :class:`ProviderResponseError`."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ProviderResponseError(
            provider, f"unexpected {model.__name__} ({describe_validation_error(exc)})"
        ) from exc
