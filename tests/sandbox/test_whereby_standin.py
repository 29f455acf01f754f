"""The Whereby stand-in, driven through WherebyClient over loopback, its webhooks received by a
small aiohttp server and verified with the provider's own verifier."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from providers.errors import BadRequest, NotFound
from providers.http import RetryPolicy
from providers.whereby import (
    SIGNATURE_HEADER,
    CreateMeeting,
    Meeting,
    PointBudget,
    WherebyClient,
    WherebyEvent,
    normalize_room_name,
    parse_reset,
    parse_webhook,
)
from sandbox.whereby import DEFAULT_API_KEY, WherebyStandIn
from tests.conftest import FakeTime
from tests.sandbox.conftest import WebhookReceiver

SECRET = "whsec-standin-test"
AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
WALL0 = 1_900_000_000.0


def verified_events(receiver: WebhookReceiver) -> list[WherebyEvent]:
    """Every delivery, verified and parsed as Debrief will."""
    return [
        parse_webhook(r.body, r.headers.get(SIGNATURE_HEADER), SECRET) for r in receiver.requests
    ]


def event_types(receiver: WebhookReceiver) -> list[str]:
    return [event.type for event in verified_events(receiver)]


@pytest.fixture
async def standin(receiver: WebhookReceiver) -> AsyncIterator[WherebyStandIn]:
    server = WherebyStandIn(api_keys=(DEFAULT_API_KEY, "second-key"))
    server.webhook_backoff = 0.01
    await server.start()
    server.configure_webhook(receiver.url, SECRET)
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def client(standin: WherebyStandIn, http: httpx.AsyncClient) -> WherebyClient:
    return WherebyClient(
        http,
        api_key=DEFAULT_API_KEY,
        base_url=standin.api_url,
        retry=RetryPolicy(attempts=1),
    )


async def new_meeting(client: WherebyClient, **options: object) -> Meeting:
    end = datetime.now(UTC) + timedelta(hours=1)
    return await client.create_meeting(CreateMeeting(end_date=end, **options))


# --- authentication and the point budget ----------------------------------------------------


async def test_bearer_key_is_required(standin: WherebyStandIn, http: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": DEFAULT_API_KEY}):
        answer = await http.get(f"{standin.api_url}/recordings", headers=headers)
        assert answer.status_code == 401
        assert "X-RateLimit-Remaining" not in answer.headers
    assert standin.budget.state()["remaining"] == 1000


async def test_every_answer_reports_the_budget_charged_by_method(
    standin: WherebyStandIn, http: httpx.AsyncClient
) -> None:
    end = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    api = standin.api_url
    answers = [
        await http.get(f"{api}/recordings", headers=AUTH),
        await http.post(f"{api}/meetings", headers=AUTH, json={"endDate": end}),
        await http.delete(f"{api}/meetings/nope", headers=AUTH),
        await http.get(f"{api}/meetings/nope", headers=AUTH),
        await http.get(f"{api}/no-such-endpoint", headers={"Authorization": "Bearer second-key"}),
    ]
    assert [a.status_code for a in answers] == [200, 201, 204, 404, 404]
    assert [int(a.headers["X-RateLimit-Remaining"]) for a in answers] == [999, 996, 994, 993, 992]
    assert {a.headers["X-RateLimit-Limit"] for a in answers} == {"1000"}
    reset = parse_reset(answers[0].headers["X-RateLimit-Reset"])
    assert reset is not None and 0 < reset - time.time() <= 60
    assert answers[-1].json() == {"error": "Not Found"}


async def test_429_past_the_budget(http: httpx.AsyncClient) -> None:
    t = FakeTime(wall0=WALL0)
    standin = WherebyStandIn(points=5, window=60.0, clock=t.clock, wall=t.wall)
    async with standin:
        api = standin.api_url
        assert (await http.delete(f"{api}/meetings/1", headers=AUTH)).status_code == 204
        assert (await http.delete(f"{api}/meetings/2", headers=AUTH)).status_code == 204
        t.now = 20.0
        refused = await http.delete(f"{api}/meetings/3", headers=AUTH)  # 2 + 2 + 2 > 5
        assert refused.status_code == 429
        assert refused.json() == {"error": "Rate limit exceeded", "data": {"msLeft": 40000}}
        assert refused.headers["Retry-After"] == "40"
        assert refused.headers["X-RateLimit-Remaining"] == "1"
        assert parse_reset(refused.headers["X-RateLimit-Reset"]) == pytest.approx(t.wall() + 40)
        # A refusal is not charged: a 1-point read still fits.
        assert (await http.get(f"{api}/recordings", headers=AUTH)).status_code == 200
        assert (await http.get(f"{api}/recordings", headers=AUTH)).status_code == 429
        t.now = 60.0  # the fixed window is over: the whole budget is back
        answer = await http.post(
            f"{api}/meetings", headers=AUTH, json={"endDate": "2100-01-01T00:00:00Z"}
        )
        assert answer.status_code == 201
        assert answer.headers["X-RateLimit-Remaining"] == "2"


async def test_sliding_window_frees_the_oldest_points(http: httpx.AsyncClient) -> None:
    t = FakeTime(wall0=WALL0)
    standin = WherebyStandIn(points=3, window=10.0, window_mode="sliding", clock=t.clock)
    async with standin:
        url = f"{standin.api_url}/recordings"
        for at in (0.0, 4.0, 8.0):
            t.now = at
            assert (await http.get(url, headers=AUTH)).status_code == 200
        t.now = 9.0
        refused = await http.get(url, headers=AUTH)
        assert refused.status_code == 429
        assert refused.json()["data"]["msLeft"] == 1000
        t.now = 10.5
        assert (await http.get(url, headers=AUTH)).status_code == 200


async def test_client_recovers_from_a_429_using_the_hints(http: httpx.AsyncClient) -> None:
    standin = WherebyStandIn(points=4, window=0.5)
    async with standin:
        # The client believes it has 1000 points; the stand-in has 4 per half second.
        budget = PointBudget(1000, window=0.5)
        client = WherebyClient(
            http, api_key=DEFAULT_API_KEY, base_url=standin.api_url, limiter=budget
        )
        started = time.monotonic()
        await asyncio.gather(*(client.list_recordings() for _ in range(6)))
        statuses = [c.status for c in standin.calls]
        assert statuses.count(200) == 6
        assert statuses.count(429) == 2  # both retried after the wait they were given
        assert time.monotonic() - started >= 1.0  # Retry-After: 1 beats msLeft < 500
        assert budget.points == 4  # learnt from X-RateLimit-Limit


# --- meetings, recordings, transcriptions, summaries ------------------------------------------


async def test_meeting_urls_and_fields(client: WherebyClient, standin: WherebyStandIn) -> None:
    meeting = await new_meeting(
        client, room_name_prefix="standup", room_name_pattern="human-short", fields=["hostRoomUrl"]
    )
    assert meeting.room_name is not None
    name = normalize_room_name(meeting.room_name)
    assert name.startswith("standup-") and len(name) == len("standup-") + 6
    assert meeting.host_room_url is not None and meeting.host_room_url.startswith(meeting.room_url)
    full = await client.get_meeting(meeting.meeting_id, fields=["hostRoomUrl", "viewerRoomUrl"])
    assert full.viewer_room_url is not None
    assert meeting.room_url == f"{standin.url}/{name}"


async def test_room_page_and_expiry(http: httpx.AsyncClient) -> None:
    t = FakeTime(wall0=WALL0)
    standin = WherebyStandIn(wall=t.wall)
    async with standin:
        client = WherebyClient(http, api_key=DEFAULT_API_KEY, base_url=standin.api_url)
        end = datetime.fromtimestamp(t.wall() + 600, UTC)
        meeting = await client.create_meeting(CreateMeeting(end_date=end))
        page = await http.get(meeting.room_url)
        assert page.status_code == 200 and "Whereby" in page.text
        t.now = 600 + 3600  # an hour after the end date, the room is still there…
        assert (await client.get_meeting(meeting.meeting_id)).meeting_id == meeting.meeting_id
        t.now += 1  # …and then it is gone
        with pytest.raises(NotFound):
            await client.get_meeting(meeting.meeting_id)
        with pytest.raises(BadRequest, match="future"):
            await client.create_meeting(CreateMeeting(end_date=datetime.fromtimestamp(0, UTC)))


async def test_recordings_page_by_cursor(
    client: WherebyClient, standin: WherebyStandIn, http: httpx.AsyncClient
) -> None:
    meeting = await new_meeting(client)
    assert meeting.room_name is not None
    made = [standin.finish_recording(meeting.room_name)["recordingId"] for _ in range(5)]
    other = await new_meeting(client)
    assert other.room_name is not None
    standin.finish_recording(other.room_name)
    listed = [
        r.recording_id
        async for r in client.iter_recordings(room_name=meeting.room_name, page_size=2)
    ]
    assert listed == made
    assert len(standin.calls_to("/v1/recordings", "GET")) == 3
    everything = [r async for r in client.iter_recordings()]
    assert len(everything) == 6
    link = await client.recording_access_link(made[0], valid_for_seconds=60)
    download = await http.get(link.access_link)
    assert download.status_code == 200 and download.headers["Content-Type"] == "video/mp4"


async def test_digest_flow_with_signed_webhooks(
    client: WherebyClient,
    standin: WherebyStandIn,
    receiver: WebhookReceiver,
    http: httpx.AsyncClient,
) -> None:
    meeting = await new_meeting(client, room_name_prefix="debrief")
    room = meeting.room_name
    assert room is not None
    ann = standin.client_joined(room, "Ann", role_name="host", external_id="U123")
    standin.client_joined(room, "Bob")
    session_id = standin.start_session(room)
    standin.client_left(room, ann)
    standin.end_session(room)
    recording = standin.finish_recording(room)
    await standin.settle()

    transcription_id = await client.create_transcription(recording["recordingId"])
    pending = await client.get_transcription(transcription_id)
    assert pending.state == "in_progress"
    finished = standin.finish_transcription(room)
    assert finished["transcriptionId"] == transcription_id
    await standin.settle()

    events = verified_events(receiver)
    assert [e.type for e in events] == [
        "room.client.joined",
        "room.client.joined",
        "room.session.started",
        "room.client.left",
        "room.session.ended",
        "recording.finished",
        "transcription.started",
        "transcription.finished",
    ]
    room_events = [e for e in events if e.type.startswith("room.")]
    assert {e.data.meeting_id for e in room_events} == {meeting.meeting_id}
    assert {e.data.room_session_id for e in room_events} == {session_id}
    assert [e.data.num_clients for e in room_events if e.type.startswith("room.client")] == [
        1,
        2,
        1,
    ]
    assert room_events[0].data.external_id == "U123"
    done = events[5]
    assert done.data.meeting_id is None  # map it back through the room name
    assert normalize_room_name(done.data.room_name or "") == normalize_room_name(room)
    assert events[7].data.transcription_id == transcription_id
    assert events[7].data.recording_id == recording["recordingId"]
    assert events[7].data.room_name is None  # not documented: fetch the transcription
    assert len({e.id for e in events}) == len(events)

    transcription = await client.get_transcription(transcription_id)
    assert transcription.is_ready and transcription.room_name == room
    assert transcription.room_session_id == session_id
    link = await client.transcription_access_link(transcription_id)
    transcript = await http.get(link.access_link)
    assert "**Ann**" in transcript.text and "**Bob**" in transcript.text

    summary_id = await client.create_summary(transcription_id, template="General Bulleted")
    first = await client.get_summary(summary_id)
    assert first.state == "in_progress" and first.text is None
    second = await client.get_summary(summary_id)
    assert second.is_ready and second.text == standin.summary_text
    assert second.template == "General Bulleted" and second.room_name == room


async def test_failed_transcription(
    client: WherebyClient, standin: WherebyStandIn, receiver: WebhookReceiver
) -> None:
    meeting = await new_meeting(client)
    assert meeting.room_name is not None
    failed = standin.fail_transcription(meeting.room_name, error="No audio")
    await standin.settle()
    (event,) = verified_events(receiver)
    assert event.type == "transcription.failed"
    assert event.data.error == "No audio"
    transcription = await client.get_transcription(failed["transcriptionId"])
    assert transcription.is_failed and transcription.type == "SESSION_TRANSCRIPTION"
    with pytest.raises(BadRequest, match="not ready"):
        await client.create_summary(failed["transcriptionId"])
    with pytest.raises(NotFound):
        await client.create_transcription("no-such-recording")


async def test_summary_that_never_completes(client: WherebyClient, standin: WherebyStandIn) -> None:
    meeting = await new_meeting(client)
    assert meeting.room_name is not None
    transcription = standin.finish_transcription(meeting.room_name)
    standin.configure_summaries(never=True)
    summary_id = await client.create_summary(transcription["transcriptionId"])
    for _ in range(5):
        assert (await client.get_summary(summary_id)).state == "in_progress"
    standin.configure_summaries(after_gets=None, after_seconds=None, fail=True)
    assert (await client.get_summary(summary_id)).is_failed


async def test_summary_ready_after_seconds(http: httpx.AsyncClient) -> None:
    t = FakeTime(wall0=WALL0)
    standin = WherebyStandIn(clock=t.clock)
    async with standin:
        client = WherebyClient(http, api_key=DEFAULT_API_KEY, base_url=standin.api_url)
        meeting = await new_meeting(client)
        assert meeting.room_name is not None
        transcription = standin.finish_transcription(meeting.room_name, text="hello")
        standin.configure_summaries(after_gets=None, after_seconds=30)
        summary_id = await client.create_summary(transcription["transcriptionId"])
        t.now = 29.0
        assert not (await client.get_summary(summary_id)).is_ready
        t.now = 30.0
        assert (await client.get_summary(summary_id)).is_ready


async def test_transcriptions_can_finish_by_themselves(
    client: WherebyClient, standin: WherebyStandIn, receiver: WebhookReceiver
) -> None:
    meeting = await new_meeting(client)
    assert meeting.room_name is not None
    recording = standin.finish_recording(meeting.room_name)
    standin.transcription_delay = 0.05
    transcription_id = await client.create_transcription(recording["recordingId"])
    await receiver.wait_for(3)
    assert event_types(receiver) == [
        "recording.finished",
        "transcription.started",
        "transcription.finished",
    ]
    assert (await client.get_transcription(transcription_id)).is_ready


async def test_insights(client: WherebyClient, standin: WherebyStandIn) -> None:
    meeting = await new_meeting(client, room_name_prefix="insight")
    room = meeting.room_name
    assert room is not None
    standin.client_joined(room, "Ann", external_id="U1")
    standin.client_joined(room, "Bob")
    session_id = standin.start_session(room)
    standin.end_session(room)
    rooms = [r async for r in client.insights_rooms(room_name_prefix="/insight")]
    assert [r.room_name for r in rooms] == [room]
    assert rooms[0].total_sessions == 1 and rooms[0].total_unique_participants == 2
    sessions = [s async for s in client.insights_room_sessions(room)]
    assert [s.room_session_id for s in sessions] == [session_id]
    people = [p async for p in client.insights_participants(room_session_id=session_id)]
    assert sorted(p.display_name or "" for p in people) == ["Ann", "Bob"]
    assert all(p.left_at is not None for p in people)
    by_external = [p async for p in client.insights_participants(external_id="U1")]
    assert [p.display_name for p in by_external] == ["Ann"]


# --- webhook delivery -----------------------------------------------------------------------


async def test_duplicates(standin: WherebyStandIn, receiver: WebhookReceiver) -> None:
    standin.duplicate_webhooks(2)
    standin.emit("room.client.knocked", {"roomName": "/x", "displayName": "Eve"})
    await standin.settle()
    events = verified_events(receiver)
    assert len(events) == 2 and events[0].id == events[1].id


async def test_hold_and_release_out_of_order(
    standin: WherebyStandIn, receiver: WebhookReceiver
) -> None:
    standin.hold()
    for n in range(3):
        standin.emit("room.client.joined", {"roomName": "/x", "displayName": f"p{n}"})
    await standin.settle()
    await asyncio.sleep(0.05)
    assert receiver.requests == []
    standin.release(order="reversed")
    await standin.settle()
    assert [e.data.display_name for e in verified_events(receiver)] == ["p2", "p1", "p0"]


async def test_retried_on_5xx_twice_then_given_up(
    standin: WherebyStandIn, receiver: WebhookReceiver
) -> None:
    receiver.answer(500, 503, 200, 500, 500, 500, 404)
    first = standin.emit("room.session.started", {"roomName": "/x"})
    second = standin.emit("room.session.ended", {"roomName": "/x"})
    third = standin.emit("room.session.ended", {"roomName": "/y"})
    await standin.settle()
    attempts = {d.json["id"]: (d.attempts, d.status) for d in standin.deliveries}
    assert attempts == {first["id"]: (3, 200), second["id"]: (3, 500), third["id"]: (1, 404)}
    # Each attempt is signed afresh and verifies.
    assert len(verified_events(receiver)) == 7


async def test_a_timeout_counts_as_a_failure(
    standin: WherebyStandIn, receiver: WebhookReceiver
) -> None:
    standin.webhook_timeout = 0.1
    standin.webhook_retries = 1
    receiver.delay = 0.3
    standin.emit("room.session.started", {"roomName": "/x"})
    await standin.settle()
    (delivery,) = standin.deliveries
    assert delivery.attempts == 2 and delivery.error == "TimeoutError"


async def test_webhooks_never_hold_up_the_api(
    client: WherebyClient, standin: WherebyStandIn, receiver: WebhookReceiver
) -> None:
    meeting = await new_meeting(client)
    assert meeting.room_name is not None
    recording = standin.finish_recording(meeting.room_name)
    await standin.settle()
    receiver.delay = 0.5
    started = time.monotonic()
    await client.create_transcription(recording["recordingId"])
    assert time.monotonic() - started < 0.25
    assert len(receiver.requests) == 1
    await receiver.wait_for(2)
    assert event_types(receiver) == ["recording.finished", "transcription.started"]


async def test_no_webhook_configured_records_events_only(
    standin: WherebyStandIn, receiver: WebhookReceiver
) -> None:
    standin.configure_webhook(None, "")
    event = standin.emit("room.session.started", {"roomName": "/x"})
    await standin.settle()
    assert standin.events_of("room.session.started") == [event]
    assert receiver.requests == [] and standin.deliveries == []


# --- the sandbox control endpoints --------------------------------------------------------


async def test_control_endpoints(
    client: WherebyClient,
    standin: WherebyStandIn,
    receiver: WebhookReceiver,
    http: httpx.AsyncClient,
) -> None:
    meeting = await new_meeting(client)
    assert meeting.room_name is not None
    room = normalize_room_name(meeting.room_name)
    control = f"{standin.url}/_sandbox/whereby"
    before = len(standin.calls)
    # As the sandbox page's proxy sends them: the run's token, and JSON bodies.
    lock = standin.lock.headers()

    async def post(path: str, body: object = None) -> httpx.Response:
        return await http.post(f"{control}{path}", json=body or {}, headers=lock)

    joined = await post(f"/rooms/{room}/clients", {"displayName": "Ann"})
    assert joined.status_code == 200
    await post(f"/rooms/{room}/clients", {"displayName": "Bob"})
    assert (await post(f"/rooms/{room}/session/start")).status_code == 200
    left = await post(
        f"/rooms/{room}/clients/leave", {"participantId": joined.json()["participantId"]}
    )
    assert left.json() == joined.json()
    assert (await post(f"/rooms/{room}/session/end")).status_code == 200
    assert (await post(f"/rooms/{room}/session/end")).status_code == 409
    assert (await post("/rooms/nowhere/session/start")).status_code == 404
    assert (await post(f"/rooms/{room}/dance")).status_code == 404
    await post("/webhooks/hold")
    recording = await post(f"/rooms/{room}/recording/finish")
    await post(f"/rooms/{room}/transcription/finish", {"text": "hi"})
    await post("/webhooks/release", {"order": "reversed"})
    assert (await post("/webhooks/release", {"order": "up"})).status_code == 400
    await standin.settle()
    assert event_types(receiver)[-2:] == ["transcription.finished", "recording.finished"]

    state = (await http.get(f"{control}/state", headers=lock)).json()
    assert state["recordings"][0]["recordingId"] == recording.json()["recordingId"]
    assert state["transcriptions"][0]["state"] == "ready"
    budget = await post("/budget", {"points": 100, "window": 60})
    assert budget.json()["points"] == 100 and budget.json()["remaining"] == 100
    await post("/summaries", {"never": True})
    assert standin.summary_never
    await post("/webhook", {"url": None, "secret": ""})
    assert standin.webhook_url is None
    assert len(standin.calls) == before  # control calls are not recorded as API calls
