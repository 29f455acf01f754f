"""What the configuration allows: Debrief's own Claritalk client, the URLs Claritalk is given,
and whether end users can connect their accounts here.
"""

from __future__ import annotations

import logging

import httpx

from bot.config import Settings
from bot.crypto import SecretBox
from bot.errors import UserFacingError
from handlers.claritalk.settings import claritalk_settings
from providers.claritalk import (
    ClaritalkClient,
    ClientCredentials,
    PersonalAccessToken,
    TokenSource,
)
from providers.http import RateLimiter

CONNECT_PATH = "/claritalk/connect"
CALLBACK_PATH = "/claritalk/callback"
WEBHOOK_PATH = "/webhooks/claritalk"

#: What a person is told when this Debrief cannot connect Claritalk accounts: settings are the
#: operator's business, so their names go to the log (and `debrief doctor`), not to Slack.
NOT_SET_UP = (
    "Claritalk accounts cannot be connected on this Debrief yet. Ask whoever runs Debrief "
    "to finish setting up Claritalk."
)

log = logging.getLogger(__name__)


def build_client(
    settings: Settings,
    http: httpx.AsyncClient,
    *,
    limiter: RateLimiter | None = None,
    upload_limiter: RateLimiter | None = None,
) -> ClaritalkClient | None:
    """Debrief's own client: the Personal Access Token if set, else the service account.

    Args:
        settings: ``CLARITALK_TOKEN``, or ``CLARITALK_CLIENT_ID`` and ``CLARITALK_CLIENT_SECRET``.
        http: the shared HTTP client; not closed here.
        limiter, upload_limiter: its budgets (``bot.budgets``); this process's own when omitted.
    """
    own = claritalk_settings(settings)
    base_url = own.claritalk_api_url
    token = settings.secret("claritalk_token")
    client_secret = settings.secret("claritalk_client_secret")
    if token:
        source: TokenSource = PersonalAccessToken(token)
    elif own.claritalk_client_id and client_secret:
        source = ClientCredentials(http, own.claritalk_client_id, client_secret, base_url=base_url)
    else:
        return None
    return ClaritalkClient(
        http,
        token_source=source,
        base_url=base_url,
        limiter=limiter,
        upload_limiter=upload_limiter,
    )


def secret_box(settings: Settings) -> SecretBox:
    """The box for stored secrets; ``enabled`` is False when no key is configured."""
    return SecretBox(settings.encryption_key_list())


def public_url(settings: Settings) -> str | None:
    return settings.public_url.rstrip("/") if settings.public_url else None


def callback_url(settings: Settings) -> str:
    """The ``redirect_uri`` registered with Claritalk (``PUBLIC_URL`` + the callback path)."""
    base = public_url(settings)
    if base is None:
        log.warning("claritalk: PUBLIC_URL is not set, so Claritalk has no callback URL")
        raise UserFacingError(NOT_SET_UP)
    return base + CALLBACK_PATH


def connect_problem(settings: Settings) -> str | None:
    """What to tell a person when accounts cannot be connected on this Debrief, or None when
    they can; what is missing goes to the operator's log."""
    missing = setup_missing(settings)
    if missing is None:
        return None
    log.warning("claritalk accounts cannot be connected: %s", missing)
    return NOT_SET_UP


def setup_missing(settings: Settings) -> str | None:
    """For the operator: the settings that keep end users from connecting Claritalk accounts."""
    missing = []
    if not claritalk_settings(settings).claritalk_client_id or not settings.secret(
        "claritalk_client_secret"
    ):
        missing.append("CLARITALK_CLIENT_ID and CLARITALK_CLIENT_SECRET")
    if not public_url(settings):
        missing.append("PUBLIC_URL")
    if missing:
        return " and ".join(missing) + " not set"
    try:
        secret_box(settings)
    except ValueError:
        return "DEBRIEF_ENCRYPTION_KEYS does not hold valid Fernet keys"
    if not settings.encryption_key_list():
        return "DEBRIEF_ENCRYPTION_KEYS is not set, and tokens are never stored unencrypted"
    return None


def webhook_url(settings: Settings) -> str:
    """The URL Claritalk delivers to: ``PUBLIC_URL/webhooks/claritalk?token=<secret>``.

    Raises:
        UserFacingError: ``PUBLIC_URL`` or ``CLARITALK_WEBHOOK_SECRET`` is not set.
    """
    base = public_url(settings)
    secret = settings.secret("claritalk_webhook_secret")
    if base is None or secret is None:
        raise UserFacingError(
            "set PUBLIC_URL and CLARITALK_WEBHOOK_SECRET first: Claritalk signs nothing, so the "
            "secret in the URL is what authenticates its deliveries"
        )
    return str(httpx.URL(base + WEBHOOK_PATH, params={"token": secret}))


def redacted(url: str) -> str:
    """A webhook URL fit to print: its query (the secret token) left out."""
    return str(httpx.URL(url).copy_with(query=None))
