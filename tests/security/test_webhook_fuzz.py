"""Property tests of every webhook parser: whatever arrives, the answer is a parsed event or a
refusal the web layer turns into a 4xx (never another exception, so never a 5xx); and a valid
event survives any JSON spelling and any fields added to it. For Attendee, the same through
the real app over HTTP.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from providers.attendee import webhooks as attendee
from providers.claritalk import webhooks as claritalk
from providers.errors import InvalidSignature, MalformedPayload, WebhookError
from providers.otter import webhooks as otter
from providers.whereby import webhooks as whereby
from sandbox.world import World
from tests.conftest import PAYLOADS

SECRET = "fuzz-secret-0123456789"
ATTENDEE_SECRET = "ZnV6ei1hdHRlbmRlZS1zZWNyZXQtMDEyMzQ1Njc4OQ=="
NOW = 1_760_000_000

FUZZ = settings(
    max_examples=100, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
THROUGH_APP = settings(
    max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)
header_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80)
bodies = st.one_of(
    st.binary(max_size=400),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
)
spellings = st.fixed_dictionaries(
    {
        "indent": st.sampled_from([None, 0, 2]),
        "ensure_ascii": st.booleans(),
        "sort_keys": st.booleans(),
        "separators": st.sampled_from([None, (",", ":"), (", ", ": ")]),
    }
)
extras = st.dictionaries(
    st.text(min_size=1, max_size=10).map(lambda k: "x_extra_" + k), json_values, max_size=3
)


def only_refusals(call: Callable[[], Any]) -> Any:
    """Run a parser: a result, or None when it refused with a WebhookError (a 4xx)."""
    try:
        return call()
    except WebhookError as refusal:
        assert 400 <= refusal.status < 500
        return None


def respell(value: Any, spelling: dict[str, Any]) -> bytes:
    return json.dumps(value, **spelling).encode()


def sample(*parts: str) -> dict[str, Any]:
    return dict(json.loads(Path(PAYLOADS, *parts).read_text()))


ATTENDEE_CAPTURES = sorted((PAYLOADS / "attendee" / "webhooks").glob("*.json"))
OTTER_EVENTS = [sample("otter", n) for n in ("webhook_conversation_completed.json",)]
OTTER_EVENTS.append(sample("otter", "webhook_nested_relationships.json"))
WHEREBY_EVENTS = [
    dict(json.loads(p.read_text())) for p in sorted((PAYLOADS / "whereby" / "webhooks").glob("*"))
]
CLARITALK_EVENTS = [
    sample("claritalk", n)
    for n in ("meeting_processed.json", "meeting_status_changed.json", "users_created.json")
]


# ---- Attendee ---------------------------------------------------------------------------------


@FUZZ
@given(body=bodies, signature=st.none() | header_text)
def test_attendee_any_bytes_and_signature(body: bytes, signature: str | None) -> None:
    only_refusals(lambda: attendee.parse_webhook(body, signature, ATTENDEE_SECRET))


@FUZZ
@given(value=json_values)
def test_attendee_any_signed_json_is_parsed_or_malformed(value: Any) -> None:
    body = json.dumps(value).encode()
    try:
        signature = attendee.sign(value, ATTENDEE_SECRET) if isinstance(value, dict) else "x"
    except (UnicodeEncodeError, ValueError):
        assume(False)
    try:
        attendee.parse_webhook(body, signature, ATTENDEE_SECRET)
    except MalformedPayload:
        pass
    except InvalidSignature:
        assert not isinstance(value, dict), "a correctly signed object was called forged"


@FUZZ
@given(
    index=st.integers(0, len(ATTENDEE_CAPTURES) - 1),
    spelling=spellings,
    keys_reversed=st.booleans(),
)
def test_attendee_a_valid_event_survives_any_spelling(
    index: int, spelling: dict[str, Any], keys_reversed: bool
) -> None:
    capture = json.loads(ATTENDEE_CAPTURES[index].read_text())
    envelope = capture["json"]
    if keys_reversed:
        envelope = {k: envelope[k] for k in reversed(list(envelope))}
    parsed = attendee.parse_webhook(
        respell(envelope, spelling),
        capture["headers"]["X-Webhook-Signature"],
        capture["secret_b64"],
    )
    assert parsed.idempotency_key == capture["json"]["idempotency_key"]
    assert parsed.trigger == capture["json"]["trigger"]


# ---- Otter ------------------------------------------------------------------------------------


def otter_delivery(body: bytes, headers: dict[str, str]) -> Any:
    otter.verify_request(
        body,
        headers,
        hmac_secret=SECRET,
        bearer_token="bearer-" + SECRET,
        basic_credentials="debrief:" + SECRET,
    )
    return otter.parse_webhook(body)


@FUZZ
@given(
    body=bodies,
    headers=st.dictionaries(
        st.sampled_from(["X-HMAC-SHA256", "Authorization", "x-hmac-sha256", "Content-Type"]),
        header_text,
        max_size=3,
    ),
)
def test_otter_any_bytes_and_headers(body: bytes, headers: dict[str, str]) -> None:
    only_refusals(lambda: otter_delivery(body, headers))


@FUZZ
@given(value=json_values, scheme=st.sampled_from(["hex", "base64", "bearer", "basic"]))
def test_otter_any_authentic_json_is_parsed_or_malformed(value: Any, scheme: str) -> None:
    body = json.dumps(value).encode()
    headers = otter_headers(body, scheme)
    with contextlib.suppress(MalformedPayload):
        otter_delivery(body, headers)


def otter_headers(body: bytes, scheme: str) -> dict[str, str]:
    if scheme in ("hex", "base64"):
        return {otter.SIGNATURE_HEADER: otter.sign(body, SECRET, scheme)}  # type: ignore[arg-type]
    if scheme == "bearer":
        return {"Authorization": f"Bearer bearer-{SECRET}"}
    return {"Authorization": otter.basic_authorization("debrief:" + SECRET)}


@FUZZ
@given(index=st.sampled_from([0, 1]), spelling=spellings, extra=extras)
def test_otter_a_valid_event_survives_any_spelling_and_extra_fields(
    index: int, spelling: dict[str, Any], extra: dict[str, Any]
) -> None:
    event = {**OTTER_EVENTS[index], **extra}
    body = respell(event, spelling)
    parsed = otter_delivery(body, otter_headers(body, "hex"))
    assert parsed.model_dump() == otter.parse_webhook(
        json.dumps(OTTER_EVENTS[index]).encode()
    ).model_dump() | {k: v for k, v in parsed.model_dump().items() if k.startswith("x_extra_")}


# ---- Whereby ----------------------------------------------------------------------------------


def whereby_delivery(body: bytes, header: str | None) -> Any:
    return whereby.parse_webhook(body, header, SECRET, clock=lambda: NOW)


@FUZZ
@given(
    body=bodies,
    header=st.none()
    | header_text
    | st.builds(lambda t, v: f"t={t},v1={v}", st.integers(-(10**12), 10**12), header_text),
)
def test_whereby_any_bytes_and_signature(body: bytes, header: str | None) -> None:
    only_refusals(lambda: whereby_delivery(body, header))


@FUZZ
@given(value=json_values, skew=st.integers(-600, 600))
def test_whereby_any_authentic_json_is_parsed_malformed_or_stale(value: Any, skew: int) -> None:
    body = json.dumps(value).encode()
    try:
        whereby_delivery(body, whereby.sign(body, SECRET, NOW + skew))
    except MalformedPayload:
        pass
    except InvalidSignature:
        assert abs(skew) > whereby.DEFAULT_TOLERANCE, "a fresh, correct signature was refused"


@FUZZ
@given(
    index=st.integers(0, len(WHEREBY_EVENTS) - 1),
    spelling=spellings,
    extra=extras,
    skew=st.integers(-300, 300),
)
def test_whereby_a_valid_event_survives_any_spelling_and_extra_fields(
    index: int, spelling: dict[str, Any], extra: dict[str, Any], skew: int
) -> None:
    event = {**WHEREBY_EVENTS[index], **extra}
    body = respell(event, spelling)
    parsed = whereby_delivery(body, whereby.sign(body, SECRET, NOW + skew))
    assert parsed.id == WHEREBY_EVENTS[index]["id"]
    assert str(parsed.type) == WHEREBY_EVENTS[index]["type"]


# ---- Claritalk --------------------------------------------------------------------------------


def claritalk_delivery(token: str | None, headers: dict[str, str], body: bytes) -> Any:
    claritalk.verify_request(token, headers, body, token_secret=SECRET, hmac_secret=SECRET)
    return claritalk.parse_webhook(body)


@FUZZ
@given(
    body=bodies,
    token=st.none() | header_text,
    signature=st.none() | header_text,
)
def test_claritalk_any_bytes_token_and_signature(
    body: bytes, token: str | None, signature: str | None
) -> None:
    headers = {} if signature is None else {claritalk.SIGNATURE_HEADER: signature}
    only_refusals(lambda: claritalk_delivery(token, headers, body))


@FUZZ
@given(value=json_values)
def test_claritalk_any_authentic_json_is_parsed_or_malformed(value: Any) -> None:
    with contextlib.suppress(MalformedPayload):
        claritalk_delivery(SECRET, {}, json.dumps(value).encode())


@FUZZ
@given(index=st.integers(0, len(CLARITALK_EVENTS) - 1), spelling=spellings, extra=extras)
def test_claritalk_a_valid_event_survives_any_spelling_and_extra_fields(
    index: int, spelling: dict[str, Any], extra: dict[str, Any]
) -> None:
    event = {**CLARITALK_EVENTS[index], **extra}
    parsed = claritalk_delivery(SECRET, {}, respell(event, spelling))
    assert parsed.event == CLARITALK_EVENTS[index]["event"]


# ---- Attendee through the real app ------------------------------------------------------------


def post_attendee(world: World, body: bytes, headers: dict[str, str]) -> httpx.Response:
    with httpx.Client(timeout=10) as client:
        return client.post(world.app_url + "/webhooks/attendee", content=body, headers=headers)


@THROUGH_APP
@given(
    body=bodies,
    headers=st.dictionaries(
        # Not Content-Encoding: aiohttp 3.14 never answers a compressed body that fails to
        # decode when it arrives after the headers (the sender waits until it gives up). That
        # holds only the sender's own connection; test_requests covers decoding and bombs.
        st.sampled_from(["X-Webhook-Signature", "Content-Type", "X-Forwarded-For", "Accept"]),
        # h11 (the client) refuses to send values with surrounding spaces.
        header_text.map(str.strip) | st.sampled_from(["application/json", "text/plain"]),
        max_size=3,
    ),
)
def test_the_app_answers_any_delivery_with_2xx_or_4xx(
    background_world: tuple[Any, World], body: bytes, headers: dict[str, str]
) -> None:
    _, world = background_world
    response = post_attendee(world, body, headers)
    assert 200 <= response.status_code < 500, (response.status_code, response.text)


@THROUGH_APP
@given(
    index=st.integers(0, len(ATTENDEE_CAPTURES) - 1),
    spelling=spellings,
    metadata=st.none() | st.dictionaries(st.text(max_size=10), json_values, max_size=3),
)
def test_the_app_accepts_every_valid_delivery_whatever_its_spelling(
    background_world: tuple[Any, World],
    index: int,
    spelling: dict[str, Any],
    metadata: dict[str, Any] | None,
) -> None:
    _, world = background_world
    envelope = dict(json.loads(ATTENDEE_CAPTURES[index].read_text())["json"])
    envelope["idempotency_key"] = str(uuid.uuid4())
    envelope["bot_metadata"] = metadata
    try:
        signature = attendee.sign(envelope, world.attendee.webhook_secret)
    except UnicodeEncodeError:
        assume(False)
    response = post_attendee(
        world,
        respell(envelope, spelling),
        {"Content-Type": "application/json", "X-Webhook-Signature": signature},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "accepted"}


def test_the_app_refuses_a_replayed_or_forged_attendee_delivery(
    background_world: tuple[Any, World],
) -> None:
    _, world = background_world
    capture = json.loads(ATTENDEE_CAPTURES[0].read_text())
    envelope = {**capture["json"], "idempotency_key": f"replay-{time.time_ns()}"}
    headers = {
        "Content-Type": "application/json",
        "X-Webhook-Signature": attendee.sign(envelope, world.attendee.webhook_secret),
    }
    body = json.dumps(envelope).encode()
    answers = [post_attendee(world, body, headers).json() for _ in range(3)]
    assert answers == [{"status": "accepted"}] + [{"status": "duplicate"}] * 2
    forged = post_attendee(world, body.replace(b"joining", b"ended__"), headers)
    assert forged.status_code == 401
