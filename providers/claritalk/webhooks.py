"""Authenticating and parsing Claritalk webhook deliveries.

Claritalk publishes no signing scheme, so Debrief registers its webhook URL with a secret
``?token=`` and compares it in constant time. Should Claritalk sign deliveries, an HMAC-SHA256
of the raw body in ``X-Claritalk-Signature`` (hex or base64) is accepted when a key is set.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.claritalk.models import ClaritalkEvent
from providers.errors import InvalidSignature
from providers.webhooks import (
    digest_matches,
    hmac_sha256,
    json_object,
    secret_matches,
    validate_payload,
)

SIGNATURE_HEADER = "X-Claritalk-Signature"
#: ``meeting.processed`` carries a base64 PDF; the web layer refuses larger bodies with 413.
DEFAULT_MAX_BODY = 25 * 1024 * 1024


def _header(headers: Mapping[str, str], name: str) -> str | None:
    # A plain dict is case-sensitive; aiohttp's headers are not. Accept both.
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, candidate in headers.items():
        if key.lower() == lowered:
            return candidate
    return None


def verify_request(
    url_token: str | None,
    headers: Mapping[str, str],
    body: bytes,
    *,
    token_secret: str | None,
    hmac_secret: str | None = None,
) -> None:
    """Accept a delivery carrying the right URL token or a valid HMAC signature.

    Args:
        url_token: the ``token`` query parameter of the request, if any.
        headers: the request headers.
        body: the raw body, exactly as received.
        token_secret: ``CLARITALK_WEBHOOK_SECRET``, the token in the registered URL.
        hmac_secret: key for an ``X-Claritalk-Signature`` HMAC, if one is configured.

    Raises:
        InvalidSignature: nothing is configured (deliveries are then always refused), or
            neither the token nor the signature matches.
    """
    signature = screen_request(
        url_token, headers, token_secret=token_secret, hmac_secret=hmac_secret
    )
    if signature is None or hmac_secret is None:
        return
    # Some senders prefix the algorithm, as in "sha256=<hex>".
    value = signature.split("=", 1)[1] if signature.lower().startswith("sha256=") else signature
    if not digest_matches(hmac_sha256(hmac_secret.encode(), body), value):
        raise InvalidSignature(f"{SIGNATURE_HEADER} does not match the body")


def screen_request(
    url_token: str | None,
    headers: Mapping[str, str],
    *,
    token_secret: str | None,
    hmac_secret: str | None = None,
) -> str | None:
    """What can be checked before the body (up to 25 MB) is read: the URL token, or that an
    HMAC header to check is there. Returns that header when the body must still be verified,
    None when the token already authenticated the delivery.

    Raises:
        InvalidSignature: as :func:`verify_request`, for what the URL and headers show.
    """
    if not token_secret and not hmac_secret:
        raise InvalidSignature("Claritalk webhooks are refused: no webhook secret is configured")
    if token_secret and secret_matches(token_secret, url_token):
        return None
    signature = _header(headers, SIGNATURE_HEADER)
    if hmac_secret and signature:
        return signature
    if url_token:
        raise InvalidSignature("the webhook token does not match")
    raise InvalidSignature("the webhook token is missing")


def parse_webhook(body: bytes) -> ClaritalkEvent:
    """Parse an authenticated delivery; ``data`` is typed for the documented events.

    Raises:
        MalformedPayload: the body is not JSON, not an envelope, or its data does not fit.
    """
    return parse_event(json_object(body))


def parse_event(raw: dict[str, Any]) -> ClaritalkEvent:
    """Parse a delivery's decoded JSON object (see :func:`parse_webhook`)."""
    event = raw.get("event")
    label = f"{event} " if isinstance(event, str) else ""
    return validate_payload(
        ClaritalkEvent, raw, lambda reason: f"Claritalk {label}payload is malformed ({reason})"
    )
