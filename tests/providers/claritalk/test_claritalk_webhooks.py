"""Claritalk webhook authentication (URL token or HMAC) and parsing."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest

from providers.claritalk import (
    DEFAULT_MAX_BODY,
    MeetingProcessed,
    MeetingStatusChanged,
    parse_webhook,
    verify_request,
)
from providers.errors import InvalidSignature, MalformedPayload

BODY = b'{"event": "meeting.status.changed", "data": {"meetingId": "m1"}}'
SECRET = "url-token-secret"
KEY = "hmac-key"


def _sign(body: bytes, key: str = KEY) -> bytes:
    return hmac.new(key.encode(), body, hashlib.sha256).digest()


def test_the_right_url_token_is_accepted() -> None:
    verify_request(SECRET, {}, BODY, token_secret=SECRET)


@pytest.mark.parametrize("given", [None, "", "url-token-secreT", "url-token-secret-and-more"])
def test_a_missing_or_wrong_url_token_is_refused(given: str | None) -> None:
    with pytest.raises(InvalidSignature) as refused:
        verify_request(given, {}, BODY, token_secret=SECRET)
    assert refused.value.status == 401


def test_with_nothing_configured_every_delivery_is_refused() -> None:
    with pytest.raises(InvalidSignature, match="no webhook secret is configured"):
        verify_request(
            "anything", {"X-Claritalk-Signature": _sign(BODY).hex()}, BODY, token_secret=None
        )


@pytest.mark.parametrize(
    "encode",
    [
        lambda d: d.hex(),
        lambda d: base64.b64encode(d).decode(),
        lambda d: "sha256=" + d.hex(),
    ],
    ids=["hex", "base64", "prefixed"],
)
def test_an_hmac_signature_is_accepted_when_a_key_is_configured(encode: Any) -> None:
    headers = {"x-claritalk-signature": encode(_sign(BODY))}
    verify_request(None, headers, BODY, token_secret=None, hmac_secret=KEY)
    # Either means suffices when both are configured.
    verify_request("wrong", headers, BODY, token_secret=SECRET, hmac_secret=KEY)


def test_an_hmac_over_other_bytes_or_key_is_refused() -> None:
    tampered = BODY.replace(b"m1", b"m2")
    for signature in (_sign(BODY).hex(), _sign(tampered, "other-key").hex()):
        with pytest.raises(InvalidSignature, match="does not match the body"):
            verify_request(
                None,
                {"X-Claritalk-Signature": signature},
                tampered,
                token_secret=None,
                hmac_secret=KEY,
            )


def test_an_hmac_header_is_ignored_without_a_configured_key() -> None:
    with pytest.raises(InvalidSignature, match="token is missing"):
        verify_request(
            None, {"X-Claritalk-Signature": _sign(BODY).hex()}, BODY, token_secret=SECRET
        )


def test_each_documented_event_parses_from_bytes(payload_bytes: Any) -> None:
    processed = parse_webhook(payload_bytes("meeting_processed.json"))
    status = parse_webhook(payload_bytes("meeting_status_changed.json"))

    assert isinstance(processed.data, MeetingProcessed)
    assert processed.data.todos[0].assignee is not None
    assert isinstance(status.data, MeetingStatusChanged)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"data": {}}', "event: Field required"),
        (
            b'{"event": "meeting.processed", "data": {"title": "x"}}',
            "data.meetingId: Field required",
        ),
        (
            b'{"event": "meeting.processed", "data": {"meetingId": "m", "summaryQualityFlag": []}}',
            "meeting.processed payload is malformed (data.summaryQualityFlag",
        ),
    ],
)
def test_bad_bodies_are_malformed_payloads_with_a_reason(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedPayload) as refused:
        parse_webhook(body)
    assert refused.value.status == 400
    assert reason in refused.value.reason


def test_the_body_limit_is_25_megabytes() -> None:
    assert DEFAULT_MAX_BODY == 25 * 1024 * 1024
