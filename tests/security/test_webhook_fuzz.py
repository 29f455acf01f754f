"""Property tests of every webhook parser: whatever arrives, the answer is a parsed event or a
refusal the web layer turns into a 4xx (never another exception, so never a 5xx); and a valid
event survives any JSON spelling and any fields added to it. Then every route of the real app
over HTTP, signed and unsigned: never a 5xx, never a traceback in the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from providers.attendee import webhooks as attendee
from providers.claritalk import webhooks as claritalk
from providers.errors import InvalidSignature, MalformedPayload, WebhookError
from providers.otter import webhooks as otter
from providers.whereby import webhooks as whereby
from sandbox.slack.signing import signed_headers as slack_signed_headers
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


# ---- Every route through the real app -----------------------------------------------------------
#
# Whatever arrives at any route, signed or not: a 2xx, 3xx or 4xx with a reason, never a 5xx, and
# nothing logged with a traceback or at ERROR (a refusal is a WARNING line at most).


class Troubles(logging.Handler):
    """Records what the app logs at ERROR or with a traceback, from any thread."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info or record.stack_info:
            self.records.append(record)

    def take(self) -> list[str]:
        found = [f"{r.name}: {r.getMessage()} {r.exc_info!r}" for r in self.records]
        self.records.clear()
        return found


@pytest.fixture(scope="module")
def trouble_handler() -> Iterator[Troubles]:
    handler = Troubles()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


@pytest.fixture
def troubles(trouble_handler: Troubles) -> Troubles:
    """The handler, with nothing left in it from an earlier test."""
    trouble_handler.take()
    return trouble_handler


def nested(depth: int, kind: str) -> bytes:
    if kind == "array":
        return b"[" * depth + b"]" * depth
    if kind == "object":
        return b'{"a":' * depth + b"1" + b"}" * depth
    return b'{"data": ' + b"[" * depth + b"]" * depth + b"}"  # deep inside an envelope


#: Bodies that have made parsers recurse, overflow or answer with the wrong exception.
hostile_bodies = st.one_of(
    st.builds(nested, st.integers(30, 5000), st.sampled_from(["array", "object", "envelope"])),
    st.sampled_from(
        [
            b'{"n": ' + b"9" * 5000 + b"}",  # over json's 4,300-digit integer limit
            b'{"n": 1e999999, "m": -1e999999}',
            b'{"n": ' + b"1" * 40 + b"}",
            b"[" * 3000,  # unterminated, deep
            '{"t": "ü"}'.encode("utf-16"),
            '{"t": "ü"}'.encode("latin-1"),
            b'{"t": "\\ud800"}',
            b"\xef\xbb\xbf{}",  # a UTF-8 byte order mark
            b"",
        ]
    ),
)
any_bodies = st.one_of(bodies, hostile_bodies)
#: Header values as a careless or hostile client sends them, non-ASCII digits included.
header_values = st.one_of(
    header_text.map(str.strip),
    st.sampled_from(
        ["", "1.5", "-1", "0x10", "9" * 40, "١٧٦٠٠٠٠٠٠٠", "１７６０", "t=١٧٦٠٠٠٠٠٠٠,v1=ab", "v0=é"]
    ),
    st.text(max_size=20).map(str.strip),
)


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)


def signed_call(world: World, route: str, body: bytes, value: Any, now: int) -> Call:
    """``body`` sent to ``route`` with the credential a genuine sender would put on it."""
    json_type = {"Content-Type": "application/json"}
    if route == "attendee":
        signature = "A" * 43 + "="  # a well-formed digest: the body is read and parsed
        if isinstance(value, dict):
            with contextlib.suppress(UnicodeEncodeError, ValueError):
                signature = attendee.sign(value, world.attendee.webhook_secret)
        return Call(
            "POST", "/webhooks/attendee", body, {**json_type, attendee.SIGNATURE_HEADER: signature}
        )
    if route == "otter":
        signature = otter.sign(body, world.otter_webhook_secret)
        return Call(
            "POST", "/webhooks/otter", body, {**json_type, otter.SIGNATURE_HEADER: signature}
        )
    if route == "whereby":
        signature = whereby.sign(body, world.whereby_webhook_secret, now)
        return Call(
            "POST", "/webhooks/whereby", body, {**json_type, whereby.SIGNATURE_HEADER: signature}
        )
    if route == "claritalk":
        token = {"token": world.claritalk_webhook_secret}
        return Call("POST", "/webhooks/claritalk", body, json_type, token)
    content_type = (
        "application/json" if body.startswith(b"{") else "application/x-www-form-urlencoded"
    )
    return Call(
        "POST",
        "/slack/events",
        body,
        slack_signed_headers(world.slack.signing_secret, now, body, content_type),
    )


WEBHOOK_ROUTES = ["attendee", "otter", "whereby", "claritalk", "slack"]


def slack_form(value: Any, raw: bytes) -> st.SearchStrategy[bytes]:
    """Slack-shaped bodies around a value: an interactive ``payload``, a command, raw."""
    as_json = raw.decode("utf-8", "replace")
    return st.sampled_from(
        [
            urlencode({"payload": as_json}).encode(),
            urlencode({"payload": json.dumps(value)}).encode(),
            urlencode(
                {"command": "/debrief", "text": as_json[:200], "team_id": "T0SANDBOX"}
            ).encode(),
            raw,
        ]
    )


@st.composite
def calls(draw: st.DrawFn, world: World) -> Call:
    now = int(time.time())
    kind = draw(st.sampled_from(["signed", "unsigned", "get", "elsewhere"]))
    if kind == "get":
        path = draw(
            st.sampled_from(["/healthz", "/metrics", "/claritalk/connect", "/claritalk/callback"])
        )
        query = draw(
            st.dictionaries(
                st.sampled_from(["t", "code", "state", "error", "x"]), header_values, max_size=3
            )
        )
        cookie = draw(st.none() | header_values)
        return Call(
            "GET",
            path,
            query=query,
            headers={} if not cookie else {"Cookie": f"debrief_claritalk_oauth={cookie}"},
        )
    if kind == "elsewhere":
        path = "/" + draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz/_.-%", max_size=30))
        return Call(draw(st.sampled_from(["GET", "POST", "PUT", "DELETE"])), path, draw(bodies))
    route = draw(st.sampled_from(WEBHOOK_ROUTES))
    value = draw(json_values)
    body = draw(st.one_of(any_bodies, st.just(json.dumps(value).encode())))
    if route == "slack":
        body = draw(slack_form(value, body))
    if kind == "signed":
        return signed_call(world, route, body, value, now)
    names = {
        "attendee": [attendee.SIGNATURE_HEADER],
        "otter": [otter.SIGNATURE_HEADER, "Authorization"],
        "whereby": [whereby.SIGNATURE_HEADER],
        "claritalk": [claritalk.SIGNATURE_HEADER],
        "slack": ["X-Slack-Request-Timestamp", "X-Slack-Signature", "X-Slack-Retry-Num"],
    }[route]
    headers = draw(
        st.dictionaries(st.sampled_from([*names, "Content-Type"]), header_values, max_size=3)
    )
    path = "/slack/events" if route == "slack" else f"/webhooks/{route}"
    query = draw(st.dictionaries(st.just("token"), header_values, max_size=1))
    return Call("POST", path, body, headers, query)


#: What h11 refuses to send in a header value (controls other than tab); test_a_request_aiohttp_
#: cannot parse_is_one_warning sends them over a raw socket instead.
UNSENDABLE = dict.fromkeys([*range(0x20), 0x7F])
del UNSENDABLE[ord("\t")]


def send(world: World, call: Call) -> httpx.Response:
    # h11 sends no control characters, nor a value with surrounding spaces (nor an empty one):
    # those are taken out, and an empty header left out.
    values = {n: v.translate(UNSENDABLE).strip() for n, v in call.headers.items()}
    headers = {n: v.encode("utf-8") for n, v in values.items() if v}
    with httpx.Client(timeout=30) as client:
        return client.request(
            call.method,
            world.app_url + call.path,
            params=call.query,
            content=call.body if call.method != "GET" else None,
            headers=headers,
        )


def assert_answered_as_input(troubles: Troubles, call: Call, response: httpx.Response) -> None:
    assert response.status_code < 500, (call, response.status_code, response.text[:300])
    if response.status_code >= 400 and call.path.startswith(("/webhooks/", "/slack/")):
        assert response.text.strip(), ("a refusal says why", call)
    assert not troubles.take(), call


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_no_route_answers_any_input_with_a_5xx_or_a_traceback(
    background_world: tuple[Any, World], troubles: Troubles, data: st.DataObject
) -> None:
    _, world = background_world
    call = data.draw(calls(world))
    assert_answered_as_input(troubles, call, send(world, call))


SLACK_STAMPS = ["", "abc", "١٧٦٠٠٠٠٠٠٠", "１７６０００００００", "1.5", "-1", "9" * 40, " ", "0"]


@pytest.mark.parametrize("stamp", SLACK_STAMPS)
def test_a_malformed_slack_timestamp_is_401_with_its_reason(
    background_world: tuple[Any, World], troubles: Troubles, stamp: str
) -> None:
    _, world = background_world
    body = b"command=%2Fdebrief&text=help"
    headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=" + "0" * 64}
    response = send(world, Call("POST", "/slack/events", body, headers))
    assert response.status_code == 401, response.text
    assert "X-Slack-Request-Timestamp" in response.json()["error"]
    assert not troubles.take()


@pytest.mark.parametrize(
    "signature", ["", "v0=", "v1=" + "0" * 64, "v0=é", "0" * 64, "v0=" + "g" * 64]
)
def test_a_malformed_slack_signature_is_401(
    background_world: tuple[Any, World], troubles: Troubles, signature: str
) -> None:
    _, world = background_world
    headers = {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": signature}
    response = send(world, Call("POST", "/slack/events", b"command=%2Fdebrief", headers))
    assert response.status_code == 401, response.text
    assert "X-Slack-Signature" in response.json()["error"]
    assert not troubles.take()


@pytest.mark.parametrize(
    "payload",
    ["[1, 2]", '"text"', "1", "null", "{", "[" * 5000, '{"a":' * 200 + "1" + "}" * 200],
)
def test_a_signed_slack_payload_that_is_no_json_object_is_400(
    background_world: tuple[Any, World], troubles: Troubles, payload: str
) -> None:
    _, world = background_world
    body = urlencode({"payload": payload}).encode()
    call = signed_call(world, "slack", body, None, int(time.time()))
    response = send(world, call)
    assert response.status_code == 400, response.text
    assert "payload" in response.json()["error"]
    assert not troubles.take()


@pytest.mark.parametrize(
    "body", [b"[1]", b"{", b'{"team": [1]}', b'{"team": 5, "authorizations": 1}']
)
def test_a_signed_slack_json_body_of_another_shape_is_400(
    background_world: tuple[Any, World], troubles: Troubles, body: bytes
) -> None:
    _, world = background_world
    response = send(world, signed_call(world, "slack", body, None, int(time.time())))
    assert 400 <= response.status_code < 500, response.text
    assert not troubles.take()


@pytest.mark.parametrize("route", WEBHOOK_ROUTES)
@pytest.mark.parametrize("depth", [33, 300, 1100, 20_000])
def test_deep_nesting_is_400_signed_or_not(
    background_world: tuple[Any, World], troubles: Troubles, route: str, depth: int
) -> None:
    _, world = background_world
    body = nested(depth, "object")
    value = {}
    signed = signed_call(world, route, body, value, int(time.time()))
    response = send(world, signed)
    assert response.status_code == 400, (route, response.text)
    assert "deeper" in response.text or "not JSON" in response.text
    unsigned = send(world, Call("POST", signed.path, body, {"Content-Type": "application/json"}))
    assert unsigned.status_code in (400, 401), (route, unsigned.text)
    assert not troubles.take()


@pytest.mark.parametrize("stamp", ["١٧٦٠٠٠٠٠٠٠", "１７６０００００００", "¹²³", "1_760_000_000"])
def test_a_whereby_timestamp_in_other_digits_is_401(
    background_world: tuple[Any, World], troubles: Troubles, stamp: str
) -> None:
    _, world = background_world
    header = f"t={stamp},v1=" + "0" * 64
    call = Call("POST", "/webhooks/whereby", b"{}", {whereby.SIGNATURE_HEADER: header})
    response = send(world, call)
    assert response.status_code == 401, response.text
    assert not troubles.take()


@pytest.mark.parametrize("route", ["attendee", "otter", "whereby", "claritalk"])
def test_a_number_over_json_limits_is_400_when_signed(
    background_world: tuple[Any, World], troubles: Troubles, route: str
) -> None:
    _, world = background_world
    body = b'{"n": ' + b"9" * 5000 + b"}"
    response = send(world, signed_call(world, route, body, None, int(time.time())))
    assert response.status_code == 400, (route, response.text)
    assert not troubles.take()


@pytest.mark.parametrize(
    "header",
    [
        b"X-Webhook-Signature: a\x01b",
        b"X-Slack-Signature: \x7f",
        b"Content-Length: -1",
        b"Bad Name: x",
    ],
)
def test_a_request_aiohttp_cannot_parse_is_400_and_one_warning(
    background_world: tuple[Any, World], troubles: Troubles, header: bytes
) -> None:
    background, world = background_world
    host, port = world.app_url.removeprefix("http://").split(":")

    async def exchange() -> bytes:
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(b"POST /webhooks/attendee HTTP/1.1\r\nHost: x\r\n" + header + b"\r\n\r\n")
        await writer.drain()
        answer = await reader.read(4096)
        writer.close()
        return answer

    answer = asyncio.run(exchange())
    assert answer.split(b" ", 2)[1] == b"400", answer
    background.run(asyncio.sleep(0.1))  # the app's log line is written after its answer
    assert not troubles.take()
