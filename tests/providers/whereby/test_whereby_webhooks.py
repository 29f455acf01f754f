"""Whereby-Signature verification and webhook parsing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from providers.errors import InvalidSignature, MalformedPayload
from providers.whereby import WherebyEventType, parse_webhook, sign, verify_signature

SECRET = "whsec-test-0123456789"
NOW = 1_700_000_000


def clock() -> float:
    return float(NOW)


@pytest.fixture
def body(payload: Callable[[str], Any]) -> bytes:
    return json.dumps(payload("webhooks/recording.finished"), separators=(",", ":")).encode()


def test_sign_matches_the_documented_construction() -> None:
    # HMAC-SHA256 over "<t>.<body>", hex, computed independently here.
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), b"1606227791.{}", hashlib.sha256).hexdigest()
    assert sign(b"{}", SECRET, 1606227791) == f"t=1606227791,v1={expected}"


def test_good_signature(body: bytes) -> None:
    assert verify_signature(body, sign(body, SECRET, NOW), SECRET, clock=clock) == NOW


def test_tampered_body(body: bytes) -> None:
    header = sign(body, SECRET, NOW)
    with pytest.raises(InvalidSignature, match="does not match"):
        verify_signature(body.replace(b"completed", b"complete!"), header, SECRET, clock=clock)


def test_tampered_timestamp(body: bytes) -> None:
    header = sign(body, SECRET, NOW).replace(f"t={NOW}", f"t={NOW + 1}")
    with pytest.raises(InvalidSignature, match="does not match"):
        verify_signature(body, header, SECRET, clock=clock)


def test_stale_timestamp(body: bytes) -> None:
    header = sign(body, SECRET, NOW - 301)
    with pytest.raises(InvalidSignature, match="tolerance"):
        verify_signature(body, header, SECRET, clock=clock)
    assert verify_signature(body, sign(body, SECRET, NOW - 300), SECRET, clock=clock)


def test_future_timestamp(body: bytes) -> None:
    with pytest.raises(InvalidSignature, match="tolerance"):
        verify_signature(body, sign(body, SECRET, NOW + 301), SECRET, clock=clock)


def test_custom_tolerance(body: bytes) -> None:
    header = sign(body, SECRET, NOW - 61)
    with pytest.raises(InvalidSignature):
        verify_signature(body, header, SECRET, tolerance=60, clock=clock)


@pytest.mark.parametrize("header", [None, ""])
def test_missing_header(body: bytes, header: str | None) -> None:
    with pytest.raises(InvalidSignature, match="missing"):
        verify_signature(body, header, SECRET, clock=clock)


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        f"t={NOW}",
        "v1=abcdef",
        f"t={NOW},t={NOW},v1=abcdef",
        f"t=soon,v1={'0' * 64}",
        f"t={NOW},v1=",
    ],
)
def test_malformed_header(body: bytes, header: str) -> None:
    with pytest.raises(InvalidSignature, match="malformed"):
        verify_signature(body, header, SECRET, clock=clock)


def test_wrong_secret(body: bytes) -> None:
    with pytest.raises(InvalidSignature, match="does not match"):
        verify_signature(body, sign(body, "another-secret", NOW), SECRET, clock=clock)


def test_no_secret_configured_refuses_everything(body: bytes) -> None:
    with pytest.raises(InvalidSignature, match="configured"):
        verify_signature(body, sign(body, "", NOW), "", clock=clock)


def test_multiple_v1_any_matches(body: bytes) -> None:
    good = sign(body, SECRET, NOW).split("v1=")[1]
    stale_key = sign(body, "old-secret", NOW).split("v1=")[1]
    for header in (
        f"t={NOW},v1={stale_key},v1={good}",
        f"t={NOW}, v1={good}, v1={stale_key}",
        f"v0=ignored,t={NOW},v1={good}",
    ):
        assert verify_signature(body, header, SECRET, clock=clock) == NOW
    with pytest.raises(InvalidSignature):
        verify_signature(body, f"t={NOW},v1={stale_key},v1={'ab' * 32}", SECRET, clock=clock)


def test_uppercase_hex_is_accepted(body: bytes) -> None:
    header = sign(body, SECRET, NOW)
    timestamp, digest = header.split(",")
    assert verify_signature(
        body, f"{timestamp},{digest.upper().replace('V1', 'v1')}", SECRET, clock=clock
    )


def test_parse_webhook_verifies_then_parses(body: bytes) -> None:
    event = parse_webhook(body, sign(body, SECRET, NOW), SECRET, clock=clock)
    assert event.known_type is WherebyEventType.RECORDING_FINISHED
    assert event.data.meeting_id is None
    with pytest.raises(InvalidSignature):
        parse_webhook(body, None, SECRET, clock=clock)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not json", "valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"id": "x", "data": {}}', "type"),
        (b'{"id": "x", "type": "room.client.joined", "data": "nope"}', "data"),
    ],
)
def test_authentic_but_malformed(raw: bytes, reason: str) -> None:
    with pytest.raises(MalformedPayload, match=reason) as caught:
        parse_webhook(raw, sign(raw, SECRET, NOW), SECRET, clock=clock)
    assert caught.value.status == 400


def test_signature_is_checked_before_parsing() -> None:
    # A bad body with a bad signature is a 401, not a 400: nothing is parsed unverified.
    with pytest.raises(InvalidSignature):
        parse_webhook(b"not json", f"t={NOW},v1={'0' * 64}", SECRET, clock=clock)
