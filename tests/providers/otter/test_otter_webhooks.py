"""Otter webhook authentication (HMAC hex/base64, Bearer, Basic) and parsing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from providers.errors import InvalidSignature, MalformedPayload
from providers.otter import basic_authorization, parse_webhook, sign, verify_request

SECRET = "whsec_otter_test"
BODY_NAME = "webhook_conversation_completed"


@pytest.fixture
def body(raw_payload) -> bytes:
    return raw_payload(BODY_NAME)


def independent_hmac(body: bytes, secret: str) -> bytes:
    return hmac.new(secret.encode(), body, hashlib.sha256).digest()


def test_sign_matches_an_independent_hmac(body) -> None:
    digest = independent_hmac(body, SECRET)

    assert sign(body, SECRET) == digest.hex()
    assert sign(body, SECRET, "base64") == base64.b64encode(digest).decode()
    with pytest.raises(ValueError, match="hex"):
        sign(body, SECRET, "base32")  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["X-HMAC-SHA256", "x-hmac-sha256", "X-Hmac-Sha256"])
@pytest.mark.parametrize("encoding", ["hex", "base64"])
def test_hmac_in_hex_or_base64_under_any_header_case(body, name, encoding) -> None:
    headers = {"Content-Type": "application/json", name: sign(body, SECRET, encoding)}

    verify_request(body, headers, hmac_secret=SECRET)


def test_uppercase_hex_digest_is_accepted(body) -> None:
    verify_request(body, {"X-HMAC-SHA256": sign(body, SECRET).upper()}, hmac_secret=SECRET)


def test_tampered_body_is_refused(body) -> None:
    signature = sign(body, SECRET)
    tampered = body.replace(b"ACME", b"EMCA", 1)

    with pytest.raises(InvalidSignature, match="does not match"):
        verify_request(tampered, {"X-HMAC-SHA256": signature}, hmac_secret=SECRET)


def test_signature_over_reserialised_json_is_refused(body) -> None:
    # Verification runs on the bytes received, not on a re-encoding of the parsed JSON.
    reencoded = json.dumps(json.loads(body)).encode()

    with pytest.raises(InvalidSignature):
        verify_request(body, {"X-HMAC-SHA256": sign(reencoded, SECRET)}, hmac_secret=SECRET)


def test_wrong_secret_is_refused(body) -> None:
    with pytest.raises(InvalidSignature):
        verify_request(body, {"X-HMAC-SHA256": sign(body, "other")}, hmac_secret=SECRET)


def test_missing_signature_is_refused(body) -> None:
    with pytest.raises(InvalidSignature, match="no X-HMAC-SHA256"):
        verify_request(body, {"Content-Type": "application/json"}, hmac_secret=SECRET)


def test_garbage_signature_is_refused(body) -> None:
    with pytest.raises(InvalidSignature):
        verify_request(body, {"X-HMAC-SHA256": "sha256=zzz"}, hmac_secret=SECRET)


def test_nothing_configured_refuses_even_signed_deliveries(body) -> None:
    headers = {"X-HMAC-SHA256": sign(body, SECRET), "Authorization": f"Bearer {SECRET}"}

    with pytest.raises(InvalidSignature, match="no Otter webhook secret"):
        verify_request(body, headers, hmac_secret=None)
    with pytest.raises(InvalidSignature, match="no Otter webhook secret"):
        verify_request(body, headers, hmac_secret="", bearer_token="", basic_credentials="")


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_bearer_token(body, scheme) -> None:
    verify_request(
        body, {"Authorization": f"{scheme} {SECRET}"}, hmac_secret=None, bearer_token=SECRET
    )


def test_wrong_bearer_token_is_refused(body) -> None:
    with pytest.raises(InvalidSignature, match="Bearer token is wrong"):
        verify_request(
            body, {"authorization": "Bearer guess"}, hmac_secret=None, bearer_token=SECRET
        )


def test_bearer_is_not_accepted_unless_configured(body) -> None:
    # Knowing the HMAC key is not the same as Otter being set up to send it in clear.
    with pytest.raises(InvalidSignature):
        verify_request(body, {"Authorization": f"Bearer {SECRET}"}, hmac_secret=SECRET)


def test_basic_credentials(body) -> None:
    headers = {"Authorization": basic_authorization("otter:s3cret:with:colons")}

    verify_request(body, headers, hmac_secret=None, basic_credentials="otter:s3cret:with:colons")
    assert (
        headers["Authorization"]
        == "Basic " + base64.b64encode(b"otter:s3cret:with:colons").decode()
    )


@pytest.mark.parametrize(
    "authorization",
    [
        basic_authorization("otter:wrong"),
        "Basic !!!not-base64!!!",
        "Basic ",
        f"Bearer {base64.b64encode(b'otter:s3cret').decode()}",
    ],
)
def test_wrong_basic_credentials_are_refused(body, authorization) -> None:
    with pytest.raises(InvalidSignature):
        verify_request(
            body,
            {"Authorization": authorization},
            hmac_secret=None,
            basic_credentials="otter:s3cret",
        )


def test_any_configured_scheme_may_verify(body) -> None:
    headers = {"X-HMAC-SHA256": sign(body, "stale-key"), "Authorization": f"Bearer {SECRET}"}

    verify_request(body, headers, hmac_secret=SECRET, bearer_token=SECRET)


def test_parse_documented_body(body) -> None:
    hook = parse_webhook(body)

    assert hook.is_completed
    assert hook.data.title == "Customer Discovery Call – ACME Corp"


@pytest.mark.parametrize(
    "event",
    [
        "conversation_completed",
        "conversation.completed",
        "ConversationCompleted",
        "transcript_ready",
    ],
)
def test_completion_event_spellings(payload, event) -> None:
    data = payload(BODY_NAME)
    data["meta"]["webhook"]["event"] = event

    hook = parse_webhook(json.dumps(data).encode())

    assert hook.is_completed and hook.is_known_event


def test_unknown_event_parses_and_is_reported(payload) -> None:
    data = payload(BODY_NAME)
    data["meta"]["webhook"]["event"] = "Conversation.Shared"

    hook = parse_webhook(json.dumps(data).encode())

    assert hook.event == "conversation_shared"
    assert not hook.is_completed and not hook.is_known_event
    assert hook.delivery_key == "conversation_shared:conversation_id"


def test_missing_event_is_unknown(payload) -> None:
    data = payload(BODY_NAME)
    del data["meta"]

    hook = parse_webhook(json.dumps(data).encode())

    assert hook.event == "" and hook.raw_event is None and not hook.is_known_event
    assert hook.delivery_key == "unknown:conversation_id"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[]", "JSON object"),
        (b'{"meta": {}}', "data"),
        (b'{"data": {"title": "no id"}}', "data.id"),
        (b'{"data": {"id": "c", "action_items": "many"}}', "action_items"),
    ],
)
def test_malformed_bodies_say_why(raw, reason) -> None:
    with pytest.raises(MalformedPayload, match=reason) as caught:
        parse_webhook(raw)
    assert caught.value.status == 400
