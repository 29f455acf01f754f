"""The OAuth authorization code of Google and Microsoft, for the calendars Attendee syncs.

Attendee syncs a calendar with a refresh token it is given (``POST /calendars``); getting one is
the caller's business: send the person to the platform's consent page with offline access, then
exchange the code that comes back. Both platforms take the same form-encoded request at their
token URL (RFC 6749 §4.1.3) and answer ``{"access_token", "refresh_token", …}``, or ``400
{"error": "invalid_grant", "error_description": …}`` for a used, expired or foreign code.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlencode

import httpx
from pydantic import BaseModel, ConfigDict, SecretStr

from providers.errors import (
    AuthenticationFailed,
    ProviderResponseError,
    ProviderUnavailable,
)
from providers.http import parse_model

Platform = Literal["google", "microsoft"]

#: Read-only access to the person's calendars: all Attendee needs to sync their events.
SCOPES: dict[str, str] = {
    "google": "https://www.googleapis.com/auth/calendar.readonly",
    # offline_access is what makes Microsoft return a refresh token.
    "microsoft": "offline_access Calendars.Read",
}
#: The time a token request may take before the person is told the platform is unavailable.
TIMEOUT = 20.0


class CalendarTokens(BaseModel):
    """The token endpoint's answer; the refresh token is what Attendee needs."""

    model_config = ConfigDict(extra="ignore")

    refresh_token: SecretStr
    access_token: SecretStr | None = None
    expires_in: int | None = None
    scope: str | None = None


def authorize_url(
    platform: Platform, auth_url: str, client_id: str, redirect_uri: str, state: str
) -> str:
    """Where to send the person: the platform's consent page, asking for offline access (so
    that a refresh token comes back) to read their calendars."""
    query: dict[str, str] = {
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": SCOPES[platform],
        "state": state,
    }
    if platform == "google":
        # prompt=consent: Google returns a refresh token only on a consent it has just shown.
        query |= {"access_type": "offline", "prompt": "consent", "include_granted_scopes": "true"}
    else:
        query |= {"response_mode": "query"}
    separator = "&" if "?" in auth_url else "?"
    return f"{auth_url}{separator}{urlencode(query)}"


async def exchange_code(
    http_client: httpx.AsyncClient,
    platform: Platform,
    token_url: str,
    *,
    code: str,
    redirect_uri: str,
    client_id: str,
    client_secret: str,
) -> CalendarTokens:
    """Exchange the callback's ``code`` for the person's tokens. Sent once: a code is single-use.

    Args:
        http_client: the shared client; not closed here.
        platform: ``google`` or ``microsoft`` (named in errors).
        token_url: the platform's token endpoint.
        code: the ``code`` the callback received.
        redirect_uri: exactly the one given to :func:`authorize_url`.
        client_id, client_secret: the operator's OAuth client at that platform.

    Raises:
        AuthenticationFailed: the platform refused the code or the client (``message`` says
            its words); the person should connect again.
        ProviderUnavailable: it could not be reached, timed out or failed on its side.
        ProviderResponseError: it answered without a refresh token, or not in JSON.
    """
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": client_id,
        "client_secret": client_secret,
    }
    if platform == "microsoft":
        form["scope"] = SCOPES["microsoft"]
    try:
        response = await http_client.post(
            token_url, data=form, headers={"Accept": "application/json"}, timeout=TIMEOUT
        )
    except httpx.HTTPError as exc:
        raise ProviderUnavailable(
            platform, f"token endpoint unreachable ({type(exc).__name__})"
        ) from None
    if response.status_code >= 500:
        raise ProviderUnavailable(platform, f"token endpoint answered {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        raise ProviderResponseError(platform, "token endpoint did not answer JSON") from None
    if response.status_code >= 400:
        error = body.get("error") if isinstance(body, dict) else None
        said = body.get("error_description") if isinstance(body, dict) else None
        words = ": ".join(str(part) for part in (error, said) if part) or "no reason given"
        raise AuthenticationFailed(
            platform,
            f"the sign-in was not accepted ({words[:300]})",
            status_code=response.status_code,
            body={"error": error},
        )
    if not isinstance(body, dict) or not body.get("refresh_token"):
        raise ProviderResponseError(
            platform, "the token endpoint gave no refresh token (offline access was not granted)"
        )
    return parse_model(platform, CalendarTokens, body)
