"""The Google/Microsoft OAuth stand-in, driven through Debrief's own calendar OAuth calls
(``providers.attendee.calendar_oauth``): what the real platforms refuse, it refuses."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import aiohttp
import httpx
import pytest

from providers.attendee.calendar_oauth import authorize_url, exchange_code
from providers.errors import AuthenticationFailed, ProviderResponseError, ProviderUnavailable
from sandbox.oauth import OAuthStandIn

REDIRECT = "https://debrief.example.com/oauth/calendar/callback"
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)">')


@pytest.fixture
async def oauth() -> AsyncIterator[OAuthStandIn]:
    stand_in = OAuthStandIn(account="Grace Hopper <grace@example.com>")
    stand_in.register_redirect(REDIRECT)
    async with stand_in:
        yield stand_in


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


async def consent(oauth: OAuthStandIn, url: str, choice: str = "allow") -> dict[str, list[str]]:
    """Open the consent screen at ``url`` and click: the callback's query."""
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as response:
            assert response.status == 200, await response.text()
            screen = await response.text()
        assert "Grace Hopper" in screen
        fields = {html.unescape(k): html.unescape(v) for k, v in _HIDDEN.findall(screen)}
        async with session.post(
            url.split("?")[0], data={**fields, "decision": choice}, allow_redirects=False
        ) as response:
            assert response.status == 302
            location = response.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    return parse_qs(urlsplit(location).query)


def url_for(oauth: OAuthStandIn, platform: str, state: str = "s1", **override: str) -> str:
    client = oauth.clients[platform]
    url = authorize_url(  # type: ignore[arg-type]
        platform, oauth.auth_url(platform), client.client_id, REDIRECT, state
    )
    for name, value in override.items():
        url = re.sub(rf"{name}=[^&]*", f"{name}={value}", url)
    return url


async def exchange(
    oauth: OAuthStandIn, http: httpx.AsyncClient, platform: str, code: str, **override: str
) -> object:
    client = oauth.clients[platform]
    values = {
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": client.client_id,
        "client_secret": client.client_secret,
        **override,
    }
    return await exchange_code(
        http,
        platform,  # type: ignore[arg-type]
        oauth.token_url(platform),
        **values,
    )


@pytest.mark.parametrize("platform", ["google", "microsoft"])
async def test_a_consent_gives_a_code_worth_one_refresh_token(
    oauth: OAuthStandIn, http: httpx.AsyncClient, platform: str
) -> None:
    query = await consent(oauth, url_for(oauth, platform))
    assert query["state"] == ["s1"]
    tokens = await exchange(oauth, http, platform, query["code"][0])
    (issued,) = oauth.issued
    assert tokens.refresh_token.get_secret_value() == issued.refresh_token  # type: ignore[attr-defined]
    assert issued.account == "Grace Hopper <grace@example.com>"
    with pytest.raises(AuthenticationFailed, match="invalid_grant"):  # a code works once
        await exchange(oauth, http, platform, query["code"][0])


async def test_cancel_is_access_denied_and_a_foreign_redirect_never_redirects(
    oauth: OAuthStandIn,
) -> None:
    assert (await consent(oauth, url_for(oauth, "google"), "cancel"))["error"] == ["access_denied"]
    async with aiohttp.ClientSession() as session:
        foreign = url_for(oauth, "google", redirect_uri="https%3A%2F%2Fevil.example%2Fcb")
        async with session.get(foreign, allow_redirects=False) as response:
            assert response.status == 400 and "redirect_uri_mismatch" in await response.text()


async def test_the_token_endpoint_checks_client_secret_and_redirect_uri(
    oauth: OAuthStandIn, http: httpx.AsyncClient
) -> None:
    code = (await consent(oauth, url_for(oauth, "microsoft")))["code"][0]
    with pytest.raises(AuthenticationFailed, match="invalid_client"):
        await exchange(oauth, http, "microsoft", code, client_secret="not-it")
    with pytest.raises(AuthenticationFailed, match="invalid_grant"):
        await exchange(oauth, http, "microsoft", code, redirect_uri=REDIRECT + "/other")
    assert oauth.issued == []


async def test_without_offline_access_no_refresh_token_comes_back(
    oauth: OAuthStandIn, http: httpx.AsyncClient
) -> None:
    # Google gives a refresh token on a consent it has just shown; a repeat without
    # prompt=consent gets none (which is why Debrief always asks for it).
    first = (await consent(oauth, url_for(oauth, "google", prompt="none")))["code"][0]
    await exchange(oauth, http, "google", first)
    again = (await consent(oauth, url_for(oauth, "google", prompt="none")))["code"][0]
    with pytest.raises(ProviderResponseError, match="no refresh token"):
        await exchange(oauth, http, "google", again)
    scope = "Calendars.Read"  # Microsoft: no offline_access, no refresh token
    code = (await consent(oauth, url_for(oauth, "microsoft", scope=scope)))["code"][0]
    with pytest.raises(ProviderResponseError, match="no refresh token"):
        await exchange(oauth, http, "microsoft", code)
    assert len(oauth.issued) == 1


async def test_an_outage_is_unavailable_not_a_refusal(
    oauth: OAuthStandIn, http: httpx.AsyncClient
) -> None:
    code = (await consent(oauth, url_for(oauth, "google")))["code"][0]
    oauth.fail("/google/token", status=503)
    with pytest.raises(ProviderUnavailable):
        await exchange(oauth, http, "google", code)
