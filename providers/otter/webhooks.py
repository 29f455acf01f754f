"""Authenticating and parsing Otter.ai workspace webhook deliveries.

An Otter admin sets up a webhook in Otter's UI and picks one of three ways to authenticate it:
an `X-HMAC-SHA256` header holding the HMAC-SHA256 of the raw body (the reference does not say
whether it is hex or base64, so both are accepted), `Authorization: Bearer <token>`, or
`Authorization: Basic <base64(user:password)>`. Otter sends no timestamp, so replay protection
comes from de-duplicating on :attr:`OtterWebhook.delivery_key`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Literal

from providers.errors import InvalidSignature
from providers.otter.models import OtterWebhook
from providers.webhooks import (
    digest_matches,
    hmac_sha256,
    json_object,
    secret_matches,
    validate_payload,
)

SIGNATURE_HEADER = "X-HMAC-SHA256"


def sign(body: bytes, secret: str, encoding: Literal["hex", "base64"] = "hex") -> str:
    """The `X-HMAC-SHA256` value Otter would send for ``body``."""
    digest = hmac_sha256(secret.encode(), body)
    if encoding == "hex":
        return digest.hex()
    if encoding == "base64":
        return base64.b64encode(digest).decode()
    raise ValueError(f"unknown signature encoding {encoding!r}: use 'hex' or 'base64'")


def basic_authorization(credentials: str) -> str:
    """The `Authorization` value for Basic credentials given as `user:password`."""
    return "Basic " + base64.b64encode(credentials.encode()).decode()


def _basic_credentials(encoded: str) -> str | None:
    try:
        return base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, ValueError):
        return None


def verify_request(
    body: bytes,
    headers: Mapping[str, str],
    *,
    hmac_secret: str | None,
    bearer_token: str | None = None,
    basic_credentials: str | None = None,
) -> None:
    """Check that a delivery carries one of the configured credentials; run it before parsing.

    A delivery is accepted when any configured scheme verifies. Without any configured secret,
    every delivery is refused: an unauthenticated endpoint would let anyone post digests.

    Args:
        body: the raw request body, exactly as received.
        headers: the request headers; names are matched case-insensitively.
        hmac_secret: the key of the `X-HMAC-SHA256` header (hex or base64 digest).
        bearer_token: the token expected in `Authorization: Bearer …`.
        basic_credentials: `user:password` expected in `Authorization: Basic …`.

    Raises:
        InvalidSignature: nothing is configured, or no configured scheme verifies.
    """
    if not (hmac_secret or bearer_token or basic_credentials):
        raise InvalidSignature("no Otter webhook secret is configured; refusing the delivery")
    lowered = {name.lower(): value for name, value in headers.items()}
    reasons: list[str] = []

    if hmac_secret:
        signature = lowered.get(SIGNATURE_HEADER.lower())
        if signature:
            if digest_matches(hmac_sha256(hmac_secret.encode(), body), signature):
                return
            reasons.append(f"{SIGNATURE_HEADER} does not match the body")

    scheme, _, credential = lowered.get("authorization", "").strip().partition(" ")
    scheme, credential = scheme.lower(), credential.strip()
    if bearer_token and scheme == "bearer":
        if secret_matches(bearer_token, credential):
            return
        reasons.append("the Bearer token is wrong")
    if basic_credentials and scheme == "basic":
        if secret_matches(basic_credentials, _basic_credentials(credential)):
            return
        reasons.append("the Basic credentials are wrong")

    if not reasons:
        accepted = [
            name
            for name, configured in (
                (SIGNATURE_HEADER, hmac_secret),
                ("Authorization: Bearer", bearer_token),
                ("Authorization: Basic", basic_credentials),
            )
            if configured
        ]
        reasons.append(f"no {' or '.join(accepted)} on the delivery")
    raise InvalidSignature("; ".join(reasons))


def parse_webhook(body: bytes) -> OtterWebhook:
    """Parse an authenticated delivery; unknown events parse too (see ``is_known_event``).

    Raises:
        MalformedPayload: the body is not JSON or not shaped like an Otter webhook.
    """
    return validate_payload(
        OtterWebhook, json_object(body), lambda reason: f"not an Otter webhook ({reason})"
    )
