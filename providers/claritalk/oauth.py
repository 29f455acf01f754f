"""The three ways to authenticate to Claritalk, all behind :class:`TokenSource`.

Claritalk runs Laravel Passport: a Personal Access Token that never expires, a service account
using the client-credentials grant (1 h tokens, no refresh token), and the authorization-code
grant for end users (1 h access tokens; refresh tokens valid 7 days since last use and rotated
on every refresh). Token requests are form-encoded POSTs to ``{base_url}/oauth/token``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol
from urllib.parse import urlencode

import httpx

from providers.claritalk.models import Token
from providers.errors import AuthenticationFailed, ProviderStatusError
from providers.http import ProviderTransport, RetryPolicy, Sleep, error_message

PROVIDER = "claritalk"
DEFAULT_BASE_URL = "https://app.claritalk.com"
#: End users: ``offline_access`` is what makes Passport issue a refresh token.
USER_SCOPE = "api.connect offline_access"
SERVICE_SCOPE = "api.connect"
TOKEN_PATH = "/oauth/token"
AUTHORIZE_PATH = "/oauth/authorize"
#: Renew this long before expiry, so a token never lapses between check and use.
DEFAULT_MARGIN = 120.0

Clock = Callable[[], float]
LoadToken = Callable[[], Awaitable[Token | None]]
SaveToken = Callable[[Token], Awaitable[None]]


class ConnectionLapsed(AuthenticationFailed):
    """The user's Claritalk connection cannot be renewed: they must connect Claritalk again."""

    def __init__(self, message: str, *, status_code: int = 401, body: object = None) -> None:
        super().__init__(PROVIDER, message, status_code=status_code, body=body)


class TokenSource(Protocol):
    """Where a client gets its Bearer token; ``invalidate`` after the API refused one."""

    async def token(self) -> str: ...

    def invalidate(self) -> None: ...


class PersonalAccessToken:
    """A user's Personal Access Token: it never expires, so there is nothing to renew."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("a Personal Access Token must not be empty")
        self._token = token

    async def token(self) -> str:
        return self._token

    def invalidate(self) -> None:
        """A refused PAT was revoked; another request with it would be refused too."""


def authorize_url(
    client_id: str,
    redirect_uri: str,
    state: str,
    scope: str = USER_SCOPE,
    *,
    base_url: str = DEFAULT_BASE_URL,
) -> str:
    """The URL to send a user to so they can connect their Claritalk account."""
    query = urlencode(
        {
            "client_id": client_id,
            "response_type": "code",
            "scope": scope,
            "redirect_uri": redirect_uri,
            "state": state,
        }
    )
    return f"{base_url.rstrip('/')}{AUTHORIZE_PATH}?{query}"


def _oauth_error(exc: ProviderStatusError) -> tuple[str | None, str]:
    """The OAuth ``error`` code and a readable description from a token endpoint refusal."""
    body = exc.body
    code = body.get("error") if isinstance(body, Mapping) else None
    if isinstance(body, Mapping):
        description = body.get("error_description") or body.get("message") or body.get("hint")
        if isinstance(description, str) and description:
            return (str(code) if code else None), description
    return (str(code) if code else None), error_message(body, f"HTTP {exc.status_code}")


class _TokenEndpoint:
    """Posts grants to ``/oauth/token`` and stamps the answers with the time of receipt."""

    def __init__(
        self,
        http_client: httpx.AsyncClient,
        *,
        base_url: str,
        clock: Clock,
        retry: RetryPolicy | None,
        sleep: Sleep,
    ) -> None:
        self._transport = ProviderTransport(
            PROVIDER, http_client, base_url=base_url, retry=retry, sleep=sleep
        )
        self._clock = clock

    async def grant(self, form: dict[str, str], *, idempotent: bool) -> Token:
        response = await self._transport.json(
            "POST",
            TOKEN_PATH,
            data=form,
            headers={"Accept": "application/json"},
            idempotent=idempotent,
        )
        return self._transport.parse(Token, response).stamped(self._clock())


async def exchange_code(
    http_client: httpx.AsyncClient,
    code: str,
    redirect_uri: str,
    client_id: str,
    client_secret: str,
    *,
    base_url: str = DEFAULT_BASE_URL,
    clock: Clock = time.time,
    retry: RetryPolicy | None = None,
    sleep: Sleep = asyncio.sleep,
) -> Token:
    """Exchange the ``code`` from the OAuth callback for the user's first token pair.

    Args:
        http_client: the shared client; not closed here.
        code: the ``code`` query parameter the callback received.
        redirect_uri: exactly the ``redirect_uri`` given to :func:`authorize_url`.
        client_id: Debrief's OAuth client id from Claritalk.
        client_secret: its secret.
        base_url: ``CLARITALK_API_URL``.
        clock: unix seconds, for stamping the token.

    Raises:
        AuthenticationFailed: the code was refused (used, expired, wrong redirect URI or
            client); the user should connect again.
        ProviderError: any other failure of the token endpoint.
    """
    endpoint = _TokenEndpoint(http_client, base_url=base_url, clock=clock, retry=retry, sleep=sleep)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": client_id,
        "client_secret": client_secret,
    }
    try:
        # An authorization code is single-use: never send it twice.
        return await endpoint.grant(form, idempotent=False)
    except ProviderStatusError as exc:
        if exc.status_code not in (400, 401):
            raise
        code_name, description = _oauth_error(exc)
        raise AuthenticationFailed(
            PROVIDER,
            f"Claritalk did not accept the authorization ({code_name or exc.status_code}: "
            f"{description}); connect Claritalk again",
            status_code=exc.status_code,
            body=exc.body,
        ) from exc


async def refresh(
    http_client: httpx.AsyncClient,
    refresh_token: str,
    client_id: str,
    client_secret: str,
    *,
    base_url: str = DEFAULT_BASE_URL,
    clock: Clock = time.time,
    retry: RetryPolicy | None = None,
    sleep: Sleep = asyncio.sleep,
) -> Token:
    """Trade a refresh token for a new access token and a new refresh token.

    The old refresh token is revoked by the exchange: store the returned one. Should the
    answer carry no refresh token, the old one is kept in the result.

    Args:
        http_client: the shared client; not closed here.
        refresh_token: the stored refresh token.
        client_id: Debrief's OAuth client id from Claritalk.
        client_secret: its secret.
        base_url: ``CLARITALK_API_URL``.
        clock: unix seconds, for stamping the token.

    Raises:
        ConnectionLapsed: the refresh token is invalid, revoked or older than 7 days
            (``invalid_grant``, 400 or 401); the user must connect again.
        AuthenticationFailed: ``invalid_client``: Debrief's own client id or secret is wrong,
            which reconnecting would not fix.
        ProviderError: any other failure of the token endpoint.
    """
    endpoint = _TokenEndpoint(http_client, base_url=base_url, clock=clock, retry=retry, sleep=sleep)
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": client_id,
        "client_secret": client_secret,
    }
    try:
        # Not idempotent: a refresh that reached the server rotated the token already.
        token = await endpoint.grant(form, idempotent=False)
    except ProviderStatusError as exc:
        code_name, description = _oauth_error(exc)
        if code_name == "invalid_client":
            raise AuthenticationFailed(
                PROVIDER,
                f"Claritalk refused Debrief's OAuth client ({description}); "
                "check the Claritalk client id and secret",
                status_code=exc.status_code,
                body=exc.body,
            ) from exc
        if code_name == "invalid_grant" or exc.status_code in (400, 401):
            raise ConnectionLapsed(
                f"the Claritalk connection has lapsed ({description}); connect Claritalk again",
                status_code=exc.status_code,
                body=exc.body,
            ) from exc
        raise
    if token.refresh_token is None:
        token = token.model_copy(update={"refresh_token": refresh_token})
    return token


def _stale(token: Token, margin: float, now: float) -> bool:
    # Never spend more than half a token's life waiting to renew it, however short it is.
    lifetime = token.expires_in
    effective = min(margin, lifetime / 2) if lifetime else margin
    return token.expires_within(effective, now)


class ClientCredentials:
    """A service account's token: fetched on demand, cached, renewed a margin before expiry.

    Concurrent callers wait on one lock, so a burst of requests costs one token fetch.

    Args:
        http_client: the shared client; not closed here.
        client_id: the service account's client id.
        client_secret: its secret.
        base_url: ``CLARITALK_API_URL``.
        scope: the scope to ask for.
        clock: unix seconds; injectable for tests.
        margin: seconds before expiry at which a new token is fetched.
    """

    def __init__(
        self,
        http_client: httpx.AsyncClient,
        client_id: str,
        client_secret: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        scope: str = SERVICE_SCOPE,
        clock: Clock = time.time,
        margin: float = DEFAULT_MARGIN,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._endpoint = _TokenEndpoint(
            http_client, base_url=base_url, clock=clock, retry=retry, sleep=sleep
        )
        self._form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
            "scope": scope,
        }
        self._clock = clock
        self._margin = margin
        self._token: Token | None = None
        self._lock = asyncio.Lock()

    def _current(self) -> Token | None:
        token = self._token
        if token is None or _stale(token, self._margin, self._clock()):
            return None
        return token

    async def token(self) -> str:
        """A valid access token, fetched only when the cached one is missing or near expiry.

        Raises:
            AuthenticationFailed: the service account's id or secret was refused.
            ProviderError: the token endpoint failed otherwise.
        """
        current = self._current()
        if current is not None:
            return current.access_token
        async with self._lock:
            current = self._current()
            if current is None:
                try:
                    # Asking for a client-credentials token twice does no harm, so it may retry.
                    current = await self._endpoint.grant(self._form, idempotent=True)
                except ProviderStatusError as exc:
                    if exc.status_code not in (400, 401):
                        raise
                    code_name, description = _oauth_error(exc)
                    raise AuthenticationFailed(
                        PROVIDER,
                        f"Claritalk refused the service account ({code_name or exc.status_code}:"
                        f" {description}); check its client id and secret",
                        status_code=exc.status_code,
                        body=exc.body,
                    ) from exc
                self._token = current
            return current.access_token

    def invalidate(self) -> None:
        self._token = None


class UserTokenSource:
    """An end user's OAuth token, kept by the caller through ``load`` and ``save``.

    Refreshes a margin before expiry and after a refusal, saving the rotated pair each time.
    Several processes may share one stored token: before refreshing, the stored copy is read
    again, and a refresh that loses the race to another process adopts that process's result.

    Args:
        http_client: the shared client; not closed here.
        load: returns the stored token, or None when the user never connected.
        save: stores a renewed token (encrypted at rest: the caller's concern).
        client_id: Debrief's OAuth client id.
        client_secret: its secret.
        base_url: ``CLARITALK_API_URL``.
        clock: unix seconds; injectable for tests.
        margin: seconds before expiry at which the token is refreshed.
    """

    def __init__(
        self,
        http_client: httpx.AsyncClient,
        *,
        load: LoadToken,
        save: SaveToken,
        client_id: str,
        client_secret: str,
        base_url: str = DEFAULT_BASE_URL,
        clock: Clock = time.time,
        margin: float = DEFAULT_MARGIN,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._http = http_client
        self._load = load
        self._save = save
        self._client_id = client_id
        self._client_secret = client_secret
        self._base_url = base_url
        self._clock = clock
        self._margin = margin
        self._retry = retry
        self._sleep = sleep
        self._token: Token | None = None
        self._rejected: str | None = None
        self._lock = asyncio.Lock()

    def _usable(self, token: Token | None) -> bool:
        return (
            token is not None
            and token.access_token != self._rejected
            and not _stale(token, self._margin, self._clock())
        )

    async def token(self) -> str:
        """A valid access token, refreshed (and saved) when needed.

        Raises:
            ConnectionLapsed: never connected, or the refresh token is no longer accepted.
            ProviderError: the token endpoint failed otherwise.
        """
        if self._usable(self._token):
            assert self._token is not None
            return self._token.access_token
        async with self._lock:
            if self._usable(self._token):
                assert self._token is not None
                return self._token.access_token
            stored = await self._stored()
            if not self._usable(stored):
                stored = await self._refresh(stored)
            self._token = stored
            return stored.access_token

    def invalidate(self) -> None:
        if self._token is not None:
            self._rejected = self._token.access_token
        self._token = None

    async def refresh_now(self) -> Token:
        """Refresh whatever the state, e.g. from a schedule that keeps the 7-day window open.

        Raises:
            ConnectionLapsed: never connected, or the refresh token is no longer accepted.
        """
        async with self._lock:
            self._token = await self._refresh(await self._stored())
            return self._token

    async def _stored(self) -> Token:
        stored = await self._load()
        if stored is None:
            raise ConnectionLapsed("Claritalk is not connected; connect Claritalk first")
        # This process may hold a newer pair than storage if a save failed after a refresh.
        if self._token is not None and (self._token.obtained_at or 0) > (stored.obtained_at or 0):
            return self._token
        return stored

    async def _refresh(self, stored: Token, *, may_adopt: bool = True) -> Token:
        if not stored.refresh_token:
            raise ConnectionLapsed(
                "the Claritalk connection has no refresh token (was offline_access granted?); "
                "connect Claritalk again"
            )
        try:
            fresh = await refresh(
                self._http,
                stored.refresh_token,
                self._client_id,
                self._client_secret,
                base_url=self._base_url,
                clock=self._clock,
                retry=self._retry,
                sleep=self._sleep,
            )
        except ConnectionLapsed:
            # Another process may have rotated the pair since we read it: theirs wins.
            latest = await self._load() if may_adopt else None
            if latest is None or latest.refresh_token == stored.refresh_token:
                raise
            return latest if self._usable(latest) else await self._refresh(latest, may_adopt=False)
        self._token = fresh
        self._rejected = None
        await self._save(fresh)
        return fresh
