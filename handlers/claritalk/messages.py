"""Claritalk's documented status codes as sentences for the person who asked."""

from __future__ import annotations

from bot.blockkit import mrkdwn
from providers.claritalk import ConnectionLapsed, DesktopClientOffline, validation_detail
from providers.errors import (
    AuthenticationFailed,
    BadRequest,
    Conflict,
    NotFound,
    PermissionDenied,
    ProviderError,
    ProviderStatusError,
    RateLimited,
)

RECONNECT = "`/debrief claritalk connect`"
#: Claritalk's own explanation of a refusal, as much as a sentence needs.
DETAIL = 500


def explain(error: ProviderError, *, personal: bool = True) -> str:
    """What went wrong with a Claritalk call and what to do about it.

    Args:
        error: the failure, as the Claritalk client raised it.
        personal: the call used the person's own connection (so reconnecting is theirs to do),
            rather than Debrief's configured token.
    """
    if isinstance(error, ConnectionLapsed):
        return (
            f"Your Claritalk connection has lapsed or was revoked. Connect again with {RECONNECT}."
        )
    if isinstance(error, AuthenticationFailed):
        if personal:
            return f"Claritalk no longer accepts your connection (401). Reconnect with {RECONNECT}."
        return (
            "Claritalk refused Debrief's credentials (401): an admin needs to check "
            "`CLARITALK_TOKEN` or the service account's client id and secret."
        )
    if isinstance(error, PermissionDenied):
        return (
            "Claritalk says this account may not do that (403): a personal connection only "
            "reaches its own meetings; ask an admin of your Claritalk organisation."
        )
    if isinstance(error, Conflict):
        return f"Claritalk reports a conflict with the current state (409): {_detail(error)}."
    if isinstance(error, BadRequest):
        return f"Claritalk could not process the request (422): {_detail(error)}."
    if isinstance(error, RateLimited):
        when = f" in {error.retry_after:.0f} seconds" if error.retry_after else " in a minute"
        return f"Claritalk's rate limit was reached (429): please try again{when}."
    if isinstance(error, DesktopClientOffline):
        return (
            "The Claritalk Connect desktop client is not connected (503): open Claritalk "
            "Connect on your computer and try again."
        )
    if isinstance(error, NotFound):
        return "Claritalk found no such meeting or account (404)."
    return "Claritalk is unavailable right now; please try again in a minute."


def _detail(error: ProviderStatusError) -> str:
    return mrkdwn(validation_detail(error.body, error.message), DETAIL)
