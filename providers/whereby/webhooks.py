"""Verifying and parsing Whereby webhook deliveries.

Whereby signs each delivery with ``Whereby-Signature: t=<unix seconds>,v1=<hex>``, where ``v1``
is the hex HMAC-SHA256, keyed with the webhook's secret, of ``"<t>.<raw body>"``. Several ``v1``
values (a secret being rotated) are accepted when any one matches; other schemes are ignored.
"""

from __future__ import annotations

import time

from providers.errors import InvalidSignature
from providers.webhooks import (
    Clock,
    check_timestamp,
    digest_matches,
    hmac_sha256,
    is_unix_seconds,
    json_object,
    validate_payload,
)
from providers.whereby.models import WherebyEvent

SIGNATURE_HEADER = "Whereby-Signature"
DEFAULT_TOLERANCE = 300.0


def _signed_payload(body: bytes, timestamp: int | str) -> bytes:
    return str(timestamp).encode("ascii") + b"." + body


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The ``Whereby-Signature`` header value Whereby would send for ``body`` at ``timestamp``."""
    digest = hmac_sha256(secret.encode(), _signed_payload(body, timestamp)).hex()
    return f"t={timestamp},v1={digest}"


def _parse_header(header: str) -> tuple[str, list[str]]:
    timestamps: list[str] = []
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key.strip() == "t":
            timestamps.append(value.strip())
        elif key.strip() == "v1" and value.strip():
            signatures.append(value.strip())
    if len(timestamps) != 1 or not signatures:
        raise InvalidSignature(f"malformed {SIGNATURE_HEADER} header")
    return timestamps[0], signatures


def verify_signature(
    body: bytes,
    header: str | None,
    secret: str,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    clock: Clock = time.time,
) -> int:
    """Check a delivery's ``Whereby-Signature`` on the raw body; return its timestamp.

    Args:
        body: the request body exactly as received.
        header: the ``Whereby-Signature`` header value, or ``None`` if absent.
        secret: the webhook's signing secret; an empty one refuses everything.
        tolerance: seconds the timestamp may differ from ``clock()``, either way.
        clock: unix time, injectable for tests.

    Raises:
        InvalidSignature: no secret configured; header missing or malformed; no ``v1``
            matches; or the timestamp is outside the tolerance window.
    """
    if not secret:
        raise InvalidSignature("no Whereby webhook secret is configured")
    if not header:
        raise InvalidSignature(f"missing {SIGNATURE_HEADER} header")
    timestamp, signatures = _parse_header(header)
    if not is_unix_seconds(timestamp):
        raise InvalidSignature("missing or malformed signature timestamp")
    expected = hmac_sha256(secret.encode(), _signed_payload(body, timestamp))
    # Every candidate is compared (no early exit), each in constant time.
    matches = [digest_matches(expected, signature) for signature in signatures]
    if not any(matches):
        raise InvalidSignature("signature does not match")
    return check_timestamp(timestamp, tolerance=tolerance, clock=clock)


def parse_event(body: bytes) -> WherebyEvent:
    """Parse an already verified body into a :class:`WherebyEvent`.

    Raises:
        MalformedPayload: the body is not a JSON object shaped like a Whereby event.
    """
    return validate_payload(WherebyEvent, json_object(body))


def parse_webhook(
    body: bytes,
    header: str | None,
    secret: str,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    clock: Clock = time.time,
) -> WherebyEvent:
    """Verify a delivery's signature, then parse it.

    Args:
        body: the request body exactly as received.
        header: the ``Whereby-Signature`` header value, or ``None``.
        secret: the webhook's signing secret.
        tolerance: seconds of clock difference allowed.
        clock: unix time, injectable for tests.

    Raises:
        InvalidSignature: see :func:`verify_signature` (answer 401).
        MalformedPayload: authentic but not a Whereby event (answer 400).
    """
    verify_signature(body, header, secret, tolerance=tolerance, clock=clock)
    return parse_event(body)
