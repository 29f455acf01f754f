"""Attendee webhook signatures: signing (for the stand-in and tests) and verification.

Attendee does not sign the bytes it sends. It signs the envelope re-serialised canonically
(sorted keys, no spaces, UTF-8 rather than ``\\u`` escapes) and sends the body with Python's
default separators. So verification has to parse the JSON, serialise it the same canonical way
and compare HMACs; the raw body is only the carrier. There is no timestamp: replays are stopped by
deduplicating ``idempotency_key``.

Refusal order, cheapest first, so that unauthenticated callers cost little and learn nothing
about parsing: no secret configured, no header, or a header that is no HMAC-SHA256 digest in any
spelling → :class:`InvalidSignature` (401), before the body is read; a body nested deeper than
the depth limit, or not a JSON object → :class:`MalformedPayload` (400), since it cannot be
verified at all; signature wrong → 401; signature right but the envelope malformed → 400.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

import orjson

from providers.attendee.models import WebhookEnvelope
from providers.errors import InvalidSignature, MalformedPayload
from providers.webhooks import (
    decode_digest,
    digest_matches,
    hmac_sha256,
    json_object,
    validate_payload,
)

SIGNATURE_HEADER = "X-Webhook-Signature"
DIGEST_BYTES = 32


def decode_secret(secret_b64: str) -> bytes:
    """The HMAC key behind the base64 secret shown in Attendee's settings; ``ValueError`` if bad."""
    value = secret_b64.strip()
    try:
        key = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the Attendee webhook secret is not valid base64") from None
    if not key:
        raise ValueError("the Attendee webhook secret is empty")
    return key


def canonical_json(envelope: Any) -> bytes:
    """The bytes Attendee signs: sorted keys, compact separators, raw UTF-8."""
    text = json.dumps(envelope, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8")


def sign(envelope: Mapping[str, Any], secret_b64: str) -> str:
    """The ``X-Webhook-Signature`` of ``envelope``: base64 HMAC-SHA256 of its canonical form."""
    digest = hmac_sha256(decode_secret(secret_b64), canonical_json(dict(envelope)))
    return base64.b64encode(digest).decode("ascii")


def check_header(signature: str | None, secret_b64: str) -> bytes:
    """What can be checked before the body is read: a secret to verify with, and a header that
    could be a signature (an HMAC-SHA256 digest, 32 bytes, in one of its spellings). Returns the
    HMAC key.

    Raises:
        InvalidSignature: no secret configured, header missing or not a digest (answer 401).
    """
    if not secret_b64:
        raise InvalidSignature("no Attendee webhook secret is configured")
    if not signature or not signature.strip():
        raise InvalidSignature(f"missing {SIGNATURE_HEADER} header")
    try:
        key = decode_secret(secret_b64)
    except ValueError as exc:
        raise InvalidSignature(str(exc)) from None
    if not any(len(digest) == DIGEST_BYTES for digest in decode_digest(signature)):
        raise InvalidSignature(f"{SIGNATURE_HEADER} is not an HMAC-SHA256 digest")
    return key


def _verified_object(body: bytes, signature: str | None, secret_b64: str) -> dict[str, Any]:
    key = check_header(signature, secret_b64)
    envelope = json_object(body)
    fast = _fast_canonical_json(envelope)
    if fast is not None and digest_matches(hmac_sha256(key, fast), signature):
        return envelope
    try:
        message = canonical_json(envelope)
    except (UnicodeEncodeError, ValueError):
        # Lone surrogates (``"\\ud800"``) parse but cannot be encoded: nobody could sign them.
        raise MalformedPayload("body contains text that cannot be encoded as UTF-8") from None
    if message == fast or not digest_matches(hmac_sha256(key, message), signature):
        raise InvalidSignature(f"{SIGNATURE_HEADER} does not match the body")
    return envelope


def _fast_canonical_json(envelope: Any) -> bytes | None:
    """:func:`canonical_json` by orjson, several times faster and the same bytes for all but a
    few values (floats written ``1e16`` rather than ``1e+16``, say), which then go the exact
    way; None where orjson cannot encode the envelope at all.

    Accepting a signature over either form admits nothing unsigned: both are fixed functions
    of the parsed envelope, and only the holder of the secret can sign one.
    """
    try:
        return orjson.dumps(envelope, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return None


def verify_signature(body: bytes, signature: str | None, secret_b64: str) -> None:
    """Check an Attendee delivery's signature against the project's webhook secret.

    Args:
        body: the request body exactly as received.
        signature: the ``X-Webhook-Signature`` header, or ``None`` when absent.
        secret_b64: the webhook secret as Attendee shows it (base64).

    Raises:
        InvalidSignature: no secret configured, header missing, or signature wrong (answer 401).
        MalformedPayload: a header was sent but the body is not a JSON object (answer 400).
    """
    _verified_object(body, signature, secret_b64)


def parse_webhook(body: bytes, signature: str | None, secret_b64: str) -> WebhookEnvelope:
    """Verify an Attendee delivery, then parse it; nothing is parsed into models before verifying.

    Args:
        body: the request body exactly as received.
        signature: the ``X-Webhook-Signature`` header, or ``None`` when absent.
        secret_b64: the webhook secret as Attendee shows it (base64).

    Raises:
        InvalidSignature: as :func:`verify_signature` (answer 401).
        MalformedPayload: not JSON, or the envelope or its known ``data`` lacks fields or has
            wrong types; ``reason`` says which (answer 400).
    """
    return parse_webhook_object(body, signature, secret_b64)[0]


def parse_webhook_object(
    body: bytes, signature: str | None, secret_b64: str
) -> tuple[WebhookEnvelope, dict[str, Any]]:
    """As :func:`parse_webhook`, with the verified envelope also as the JSON object received
    (what a job keeps: the job validates it again when it runs)."""
    envelope = _verified_object(body, signature, secret_b64)
    trigger = envelope.get("trigger")
    where = f" ({trigger})" if isinstance(trigger, str) else ""
    parsed = validate_payload(
        WebhookEnvelope,
        envelope,
        lambda reason: f"not an Attendee webhook envelope{where}: {reason}",
    )
    return parsed, envelope
