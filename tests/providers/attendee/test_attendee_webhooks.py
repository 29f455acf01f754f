"""Attendee webhook verification and parsing, against deliveries recorded from a real server."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from providers.attendee import (
    BotEventType,
    BotState,
    ParticipantEvent,
    StateChange,
    Utterance,
    WebhookTrigger,
    canonical_json,
    parse_webhook,
    sign,
    verify_signature,
)
from providers.errors import InvalidSignature, MalformedPayload

SECRET = base64.b64encode(bytes(range(32))).decode()


def _body(capture: dict[str, Any]) -> bytes:
    return capture["raw_body"].encode("utf-8")


def _envelope(**data: Any) -> dict[str, Any]:
    return {
        "idempotency_key": "5a0c3c1e-6c1b-4b59-9d0a-3f7d2f1f0a11",
        "bot_id": "bot_abc",
        "bot_metadata": {"slack_channel_id": "C1"},
        "trigger": "bot.state_change",
        "data": {
            "new_state": "joining",
            "old_state": "ready",
            "created_at": "2026-11-22T07:09:29.894629+00:00",
            "event_type": "join_requested",
            "event_metadata": {"source": "api"},
            "event_sub_type": None,
            **data,
        },
    }


def _delivery(envelope: dict[str, Any], secret: str = SECRET) -> tuple[bytes, str]:
    """What Attendee sends: default ``json.dumps`` separators, signature over the canonical form."""
    return json.dumps(envelope).encode(), sign(envelope, secret)


def test_every_recorded_delivery_verifies_and_parses(webhook_capture: dict[str, Any]) -> None:
    body = _body(webhook_capture)
    signature = webhook_capture["headers"]["X-Webhook-Signature"]
    secret = webhook_capture["secret_b64"]

    verify_signature(body, signature, secret)
    envelope = parse_webhook(body, signature, secret)

    recorded = webhook_capture["json"]
    assert envelope.idempotency_key == recorded["idempotency_key"]
    assert envelope.bot_id == recorded["bot_id"]
    assert envelope.bot_metadata == recorded["bot_metadata"]
    assert envelope.trigger == recorded["trigger"]
    assert envelope.data == recorded["data"]
    assert envelope.event is not None


def test_sign_reproduces_the_recorded_signatures(webhook_capture: dict[str, Any]) -> None:
    assert (
        sign(webhook_capture["json"], webhook_capture["secret_b64"])
        == webhook_capture["headers"]["X-Webhook-Signature"]
    )


def test_the_raw_body_is_not_what_was_signed(load_webhook: Callable[..., Any]) -> None:
    capture = load_webhook("clean_00")
    canonical = canonical_json(capture["json"])
    assert canonical != _body(capture)
    assert b'"bot_id":"bot_ELbzyyVcnnGvDCoz"' in canonical


@pytest.mark.parametrize(
    "reserialise",
    [
        lambda e: json.dumps(e, indent=4, sort_keys=True),
        lambda e: json.dumps(dict(reversed(list(e.items()))), separators=(",", ":")),
        lambda e: json.dumps(e, ensure_ascii=False, indent="\t"),
        lambda e: "\n  " + json.dumps(e) + "\n",
    ],
    ids=["sorted-indented", "reversed-compact", "raw-utf8-tabs", "padded"],
)
def test_key_order_spacing_and_escaping_do_not_matter(
    load_webhook: Callable[..., Any], reserialise: Callable[[Any], str]
) -> None:
    capture = load_webhook("clean_06")  # metadata "café ☕ 日本", sent as \u escapes
    body = reserialise(capture["json"]).encode("utf-8")
    signature = capture["headers"]["X-Webhook-Signature"]

    envelope = parse_webhook(body, signature, capture["secret_b64"])

    assert envelope.bot_metadata == {"note": "café ☕ 日本"}


def test_non_ascii_metadata_signed_and_sent_as_utf8() -> None:
    envelope = _envelope()
    envelope["bot_metadata"] = {"note": "naïve 🚀 会議", "quote": 'say "hi"\n'}
    body = json.dumps(envelope, ensure_ascii=False).encode("utf-8")

    parsed = parse_webhook(body, sign(envelope, SECRET), SECRET)

    assert parsed.bot_metadata == envelope["bot_metadata"]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b'"new_state": "joining"', b'"new_state": "ended"'),
        (b'"bot_id": "bot_ELbzyyVcnnGvDCoz"', b'"bot_id": "bot_ELbzyyVcnnGvDCoZ"'),
        (b'"source": "api"', b'"source": "api", "x": 1'),
    ],
    ids=["state", "bot-id", "added-key"],
)
def test_tampered_body_is_refused(load_webhook: Callable[..., Any], old: bytes, new: bytes) -> None:
    capture = load_webhook("clean_00")
    body = _body(capture)
    assert old in body
    tampered = body.replace(old, new)

    with pytest.raises(InvalidSignature) as caught:
        parse_webhook(tampered, capture["headers"]["X-Webhook-Signature"], capture["secret_b64"])
    assert caught.value.status == 401


def test_wrong_secret_is_refused(load_webhook: Callable[..., Any]) -> None:
    capture = load_webhook("clean_09")
    with pytest.raises(InvalidSignature, match="does not match"):
        verify_signature(_body(capture), capture["headers"]["X-Webhook-Signature"], SECRET)


@pytest.mark.parametrize("signature", [None, "", "   "])
def test_missing_signature_is_refused_before_parsing(signature: str | None) -> None:
    with pytest.raises(InvalidSignature, match="missing X-Webhook-Signature"):
        parse_webhook(b"not even json", signature, SECRET)


def test_without_a_configured_secret_everything_is_refused() -> None:
    body, signature = _delivery(_envelope())
    with pytest.raises(InvalidSignature, match="no Attendee webhook secret"):
        parse_webhook(body, signature, "")


def test_a_secret_that_is_not_base64_refuses_instead_of_crashing() -> None:
    body, signature = _delivery(_envelope())
    with pytest.raises(InvalidSignature, match="not valid base64"):
        parse_webhook(body, signature, "not*base64!")


def test_signature_over_the_raw_body_is_refused() -> None:
    """A sender that signs the bytes it sends (the usual scheme) is not Attendee."""
    import hashlib
    import hmac

    body = json.dumps(_envelope()).encode()
    raw = base64.b64encode(hmac.new(base64.b64decode(SECRET), body, hashlib.sha256).digest())
    with pytest.raises(InvalidSignature):
        parse_webhook(body, raw.decode(), SECRET)


@pytest.mark.parametrize(
    "value",
    [1e16, 1.5e300, -0.0, 2**70, "tab\there", "\u2028 and \x7f", "emoji \U0001f600"],
    ids=[
        "exponent",
        "big-exponent",
        "negative-zero",
        "beyond-64-bits",
        "tab",
        "separators",
        "emoji",
    ],
)
def test_values_orjson_writes_differently_still_verify(value: Any) -> None:
    """Verification tries orjson's canonical form first; where it differs from Python's (what
    Attendee signs), the exact form decides, so a genuine delivery is never refused."""
    envelope = _envelope(event_metadata={"value": value})
    body, signature = _delivery(envelope)
    assert parse_webhook(body, signature, SECRET).data is not None
    tampered = _delivery(_envelope(event_metadata={"value": "other"}))[0]
    with pytest.raises(InvalidSignature):
        parse_webhook(tampered, signature, SECRET)


def test_the_fast_form_is_the_exact_one_for_recorded_deliveries(
    webhook_capture: dict[str, Any],
) -> None:
    """The speed-up is real for what Attendee actually sends: orjson gives the same bytes."""
    import orjson

    envelope = json.loads(_body(webhook_capture))
    assert orjson.dumps(envelope, option=orjson.OPT_SORT_KEYS) == canonical_json(envelope)


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b"[1, 2]", b'"text"'])
def test_signed_but_not_a_json_object_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedPayload) as caught:
        parse_webhook(body, "A" * 43 + "=", SECRET)
    assert caught.value.status == 400


def test_lone_surrogate_is_malformed_not_a_crash() -> None:
    body = b'{"idempotency_key": "k", "trigger": "x", "data": {"t": "\\ud800"}}'
    with pytest.raises(MalformedPayload, match="UTF-8"):
        parse_webhook(body, "A" * 43 + "=", SECRET)


@pytest.mark.parametrize(
    ("envelope", "reason"),
    [
        ({"bot_id": "b", "trigger": "bot.state_change", "data": {}}, "idempotency_key"),
        ({"idempotency_key": "k", "bot_id": "b", "data": {}}, "trigger"),
        ({"idempotency_key": "k", "trigger": "bot.state_change", "data": []}, "data"),
        (_envelope(new_state=None) | {"data": {"old_state": "ready"}}, "data.event_type"),
        (_envelope(created_at="yesterday"), "data.created_at"),
        (_envelope(old_state=3), "data.old_state"),
    ],
    ids=["no-key", "no-trigger", "data-list", "state-change-fields", "bad-date", "bad-state"],
)
def test_authentic_but_malformed_envelope_says_why(envelope: dict[str, Any], reason: str) -> None:
    body, signature = _delivery(envelope)
    with pytest.raises(MalformedPayload) as caught:
        parse_webhook(body, signature, SECRET)
    assert reason in caught.value.reason


def test_state_change_is_typed(load_webhook: Callable[..., Any]) -> None:
    capture = load_webhook("clean_22")
    envelope = parse_webhook(
        _body(capture), capture["headers"]["X-Webhook-Signature"], capture["secret_b64"]
    )

    change = envelope.state_change
    assert isinstance(change, StateChange)
    assert envelope.bot_metadata is None
    assert change.old_state is BotState.JOINING
    assert change.new_state is BotState.FATAL_ERROR
    assert change.event_type is BotEventType.COULD_NOT_JOIN_MEETING
    assert change.event_sub_type == "meeting_not_started_waiting_for_host"
    assert change.event_metadata == {"bot_duration_seconds": 0}
    assert change.created_at.isoformat() == "2026-11-22T07:10:53.532688+00:00"
    assert envelope.utterance is None and envelope.participant_event is None


def test_transcript_update_is_typed(load_webhook: Callable[..., Any]) -> None:
    capture = load_webhook("clean_07")
    envelope = parse_webhook(
        _body(capture), capture["headers"]["X-Webhook-Signature"], capture["secret_b64"]
    )

    utterance = envelope.utterance
    assert isinstance(utterance, Utterance)
    assert envelope.trigger == WebhookTrigger.TRANSCRIPT_UPDATE
    assert utterance.speaker_name == "Ada Lovelace"
    assert utterance.speaker_is_host is True
    assert utterance.text == "Let's ship the Slack integration on Friday."
    assert utterance.transcription is not None and utterance.transcription.words is None


def test_transcript_update_with_null_transcription() -> None:
    envelope = {
        "idempotency_key": "k",
        "bot_id": "bot_1",
        "bot_metadata": None,
        "trigger": "transcript.update",
        "data": {
            "duration_ms": 900,
            "speaker_name": "Grace",
            "speaker_uuid": "u1",
            "timestamp_ms": 1795331373936,
            "transcription": None,
            "speaker_is_host": False,
            "speaker_user_uuid": None,
        },
    }
    parsed = parse_webhook(*_delivery(envelope), SECRET)
    assert parsed.utterance is not None
    assert parsed.utterance.transcription is None
    assert parsed.utterance.text == ""


def test_participant_join_is_typed(load_webhook: Callable[..., Any]) -> None:
    capture = load_webhook("clean_18")
    envelope = parse_webhook(
        _body(capture), capture["headers"]["X-Webhook-Signature"], capture["secret_b64"]
    )
    event = envelope.participant_event
    assert isinstance(event, ParticipantEvent)
    assert (event.event_type, event.participant_name) == ("join", "Ada Lovelace")


def test_other_triggers_keep_their_raw_data() -> None:
    envelope = {
        "idempotency_key": "k",
        "bot_id": "bot_1",
        "bot_metadata": {},
        "trigger": "chat_messages.update",
        "data": {"text": "hello", "sender_name": "Ada", "unexpected": [1, {"x": None}]},
    }
    parsed = parse_webhook(*_delivery(envelope), SECRET)
    assert parsed.event is None
    assert parsed.data == envelope["data"]


def test_calendar_envelope_without_bot_id_parses() -> None:
    envelope = {
        "idempotency_key": "k",
        "calendar_id": "cal_1",
        "calendar_metadata": None,
        "trigger": "calendar.events_update",
        "data": {"state": "connected"},
    }
    parsed = parse_webhook(*_delivery(envelope), SECRET)
    assert parsed.bot_id is None and parsed.event is None


def test_unknown_states_and_events_stay_strings() -> None:
    envelope = _envelope(new_state="teleporting", event_type="beam_requested")
    change = parse_webhook(*_delivery(envelope), SECRET).state_change
    assert change is not None
    assert change.new_state == "teleporting" and not isinstance(change.new_state, BotState)
    assert change.event_type == "beam_requested"
    assert change.old_state is BotState.READY
