"""Claritalk OAuth: PAT, client credentials, authorization code, refresh and stored user tokens."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx
import pytest

from providers.claritalk import (
    ClientCredentials,
    ConnectionLapsed,
    PersonalAccessToken,
    Token,
    UserTokenSource,
    authorize_url,
    exchange_code,
    refresh,
)
from providers.errors import AuthenticationFailed, ServerError

BASE = "https://claritalk.test"
INVALID_GRANT = {
    "error": "invalid_grant",
    "error_description": "The refresh token is invalid.",
    "hint": "Token has been revoked",
    "message": "The refresh token is invalid.",
}


class FakePassport:
    """A token endpoint with Passport's behaviour: rotation, single-use codes, its error bodies."""

    def __init__(self, ttl: int = 3600) -> None:
        self.ttl = ttl
        self.forms: list[dict[str, str]] = []
        self.refresh_tokens: set[str] = {"rt-0"}
        self.issued = 0
        self.codes = {"good-code": "https://debrief.test/claritalk/callback"}
        self.omit_refresh = False
        self.status_override: tuple[int, dict[str, Any]] | None = None

    def _tokens(self, *, with_refresh: bool) -> dict[str, Any]:
        self.issued += 1
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "expires_in": self.ttl,
            "access_token": f"at-{self.issued}",
        }
        if with_refresh and not self.omit_refresh:
            body["refresh_token"] = f"rt-{self.issued}"
            self.refresh_tokens.add(body["refresh_token"])
        return body

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/oauth/token"
        assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
        form = dict(parse_qsl(request.content.decode()))
        self.forms.append(form)
        # Yield so concurrent callers really overlap with this fetch.
        for _ in range(5):
            await asyncio.sleep(0)
        if self.status_override is not None:
            status, body = self.status_override
            return httpx.Response(status, json=body)
        grant = form["grant_type"]
        if grant == "client_credentials":
            if (form["client_id"], form["client_secret"]) != ("svc", "svc-secret"):
                return httpx.Response(
                    401,
                    json={
                        "error": "invalid_client",
                        "error_description": "Client authentication failed",
                    },
                )
            return httpx.Response(200, json=self._tokens(with_refresh=False))
        if grant == "authorization_code":
            if self.codes.pop(form["code"], None) != form["redirect_uri"]:
                return httpx.Response(400, json=INVALID_GRANT)
            return httpx.Response(200, json=self._tokens(with_refresh=True))
        if grant == "refresh_token":
            if form["refresh_token"] not in self.refresh_tokens:
                return httpx.Response(400, json=INVALID_GRANT)
            self.refresh_tokens.discard(form["refresh_token"])
            return httpx.Response(200, json=self._tokens(with_refresh=True))
        return httpx.Response(400, json={"error": "unsupported_grant_type"})


@pytest.fixture
def passport() -> FakePassport:
    return FakePassport()


@pytest.fixture
async def http(passport: FakePassport) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(passport)) as client:
        yield client


async def _no_sleep(seconds: float) -> None:
    return None


def test_authorize_url_asks_for_a_code_with_offline_access() -> None:
    url = authorize_url("cid", "https://debrief.test/claritalk/callback", "st4te", base_url=BASE)
    parts = urlsplit(url)

    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{BASE}/oauth/authorize"
    assert parse_qs(parts.query) == {
        "client_id": ["cid"],
        "response_type": ["code"],
        "scope": ["api.connect offline_access"],
        "redirect_uri": ["https://debrief.test/claritalk/callback"],
        "state": ["st4te"],
    }


async def test_a_personal_access_token_is_used_as_is() -> None:
    source = PersonalAccessToken("pat-123")
    source.invalidate()
    assert await source.token() == "pat-123"
    with pytest.raises(ValueError):
        PersonalAccessToken("")


async def test_client_credentials_fetch_once_and_renew_a_margin_before_expiry(
    http: httpx.AsyncClient, passport: FakePassport, clock: Any
) -> None:
    source = ClientCredentials(http, "svc", "svc-secret", base_url=BASE, clock=clock, margin=120)

    assert await source.token() == "at-1"
    assert passport.forms == [
        {
            "grant_type": "client_credentials",
            "client_id": "svc",
            "client_secret": "svc-secret",
            "scope": "api.connect",
        }
    ]
    clock.advance(3600 - 121)
    assert await source.token() == "at-1"
    clock.advance(2)  # now inside the 120 s margin
    assert await source.token() == "at-2"
    assert len(passport.forms) == 2


async def test_concurrent_callers_share_one_client_credentials_fetch(
    http: httpx.AsyncClient, passport: FakePassport, clock: Any
) -> None:
    source = ClientCredentials(http, "svc", "svc-secret", base_url=BASE, clock=clock)

    tokens = await asyncio.gather(*(source.token() for _ in range(10)))

    assert set(tokens) == {"at-1"}
    assert len(passport.forms) == 1


async def test_an_invalidated_client_credentials_token_is_fetched_again(
    http: httpx.AsyncClient, passport: FakePassport, clock: Any
) -> None:
    source = ClientCredentials(http, "svc", "svc-secret", base_url=BASE, clock=clock)
    assert await source.token() == "at-1"
    source.invalidate()
    assert await source.token() == "at-2"


async def test_short_lived_tokens_are_not_refetched_on_every_call(
    http: httpx.AsyncClient, clock: Any
) -> None:
    passport = FakePassport(ttl=60)
    async with httpx.AsyncClient(transport=httpx.MockTransport(passport)) as client:
        source = ClientCredentials(
            client, "svc", "svc-secret", base_url=BASE, clock=clock, margin=120
        )
        assert await source.token() == "at-1"
        assert await source.token() == "at-1"
        clock.advance(31)
        assert await source.token() == "at-2"


async def test_wrong_service_account_credentials_are_an_authentication_failure(
    http: httpx.AsyncClient, clock: Any
) -> None:
    source = ClientCredentials(http, "svc", "wrong", base_url=BASE, clock=clock)
    with pytest.raises(AuthenticationFailed, match="invalid_client") as failed:
        await source.token()
    assert not isinstance(failed.value, ConnectionLapsed)
    assert "wrong" not in str(failed.value)


async def test_a_code_is_exchanged_for_a_stamped_token_pair(
    http: httpx.AsyncClient, passport: FakePassport, clock: Any
) -> None:
    token = await exchange_code(
        http,
        "good-code",
        "https://debrief.test/claritalk/callback",
        "cid",
        "csecret",
        base_url=BASE,
        clock=clock,
    )

    assert passport.forms == [
        {
            "grant_type": "authorization_code",
            "code": "good-code",
            "redirect_uri": "https://debrief.test/claritalk/callback",
            "client_id": "cid",
            "client_secret": "csecret",
        }
    ]
    assert (token.access_token, token.refresh_token) == ("at-1", "rt-1")
    assert token.expires_at == clock.now + 3600


async def test_a_refused_code_asks_the_user_to_connect_again(
    http: httpx.AsyncClient, clock: Any
) -> None:
    with pytest.raises(AuthenticationFailed, match="connect Claritalk again") as failed:
        await exchange_code(http, "stale", "https://debrief.test/cb", "cid", "cs", base_url=BASE)
    assert failed.value.status_code == 400


async def test_refresh_rotates_the_refresh_token(
    http: httpx.AsyncClient, passport: FakePassport, clock: Any
) -> None:
    token = await refresh(http, "rt-0", "cid", "cs", base_url=BASE, clock=clock)

    assert passport.forms[-1] == {
        "grant_type": "refresh_token",
        "refresh_token": "rt-0",
        "client_id": "cid",
        "client_secret": "cs",
    }
    assert (token.access_token, token.refresh_token, token.obtained_at) == (
        "at-1",
        "rt-1",
        clock.now,
    )
    # The old refresh token is spent.
    with pytest.raises(ConnectionLapsed, match="connect Claritalk again"):
        await refresh(http, "rt-0", "cid", "cs", base_url=BASE)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, INVALID_GRANT),
        (401, {"message": "Unauthenticated."}),
        (400, {"error": "invalid_request"}),
    ],
)
async def test_refusals_of_a_refresh_mean_the_connection_lapsed(
    http: httpx.AsyncClient, passport: FakePassport, status: int, body: dict[str, Any]
) -> None:
    passport.status_override = (status, body)
    with pytest.raises(ConnectionLapsed) as lapsed:
        await refresh(http, "rt-0", "cid", "cs", base_url=BASE)
    assert isinstance(lapsed.value, AuthenticationFailed)
    assert lapsed.value.status_code == status


async def test_a_refused_client_is_not_blamed_on_the_user(
    http: httpx.AsyncClient, passport: FakePassport
) -> None:
    passport.status_override = (
        401,
        {"error": "invalid_client", "error_description": "Client authentication failed"},
    )
    with pytest.raises(AuthenticationFailed, match="client id and secret") as failed:
        await refresh(http, "rt-0", "cid", "cs", base_url=BASE)
    assert not isinstance(failed.value, ConnectionLapsed)


async def test_a_server_error_during_refresh_is_not_a_lapse(
    http: httpx.AsyncClient, passport: FakePassport
) -> None:
    passport.status_override = (500, {"message": "Server Error"})
    with pytest.raises(ServerError):
        await refresh(http, "rt-0", "cid", "cs", base_url=BASE, sleep=_no_sleep)
    # A refresh is never resent: the first attempt may have rotated the token already.
    assert len(passport.forms) == 1


async def test_a_refresh_answer_without_a_refresh_token_keeps_the_old_one(
    http: httpx.AsyncClient, passport: FakePassport
) -> None:
    passport.omit_refresh = True
    token = await refresh(http, "rt-0", "cid", "cs", base_url=BASE)
    assert token.refresh_token == "rt-0"


class Storage:
    """What bot/ would do with the encrypted token column, in memory."""

    def __init__(self, token: Token | None) -> None:
        self.token = token
        self.saved: list[Token] = []

    async def load(self) -> Token | None:
        return self.token

    async def save(self, token: Token) -> None:
        self.saved.append(token)
        self.token = token


def _stored(clock: Any, access: str = "at-0", refresh_token: str = "rt-0") -> Token:
    return Token(
        access_token=access, expires_in=3600, refresh_token=refresh_token, obtained_at=clock.now
    )


def _user_source(http: httpx.AsyncClient, storage: Storage, clock: Any) -> UserTokenSource:
    return UserTokenSource(
        http,
        load=storage.load,
        save=storage.save,
        client_id="cid",
        client_secret="cs",
        base_url=BASE,
        clock=clock,
    )


async def test_a_stored_fresh_token_is_used_without_refreshing(
    http: httpx.AsyncClient, passport: FakePassport, clock: Any
) -> None:
    storage = Storage(_stored(clock))
    source = _user_source(http, storage, clock)

    assert await source.token() == "at-0"
    assert passport.forms == [] and storage.saved == []


async def test_a_user_token_is_refreshed_before_expiry_and_the_rotated_pair_saved(
    http: httpx.AsyncClient, passport: FakePassport, clock: Any
) -> None:
    storage = Storage(_stored(clock))
    source = _user_source(http, storage, clock)
    clock.advance(3600 - 60)

    tokens = await asyncio.gather(*(source.token() for _ in range(5)))

    assert set(tokens) == {"at-1"}
    assert [f["refresh_token"] for f in passport.forms] == ["rt-0"]
    assert [(t.access_token, t.refresh_token) for t in storage.saved] == [("at-1", "rt-1")]


async def test_after_a_refusal_the_user_token_is_refreshed(
    http: httpx.AsyncClient, passport: FakePassport, clock: Any
) -> None:
    storage = Storage(_stored(clock))
    source = _user_source(http, storage, clock)
    assert await source.token() == "at-0"

    source.invalidate()

    assert await source.token() == "at-1"
    assert storage.token is not None and storage.token.refresh_token == "rt-1"


async def test_never_connected_is_a_lapsed_connection(http: httpx.AsyncClient, clock: Any) -> None:
    source = _user_source(http, Storage(None), clock)
    with pytest.raises(ConnectionLapsed, match="not connected"):
        await source.token()


async def test_a_lapsed_refresh_token_surfaces_as_connection_lapsed(
    http: httpx.AsyncClient, passport: FakePassport, clock: Any
) -> None:
    storage = Storage(_stored(clock, refresh_token="rt-revoked"))
    source = _user_source(http, storage, clock)
    clock.advance(4000)

    with pytest.raises(ConnectionLapsed):
        await source.token()
    assert storage.saved == []


async def test_a_refresh_lost_to_another_process_adopts_its_result(
    http: httpx.AsyncClient, passport: FakePassport, clock: Any
) -> None:
    storage = Storage(_stored(clock))
    source = _user_source(http, storage, clock)
    assert await source.token() == "at-0"
    clock.advance(3600)
    # Another process refreshes first and saves; this one still holds the spent rt-0.
    other = await refresh(http, "rt-0", "cid", "cs", base_url=BASE, clock=clock)
    stale = storage.token
    storage.token = other
    loads = iter([stale, other])

    async def load_racing() -> Token | None:
        return next(loads)

    racing = UserTokenSource(
        http,
        load=load_racing,
        save=storage.save,
        client_id="cid",
        client_secret="cs",
        base_url=BASE,
        clock=clock,
    )

    assert await racing.token() == other.access_token
    assert storage.saved == []


async def test_refresh_now_keeps_the_seven_day_window_open(
    http: httpx.AsyncClient, passport: FakePassport, clock: Any
) -> None:
    storage = Storage(_stored(clock))
    source = _user_source(http, storage, clock)

    token = await source.refresh_now()

    assert token.refresh_token == "rt-1" and storage.token == token
    assert token.refresh_expires_at == clock.now + 7 * 24 * 3600


async def test_a_stored_token_without_refresh_token_cannot_be_renewed(
    http: httpx.AsyncClient, clock: Any
) -> None:
    storage = Storage(Token(access_token="at-0", expires_in=3600, obtained_at=clock.now - 4000))
    with pytest.raises(ConnectionLapsed, match="offline_access"):
        await _user_source(http, storage, clock).token()
