"""The Attendee stand-in, driven over real loopback HTTP by AttendeeClient, its webhooks received
by a small aiohttp server and verified with providers.attendee.webhooks."""

from __future__ import annotations

import asyncio
import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from providers.attendee import (
    AlreadyLeaving,
    AttendeeClient,
    BotState,
    DuplicateBot,
    InvalidBotState,
    WebhookEnvelope,
    parse_webhook,
)
from providers.errors import AuthenticationFailed, BadRequest, NotFound
from sandbox.attendee import SAMPLE_TRANSCRIPT, AttendeeStandIn, is_meeting_url
from tests.sandbox.conftest import Received, WebhookReceiver

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "attendee"
ZOOM = "https://us05web.zoom.us/j/84315220467?pwd=abc"
MEET = "https://meet.google.com/abc-defg-hij"


def recorded(kind: str, name: str) -> Any:
    return json.loads((PAYLOADS / kind / f"{name}.json").read_text())


def _signature(call: Received) -> str | None:
    return {k.lower(): v for k, v in call.headers.items()}.get("x-webhook-signature")


def verified(call: Received, secret: str) -> WebhookEnvelope:
    return parse_webhook(call.body, _signature(call), secret)


def transitions(envelopes: list[WebhookEnvelope]) -> list[tuple[str, str, str]]:
    changes = [e.state_change for e in envelopes if e.state_change is not None]
    return [(str(c.old_state), str(c.new_state), str(c.event_type)) for c in changes]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 7, 9, 29, 894629, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def raw_post(http: httpx.AsyncClient, attendee: AttendeeStandIn, body: Any) -> httpx.Response:
    return await http.post(
        f"{attendee.url}/api/v1/bots",
        json=body,
        headers={"Authorization": f"Token {attendee.api_key}"},
    )


# --- answers shaped like the real server's ------------------------------------------------


async def test_created_bot_and_its_first_webhook_match_the_recordings(
    client: AttendeeClient, attendee: AttendeeStandIn, receiver: WebhookReceiver
) -> None:
    bot = await client.create_bot(
        meeting_url=ZOOM,
        bot_name="Debrief",
        metadata={"slack_user": "U0456", "slack_channel": "C0123"},
    )
    await attendee.settle()

    real_bot = recorded("api", "create_zoom")
    ours = attendee.bot(bot.id)
    assert list(ours) == list(real_bot)
    assert list(ours["events"][0]) == list(real_bot["events"][0])
    assert {k: v for k, v in ours.items() if k not in ("id", "events")} == {
        k: v for k, v in real_bot.items() if k not in ("id", "events")
    }
    assert bot.state is BotState.JOINING and bot.id.startswith("bot_") and len(bot.id) == 20

    (call,) = receiver.accepted()
    capture = recorded("webhooks", "clean_00_bot-state_change_ready-to-joining")
    envelope = json.loads(call.body)
    assert list(envelope) == list(capture["json"])
    assert list(envelope["data"]) == list(capture["json"]["data"])
    assert list(envelope["bot_metadata"]) == list(capture["json"]["bot_metadata"])
    # The body goes out with Python's default separators, as Attendee sends it.
    assert call.body == json.dumps(envelope).encode()
    headers = {k.lower(): v for k, v in call.headers.items()}
    assert headers["user-agent"] == "Attendee-Webhook/1.0"
    assert headers["content-type"] == "application/json"

    parsed = verified(call, attendee.webhook_secret)
    assert parsed.bot_id == bot.id
    assert parsed.bot_metadata == {"slack_user": "U0456", "slack_channel": "C0123"}
    assert envelope["data"] == {
        **capture["json"]["data"],
        "created_at": envelope["data"]["created_at"],
    }
    assert envelope["data"]["created_at"] == "2026-11-22T07:09:29.894629+00:00"


async def test_transcript_and_participant_webhooks_match_the_recordings(
    client: AttendeeClient,
    attendee: AttendeeStandIn,
    receiver: WebhookReceiver,
    http: httpx.AsyncClient,
) -> None:
    bot = await client.create_bot(
        meeting_url=MEET, bot_name="Debrief", metadata={"note": "café ☕ 日本"}
    )
    attendee.join(bot.id)
    attendee.say(
        bot.id, "Ada Lovelace", "Let's ship the Slack integration on Friday.", duration_ms=2500
    )
    await attendee.settle()

    by_trigger = {verified(c, attendee.webhook_secret).trigger: c for c in receiver.accepted()}
    for trigger, capture_name in (
        ("transcript.update", "clean_07_transcript-update"),
        ("participant_events.join_leave", "clean_06_participant_events-join_leave"),
    ):
        ours = json.loads(by_trigger[trigger].body)
        capture = recorded("webhooks", capture_name)
        assert list(ours["data"]) == list(capture["json"]["data"]), trigger
        # Non-ASCII metadata travels as \u escapes, like the real server's.
        assert b"caf\\u00e9 \\u2615 \\u65e5\\u672c" in by_trigger[trigger].body

    utterance = json.loads(by_trigger["transcript.update"].body)["data"]
    real = recorded("webhooks", "clean_07_transcript-update")["json"]["data"]
    assert {k: v for k, v in utterance.items() if k != "timestamp_ms"} == {
        k: v for k, v in real.items() if k != "timestamp_ms"
    }

    response = await http.get(
        f"{attendee.url}/api/v1/bots/{bot.id}/transcript",
        headers={"Authorization": f"Token {attendee.api_key}"},
    )
    real_transcript = recorded("api", "transcript_final")
    assert response.json() == [{**real_transcript[0], "timestamp_ms": utterance["timestamp_ms"]}]
    assert list(response.json()[0]) == list(real_transcript[0])


@pytest.mark.parametrize(
    ("body", "capture"),
    [
        ({"meeting_url": "https://example.com/meeting"}, "err_bad_url"),
        ({"bot_name": "Debrief"}, "err_no_url"),
        (
            {
                "meeting_url": "https://teams.microsoft.com/l/meetup-join/19:meeting_x@thread.v2/0",
                "webhooks": [{"url": "http://127.0.0.1:9999/x", "triggers": ["bot.state_change"]}],
            },
            "err_http_botlevel_hook",
        ),
    ],
    ids=["bad-url", "no-url", "http-bot-webhook"],
)
async def test_validation_errors_are_the_real_ones(
    http: httpx.AsyncClient, attendee: AttendeeStandIn, body: dict[str, Any], capture: str
) -> None:
    response = await raw_post(http, attendee, body)
    assert response.status_code == 400
    assert response.json() == recorded("api", capture)
    assert attendee.bots == {}


async def test_unknown_fields_and_past_join_at_are_refused(
    client: AttendeeClient, http: httpx.AsyncClient, attendee: AttendeeStandIn, clock: Clock
) -> None:
    response = await raw_post(
        http, attendee, {"meeting_url": ZOOM, "bot_name": "x", "colour": "red"}
    )
    assert response.status_code == 400
    assert response.json()["non_field_errors"][0].startswith("Unexpected field(s): colour.")

    with pytest.raises(BadRequest, match="join_at: join_at cannot be in the past"):
        await client.create_bot(
            meeting_url=ZOOM, bot_name="x", join_at=clock.now - timedelta(minutes=1)
        )
    with pytest.raises(BadRequest, match="metadata: Metadata must have at least one key"):
        await client.create_bot(meeting_url=ZOOM, bot_name="x", metadata={})


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://us05web.zoom.us/j/84315220467?pwd=abc", True),
        ("https://zoom.us/j/123", True),
        ("https://meet.google.com/abc-defg-hij", True),
        ("https://teams.microsoft.com/l/meetup-join/19:meeting_x@thread.v2/0?context={}", True),
        ("https://teams.live.com/meet/9312345", True),
        ("http://zoom.us/j/123", False),
        ("https://meet.google.com/abc", False),
        ("https://example.com/j/123", False),
        ("zoom.us/j/123", False),
    ],
)
def test_meeting_urls(url: str, ok: bool) -> None:
    assert is_meeting_url(url) is ok


async def test_api_key_is_checked(http: httpx.AsyncClient, attendee: AttendeeStandIn) -> None:
    response = await http.get(f"{attendee.url}/api/v1/bots")
    assert response.status_code == 401
    assert response.json() == recorded("api", "err_no_auth")

    wrong = AttendeeClient(http, api_key="not-the-key", base_url=attendee.url)
    with pytest.raises(AuthenticationFailed):
        await wrong.list_bots()


async def test_unknown_bot_and_path(
    client: AttendeeClient, http: httpx.AsyncClient, attendee: AttendeeStandIn
) -> None:
    with pytest.raises(NotFound) as caught:
        await client.get_bot("bot_nope")
    assert caught.value.body == recorded("api", "err_not_found")
    response = await http.get(
        f"{attendee.url}/api/v1/nothing", headers={"Authorization": f"Token {attendee.api_key}"}
    )
    assert (response.status_code, response.json()) == (404, {"error": "Not found"})


# --- life cycles --------------------------------------------------------------------------


@pytest.mark.parametrize("options", [{"step_delay": 0.05}])
async def test_leave_then_leave_again_then_the_bot_ends(
    client: AttendeeClient, attendee: AttendeeStandIn, receiver: WebhookReceiver
) -> None:
    bot = await client.create_bot(meeting_url=ZOOM, bot_name="Debrief")
    attendee.join(bot.id)
    attendee.say(bot.id, "Ada Lovelace", "Shall we start?")
    attendee.say(bot.id, "Grace Hopper", "Yes, go ahead.")

    leaving = await client.leave_bot(bot.id)
    assert leaving.state is BotState.LEAVING
    assert leaving.events[-1].sub_type == "user_requested"
    with pytest.raises(AlreadyLeaving) as caught:
        await client.leave_bot(bot.id)
    assert caught.value.message == recorded("api", "leave_again")["error"]

    await attendee.settle()
    ended = await client.get_bot(bot.id)
    assert ended.state is BotState.ENDED
    assert [e.type for e in ended.events] == [
        "join_requested",
        "joined_meeting",
        "recording_permission_granted",
        "leave_requested",
        "left_meeting",
        "post_processing_completed",
    ]
    assert (ended.transcription_state, ended.recording_state) == ("complete", "complete")

    envelopes = [verified(c, attendee.webhook_secret) for c in receiver.accepted()]
    assert transitions(envelopes) == [
        ("ready", "joining", "join_requested"),
        ("joining", "joined_not_recording", "joined_meeting"),
        ("joined_not_recording", "joined_recording", "recording_permission_granted"),
        ("joined_recording", "leaving", "leave_requested"),
        ("leaving", "post_processing", "left_meeting"),
        ("post_processing", "ended", "post_processing_completed"),
    ]
    utterances = [e.utterance for e in envelopes if e.utterance is not None]
    assert [(u.speaker_name, u.speaker_is_host) for u in utterances] == [
        ("Ada Lovelace", True),
        ("Grace Hopper", False),
    ]
    assert len({e.idempotency_key for e in envelopes}) == len(envelopes)
    final = envelopes[-1].state_change
    assert final is not None and final.event_metadata == {"bot_duration_seconds": 0}

    with pytest.raises(AlreadyLeaving) as caught:
        await client.leave_bot(bot.id)
    assert caught.value.state == "ended"


async def test_meeting_end_and_recording_url_that_expires(
    client: AttendeeClient,
    attendee: AttendeeStandIn,
    receiver: WebhookReceiver,
    http: httpx.AsyncClient,
    clock: Clock,
) -> None:
    bot = await client.create_bot(meeting_url=MEET, bot_name="Debrief")
    attendee.join(bot.id)
    clock.now += timedelta(minutes=42)
    attendee.end_meeting(bot.id)
    await attendee.settle()

    envelopes = [verified(c, attendee.webhook_secret) for c in receiver.accepted()]
    assert transitions(envelopes)[-2:] == [
        ("joined_recording", "post_processing", "meeting_ended"),
        ("post_processing", "ended", "post_processing_completed"),
    ]
    final = envelopes[-1].state_change
    assert final is not None and final.event_metadata == {"bot_duration_seconds": 42 * 60}

    assert await client.get_recording(bot.id) is None  # no storage: the real server's 404

    attendee.set_recording(bot.id)
    recording = await client.get_recording(bot.id)
    assert recording is not None
    assert recording.start_timestamp_ms == int(
        (clock.now - timedelta(minutes=42)).timestamp() * 1000
    )
    media = await http.get(recording.url)
    assert media.status_code == 200 and media.headers["Content-Type"] == "video/mp4"
    clock.now += timedelta(minutes=31)
    expired = await http.get(recording.url)
    assert expired.status_code == 403
    tampered = await http.get(recording.url.replace("signature=", "signature=0"))
    assert tampered.status_code == 403


async def test_failing_to_join_and_the_waiting_room(
    client: AttendeeClient, attendee: AttendeeStandIn, receiver: WebhookReceiver
) -> None:
    first = await client.create_bot(meeting_url=ZOOM, bot_name="Debrief")
    second = await client.create_bot(meeting_url=MEET, bot_name="Debrief")
    attendee.fail_to_join(first.id)
    attendee.waiting_room(second.id)
    attendee.fail_to_join(second.id, "waiting_room_timeout_exceeded")
    await attendee.settle()

    failed = await client.get_bot(first.id)
    assert failed.state is BotState.FATAL_ERROR and failed.is_terminal
    assert (failed.events[-1].type, failed.events[-1].sub_type) == (
        "could_not_join_meeting",
        "meeting_not_found",
    )
    changes = [verified(c, attendee.webhook_secret).state_change for c in receiver.accepted()]
    assert [(c.new_state, c.event_sub_type) for c in changes if c] == [
        ("joining", None),
        ("joining", None),
        ("fatal_error", "meeting_not_found"),
        ("waiting_room", None),
        ("fatal_error", "waiting_room_timeout_exceeded"),
    ]
    with pytest.raises(ValueError, match="cannot"):
        attendee.end_meeting(first.id)
    with pytest.raises(InvalidBotState):
        await client.delete_bot(first.id)


async def test_scheduled_bots_can_be_deleted_but_not_left(
    client: AttendeeClient, attendee: AttendeeStandIn, clock: Clock, receiver: WebhookReceiver
) -> None:
    bot = await client.create_bot(
        meeting_url=ZOOM, bot_name="Debrief", join_at=clock.now + timedelta(hours=2)
    )
    assert bot.state is BotState.SCHEDULED and bot.events == []
    assert bot.join_at == clock.now + timedelta(hours=2)

    with pytest.raises(InvalidBotState) as caught:
        await client.leave_bot(bot.id)
    assert not isinstance(caught.value, AlreadyLeaving) and caught.value.state == "scheduled"

    await client.delete_bot(bot.id)
    with pytest.raises(NotFound):
        await client.get_bot(bot.id)
    await attendee.settle()
    assert receiver.accepted() == []


async def test_deduplication_key_is_unique_among_active_bots(
    client: AttendeeClient, attendee: AttendeeStandIn
) -> None:
    first = await client.create_bot(meeting_url=ZOOM, bot_name="x", deduplication_key="C1:zoom")
    with pytest.raises(DuplicateBot) as caught:
        await client.create_bot(meeting_url=ZOOM, bot_name="x", deduplication_key="C1:zoom")
    assert caught.value.deduplication_key == "C1:zoom"

    found = await client.find_active_bot("C1:zoom")
    assert found is not None and found.id == first.id

    attendee.fail_to_join(first.id)
    again = await client.create_bot(meeting_url=ZOOM, bot_name="x", deduplication_key="C1:zoom")
    found = await client.find_active_bot("C1:zoom")
    assert found is not None and found.id == again.id != first.id


@pytest.mark.parametrize("options", [{"page_size": 2}])
async def test_paging_and_filters(
    client: AttendeeClient, attendee: AttendeeStandIn, http: httpx.AsyncClient, clock: Clock
) -> None:
    ids = []
    for n in range(5):
        bot = await client.create_bot(
            meeting_url=ZOOM if n % 2 else MEET,
            bot_name=f"bot {n}",
            join_at=clock.now + timedelta(hours=n + 1),
        )
        ids.append(bot.id)
    attendee.join(ids[1])

    assert [b.id async for b in client.iter_bots()] == ids
    first_page = await client.list_bots()
    assert len(first_page.results) == 2 and first_page.previous is None
    second_page = await client.list_bots(cursor=first_page.next)
    assert [b.id for b in second_page.results] == ids[2:4]
    assert second_page.previous is not None
    back = await client.list_bots(cursor=second_page.previous)
    assert [b.id for b in back.results] == ids[:2]

    assert [b.id async for b in client.iter_bots(meeting_url=ZOOM)] == [ids[1], ids[3]]
    assert [b.id async for b in client.iter_bots(states=["scheduled"])] == [
        ids[0],
        ids[2],
        ids[3],
        ids[4],
    ]
    assert [
        b.id
        async for b in client.iter_bots(
            join_at_after=clock.now + timedelta(hours=2, minutes=30),
            join_at_before=clock.now + timedelta(hours=4, minutes=30),
        )
    ] == [ids[2], ids[3]]

    with pytest.raises(BadRequest, match="Invalid state: nope"):
        await client.list_bots(states=["nope"])
    with pytest.raises(NotFound, match="Invalid cursor"):
        await client.list_bots(cursor="garbage!")


async def test_transcript_polling_with_updated_after(
    client: AttendeeClient, attendee: AttendeeStandIn, clock: Clock
) -> None:
    bot = await client.create_bot(meeting_url=ZOOM, bot_name="x")
    assert await client.get_transcript(bot.id) == []
    attendee.join(bot.id)
    attendee.say(bot.id, "Ada Lovelace", "First.")
    checkpoint = clock.now
    clock.now += timedelta(seconds=5)
    attendee.say(bot.id, "Alan Turing", "Second.")

    assert [u.text for u in await client.get_transcript(bot.id)] == ["First.", "Second."]
    assert [u.text for u in await client.get_transcript(bot.id, updated_after=checkpoint)] == [
        "Second."
    ]


async def test_seeded_transcript_is_a_realistic_meeting(
    client: AttendeeClient, attendee: AttendeeStandIn
) -> None:
    bot = await client.create_bot(meeting_url=ZOOM, bot_name="x")
    assert attendee.seed_transcript(bot.id) == len(SAMPLE_TRANSCRIPT)

    transcript = await client.get_transcript(bot.id)
    assert len(transcript) >= 20
    assert len({u.speaker_name for u in transcript}) >= 4
    minutes = (
        transcript[-1].timestamp_ms + transcript[-1].duration_ms - transcript[0].timestamp_ms
    ) / 60000
    assert 3 <= minutes <= 10
    assert [u.timestamp_ms for u in transcript] == sorted(u.timestamp_ms for u in transcript)


# --- webhook delivery ---------------------------------------------------------------------


async def test_failed_deliveries_are_retried_with_the_same_idempotency_key(
    client: AttendeeClient, attendee: AttendeeStandIn, receiver: WebhookReceiver
) -> None:
    receiver.fail(times=2, status=500)
    await client.create_bot(meeting_url=ZOOM, bot_name="x")
    await attendee.settle()

    calls = receiver.requests_to("/hook")
    assert [c.status for c in calls] == [500, 500, 200]
    assert len({c.body for c in calls}) == 1
    assert [(d.attempts, d.status) for d in attendee.deliveries] == [(1, 500), (2, 500), (3, 200)]
    assert len(attendee.delivered("bot.state_change")) == 1


async def test_delivery_gives_up_after_three_attempts_and_never_follows_redirects(
    client: AttendeeClient, attendee: AttendeeStandIn, receiver: WebhookReceiver
) -> None:
    receiver.fail(times=5, status=307, headers={"Location": receiver.url_for("/bot-hook")})
    await client.create_bot(meeting_url=ZOOM, bot_name="x")
    await attendee.settle()

    assert [d.status for d in attendee.deliveries] == [307, 307, 307]
    assert receiver.requests_to("/bot-hook") == []
    assert attendee.delivered() == []


async def test_unreachable_receiver_is_recorded(
    client: AttendeeClient, attendee: AttendeeStandIn, receiver: WebhookReceiver
) -> None:
    receiver.drop(times=1)
    await client.create_bot(meeting_url=ZOOM, bot_name="x")
    await attendee.settle()
    assert attendee.deliveries[0].status is None and attendee.deliveries[0].error
    assert attendee.deliveries[-1].ok


async def test_duplicate_and_out_of_order_deliveries_on_request(
    client: AttendeeClient, attendee: AttendeeStandIn, receiver: WebhookReceiver
) -> None:
    attendee.duplicate_next_webhooks(1)
    bot = await client.create_bot(meeting_url=ZOOM, bot_name="x")
    await attendee.settle()
    first, second = (verified(c, attendee.webhook_secret) for c in receiver.accepted())
    assert first.idempotency_key == second.idempotency_key

    attendee.hold_webhooks()
    attendee.join(bot.id)
    await attendee.settle()
    assert len(receiver.accepted()) == 2
    assert attendee.release_webhooks("reversed") == 2
    await attendee.settle()

    late = [verified(c, attendee.webhook_secret) for c in receiver.accepted()[2:]]
    assert [c.new_state for c in (e.state_change for e in late) if c] == [
        "joined_recording",
        "joined_not_recording",
    ]


@pytest.mark.parametrize("options", [{"allow_http_bot_webhooks": True}])
async def test_bot_level_webhooks_replace_the_projects(
    client: AttendeeClient, attendee: AttendeeStandIn, receiver: WebhookReceiver
) -> None:
    bot = await client.create_bot(
        meeting_url=ZOOM,
        bot_name="x",
        webhooks=[{"url": receiver.url_for("/bot-hook"), "triggers": ["bot.state_change"]}],
    )
    attendee.join(bot.id)
    attendee.say(bot.id, "Ada", "Not subscribed to transcripts.")
    await attendee.settle()

    assert receiver.accepted("/hook") == []
    envelopes = [verified(c, attendee.webhook_secret) for c in receiver.accepted("/bot-hook")]
    assert {e.trigger for e in envelopes} == {"bot.state_change"}
    assert len(envelopes) == 3


async def test_webhooks_never_hold_up_the_api(
    http: httpx.AsyncClient, receiver: WebhookReceiver, clock: Clock
) -> None:
    receiver.delay = 0.4
    standin = AttendeeStandIn(clock=clock, step_delay=0)
    await standin.start()
    standin.configure_webhook(receiver.url)
    client = AttendeeClient(http, api_key=standin.api_key, base_url=standin.url)
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        bot = await client.create_bot(meeting_url=ZOOM, bot_name="x")
        await client.leave_bot(bot.id)
        assert loop.time() - started < 0.3
    finally:
        await standin.stop()  # cancels the delivery still waiting on the slow receiver
    assert standin.delivered() == []


# --- on its own, and the control endpoints ------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [{"auto_join": True, "auto_transcript": True, "auto_end_after": 0, "recordings": True}],
)
async def test_auto_join_plays_a_whole_meeting(
    client: AttendeeClient, attendee: AttendeeStandIn, receiver: WebhookReceiver
) -> None:
    bot = await client.create_bot(meeting_url=ZOOM, bot_name="x")
    failing = await client.create_bot(meeting_url="https://zoom.us/j/404", bot_name="x")
    await attendee.settle()

    assert (await client.get_bot(bot.id)).state is BotState.ENDED
    assert len(await client.get_transcript(bot.id)) == len(SAMPLE_TRANSCRIPT)
    assert await client.get_recording(bot.id) is not None
    failed = await client.get_bot(failing.id)
    assert failed.state is BotState.FATAL_ERROR
    assert failed.events[-1].sub_type == "meeting_not_found"
    envelopes = [verified(c, attendee.webhook_secret) for c in receiver.accepted()]
    assert sum(e.trigger == "transcript.update" for e in envelopes) == len(SAMPLE_TRANSCRIPT)


@pytest.mark.parametrize("options", [{"auto_join": True}])
async def test_auto_join_waits_for_join_at(
    client: AttendeeClient, attendee: AttendeeStandIn, clock: Clock
) -> None:
    bot = await client.create_bot(
        meeting_url=ZOOM, bot_name="x", join_at=clock.now + timedelta(milliseconds=50)
    )
    assert (await client.get_bot(bot.id)).state is BotState.SCHEDULED
    clock.now += timedelta(milliseconds=50)
    await attendee.settle()
    joined = await client.get_bot(bot.id)
    assert joined.state is BotState.JOINED_RECORDING
    assert joined.events[0].type == "join_requested"


@pytest.mark.parametrize(
    "options",
    [
        {
            "auto_join": True,
            "waiting_room_timeout": 600,
            "auto_transcript": True,
            "auto_end_after": 0,
        }
    ],
)
async def test_with_a_waiting_room_bots_wait_until_a_person_decides(
    client: AttendeeClient, attendee: AttendeeStandIn, receiver: WebhookReceiver
) -> None:
    admitted = await client.create_bot(meeting_url=ZOOM, bot_name="x")
    refused = await client.create_bot(meeting_url=MEET, bot_name="x")
    await receiver.wait_for(4)  # joining, then waiting room, for each
    # Nothing moves them on by itself: they are still waiting, long after joining would have.
    await asyncio.sleep(0.1)
    assert [attendee.bot(b.id)["state"] for b in (admitted, refused)] == ["waiting_room"] * 2

    # The sandbox page's controls: the host admits one and the other fails to join.
    lock = attendee.lock.headers()
    async with httpx.AsyncClient(base_url=attendee.url, headers=lock) as page:
        assert (await page.post(f"/_sandbox/attendee/bots/{admitted.id}/join", json={})).is_success
        failed = await page.post(
            f"/_sandbox/attendee/bots/{refused.id}/fail_to_join",
            json={"sub_type": "waiting_room_timeout_exceeded"},
        )
    assert failed.json()["state"] == "fatal_error"
    await attendee.settle()

    # Once admitted it lives on as a bot that joined by itself: it hears the meeting, which ends.
    assert (await client.get_bot(admitted.id)).state is BotState.ENDED
    assert len(await client.get_transcript(admitted.id)) == len(SAMPLE_TRANSCRIPT)
    assert (await client.get_transcript(refused.id)) == []
    changes = [verified(c, attendee.webhook_secret) for c in receiver.accepted()]
    assert [
        (c.state_change.new_state, c.state_change.event_sub_type)
        for c in changes
        if c.bot_id == refused.id and c.state_change
    ] == [
        ("joining", None),
        ("waiting_room", None),
        ("fatal_error", "waiting_room_timeout_exceeded"),
    ]


@pytest.mark.parametrize(
    "options", [{"auto_join": True, "auto_join_delay": 0, "waiting_room_timeout": 0.05}]
)
async def test_nobody_admits_a_bot_from_the_waiting_room_in_time(
    client: AttendeeClient, attendee: AttendeeStandIn
) -> None:
    bot = await client.create_bot(meeting_url=ZOOM, bot_name="x")
    await attendee.settle()
    failed = await client.get_bot(bot.id)
    assert failed.state is BotState.FATAL_ERROR
    assert [(e.type, e.sub_type) for e in failed.events[-2:]] == [
        ("put_in_waiting_room", None),
        ("could_not_join_meeting", "waiting_room_timeout_exceeded"),
    ]


async def test_talk_time_never_adds_up_to_more_than_the_meeting(
    client: AttendeeClient, attendee: AttendeeStandIn, clock: Clock
) -> None:
    bot = await client.create_bot(meeting_url=ZOOM, bot_name="x")
    attendee.join(bot.id)
    # Three long lines said two seconds apart: each takes longer than that to say.
    for speaker, text in SAMPLE_TRANSCRIPT[:3]:
        attendee.say(bot.id, speaker, text)
        clock.now += timedelta(seconds=2)
    transcript = await client.get_transcript(bot.id)
    spans = [(u.timestamp_ms, u.timestamp_ms + u.duration_ms) for u in transcript]
    # People take turns: no line starts before the one before it is over.
    assert all(end <= next_start for (_, end), (next_start, _) in itertools.pairwise(spans))
    talked = sum(end - start for start, end in spans)
    assert talked <= spans[-1][1] - spans[0][0]
    assert talked > 3 * 2000


async def test_control_endpoints(
    client: AttendeeClient, attendee: AttendeeStandIn, http: httpx.AsyncClient
) -> None:
    bot = await client.create_bot(meeting_url=ZOOM, bot_name="x")
    calls_before = len(attendee.calls)
    # The sandbox page's proxy passes the lock with the run's token and JSON bodies.
    lock = attendee.lock.headers()

    joined = await http.post(
        f"{attendee.url}/_sandbox/attendee/bots/{bot.id}/join", json={}, headers=lock
    )
    assert joined.json()["state"] == "joined_recording"
    said = await http.post(
        f"{attendee.url}/_sandbox/attendee/bots/{bot.id}/say",
        json={"speaker": "Ada", "text": "Hello from the panel."},
        headers=lock,
    )
    assert said.status_code == 200
    state = (await http.get(f"{attendee.url}/_sandbox/attendee", headers=lock)).json()
    assert state["bots"][0]["transcript_lines"] == 1
    assert (
        await http.post(f"{attendee.url}/_sandbox/attendee/bots/bot_x/join", json={}, headers=lock)
    ).status_code == 404
    again = await http.post(
        f"{attendee.url}/_sandbox/attendee/bots/{bot.id}/waiting_room", json={}, headers=lock
    )
    assert again.status_code == 400 and "cannot" in again.json()["error"]
    assert len(attendee.calls) == calls_before

    hook = await http.post(
        f"{attendee.url}/_sandbox/attendee/webhook",
        json={"url": "http://127.0.0.1:1/elsewhere", "secret_b64": "c2VjcmV0LXNlY3JldC1zZWNyZXQ="},
        headers=lock,
    )
    assert hook.json() == {"secret_b64": "c2VjcmV0LXNlY3JldC1zZWNyZXQ="}
    assert attendee.webhook_secret == "c2VjcmV0LXNlY3JldC1zZWNyZXQ="


async def test_non_json_body_is_refused(http: httpx.AsyncClient, attendee: AttendeeStandIn) -> None:
    response = await http.post(
        f"{attendee.url}/api/v1/bots",
        content=b"{nope",
        headers={"Authorization": f"Token {attendee.api_key}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400 and "JSON parse error" in response.json()["detail"]
    listed = await raw_post(http, attendee, [1])
    assert listed.status_code == 400
