"""AttendeeClient on httpx.MockTransport, replaying answers recorded from a real Attendee."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pydantic
import pytest

from providers.attendee import (
    DEFAULT_POSTS_PER_MINUTE,
    AlreadyLeaving,
    AttendeeClient,
    BotEventType,
    BotState,
    CreateBot,
    DuplicateBot,
    InvalidBotState,
    Recording,
    attendee_rate_limiter,
)
from providers.budget import WindowBudget
from providers.errors import (
    AuthenticationFailed,
    BadRequest,
    Conflict,
    NotFound,
    ProviderResponseError,
    ProviderUnavailable,
    RateLimited,
    ServerError,
)
from providers.http import RetryPolicy

BASE = "https://attendee.example.com"

Reply = httpx.Response | Callable[[httpx.Request], httpx.Response] | Exception


class FakeAttendee:
    """Answers queued per ``METHOD /path`` in order; records every request it receives."""

    def __init__(self) -> None:
        self.replies: dict[str, list[Reply]] = {}
        self.requests: list[httpx.Request] = []

    def on(self, route: str, *replies: Reply) -> None:
        self.replies.setdefault(route, []).extend(replies)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = f"{request.method} {request.url.path}"
        queue = self.replies.get(route)
        if not queue:
            return httpx.Response(404, json={"error": "Not found"})
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(reply, Exception):
            raise reply
        return reply(request) if callable(reply) else reply

    def to(self, route: str) -> list[httpx.Request]:
        method, path = route.split(" ", 1)
        return [r for r in self.requests if r.method == method and r.url.path == path]


@pytest.fixture
def fake() -> FakeAttendee:
    return FakeAttendee()


@pytest.fixture
async def http(fake: FakeAttendee) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handler)) as client:
        yield client


@pytest.fixture
def client(http: httpx.AsyncClient, fake_sleep: Any, clock: Any) -> AttendeeClient:
    return AttendeeClient(
        http,
        api_key="key-123",
        base_url=BASE,
        limiter=attendee_rate_limiter(clock=clock, sleep=fake_sleep),
        retry=RetryPolicy(attempts=3, base_delay=0.1),
        sleep=fake_sleep,
    )


def _json(request: httpx.Request) -> Any:
    return json.loads(request.content)


# --- create -------------------------------------------------------------------------------


async def test_create_bot_sends_token_and_only_set_fields(
    client: AttendeeClient, fake: FakeAttendee, api_response: Any
) -> None:
    fake.on("POST /api/v1/bots", api_response("create_zoom"))

    bot = await client.create_bot(
        meeting_url="https://us05web.zoom.us/j/84315220467?pwd=abc",
        bot_name="Debrief",
        metadata={"slack_user": "U0456", "slack_channel": "C0123"},
    )

    (request,) = fake.to("POST /api/v1/bots")
    assert request.headers["Authorization"] == "Token key-123"
    assert request.headers["Content-Type"] == "application/json"
    assert _json(request) == {
        "meeting_url": "https://us05web.zoom.us/j/84315220467?pwd=abc",
        "bot_name": "Debrief",
        "metadata": {"slack_user": "U0456", "slack_channel": "C0123"},
    }
    assert bot.id == "bot_ELbzyyVcnnGvDCoz"
    assert bot.state is BotState.JOINING
    assert bot.metadata == {"slack_user": "U0456", "slack_channel": "C0123"}
    assert [e.type for e in bot.events] == [BotEventType.JOIN_REQUESTED]
    assert bot.events[0].sub_type is None
    assert bot.join_at is None and bot.deduplication_key is None
    assert not bot.is_terminal


async def test_create_bot_from_model_with_schedule_and_webhooks(
    client: AttendeeClient, fake: FakeAttendee, api_response: Any
) -> None:
    fake.on("POST /api/v1/bots", api_response("create_meet"))
    request_model = CreateBot(
        meeting_url="https://meet.google.com/abc-defg-hij",
        bot_name="Debrief",
        metadata={"note": "café ☕ 日本"},
        join_at=datetime(2026, 12, 1, 9, 30, tzinfo=timezone(timedelta(hours=2))),
        webhooks=[
            {
                "url": "https://debrief.example.com/webhooks/attendee",
                "triggers": ["bot.state_change"],
            }
        ],
        recording_settings={"format": "mp3"},
    )

    bot = await client.create_bot(request_model)

    body = _json(fake.to("POST /api/v1/bots")[0])
    assert body["join_at"] == "2026-12-01T07:30:00Z"
    assert body["webhooks"] == [
        {"url": "https://debrief.example.com/webhooks/attendee", "triggers": ["bot.state_change"]}
    ]
    assert "deduplication_key" not in body and "transcription_settings" not in body
    assert bot.metadata == {"note": "café ☕ 日本"}


async def test_create_bot_refuses_unknown_fields_before_sending(
    client: AttendeeClient, fake: FakeAttendee
) -> None:
    with pytest.raises(ValueError, match="meeting_ur") as caught:
        await client.create_bot(meeting_ur="https://zoom.us/j/1", bot_name="x")
    assert not isinstance(caught.value, pydantic.ValidationError)
    assert fake.requests == []


async def test_create_bot_refuses_naive_join_at(client: AttendeeClient) -> None:
    with pytest.raises(ValueError, match="join_at"):
        await client.create_bot(
            meeting_url="https://zoom.us/j/1", bot_name="x", join_at=datetime(2026, 1, 1)
        )


async def test_field_errors_read_like_sentences(
    client: AttendeeClient, fake: FakeAttendee, api_response: Any
) -> None:
    fake.on("POST /api/v1/bots", api_response("err_bad_url"))

    with pytest.raises(BadRequest) as caught:
        await client.create_bot(meeting_url="https://example.com/call", bot_name="")

    assert caught.value.message == (
        "meeting_url: Invalid meeting URL; bot_name: This field is required."
    )
    assert caught.value.status_code == 400
    assert caught.value.body == {
        "meeting_url": ["Invalid meeting URL"],
        "bot_name": ["This field is required."],
    }
    assert len(fake.requests) == 1


async def test_http_bot_level_webhook_is_refused_readably(
    client: AttendeeClient, fake: FakeAttendee, api_response: Any
) -> None:
    fake.on("POST /api/v1/bots", api_response("err_http_botlevel_hook"))

    with pytest.raises(BadRequest, match=r"webhooks: 'http://127.0.0.1:9999/x' does not match"):
        await client.create_bot(
            meeting_url="https://teams.microsoft.com/l/meetup-join/x",
            bot_name="",
            webhooks=[{"url": "http://127.0.0.1:9999/x", "triggers": ["bot.state_change"]}],
        )


async def test_duplicate_deduplication_key_is_recognisable(
    client: AttendeeClient, fake: FakeAttendee
) -> None:
    fake.on(
        "POST /api/v1/bots",
        httpx.Response(
            400,
            json={
                "error": "Deduplication key already in use. A bot in a non-terminal state with "
                "this deduplication key already exists. Please use a different deduplication "
                "key or wait for that bot to terminate."
            },
        ),
    )

    with pytest.raises(DuplicateBot) as caught:
        await client.create_bot(
            meeting_url="https://zoom.us/j/1", bot_name="x", deduplication_key="C1:zoom/1"
        )

    assert isinstance(caught.value, BadRequest)
    assert caught.value.deduplication_key == "C1:zoom/1"


async def test_create_without_deduplication_key_is_not_retried_on_5xx(
    client: AttendeeClient, fake: FakeAttendee, api_response: Any, sleeps: list[float]
) -> None:
    fake.on(
        "POST /api/v1/bots",
        httpx.Response(502, text="Bad Gateway"),
        api_response("create_zoom"),
    )

    with pytest.raises(ServerError) as caught:
        await client.create_bot(meeting_url="https://zoom.us/j/1", bot_name="x")

    assert caught.value.status_code == 502
    assert len(fake.to("POST /api/v1/bots")) == 1
    assert sleeps == []


async def test_create_with_deduplication_key_is_retried_on_5xx(
    client: AttendeeClient, fake: FakeAttendee, api_response: Any
) -> None:
    fake.on(
        "POST /api/v1/bots",
        httpx.Response(503, json={"error": "down"}),
        api_response("create_zoom"),
    )

    bot = await client.create_bot(
        meeting_url="https://zoom.us/j/1", bot_name="x", deduplication_key="k1"
    )

    sent = fake.to("POST /api/v1/bots")
    assert len(sent) == 2
    assert _json(sent[0]) == _json(sent[1])
    assert bot.id == "bot_ELbzyyVcnnGvDCoz"


async def test_429_waits_for_retry_after_then_succeeds(
    client: AttendeeClient, fake: FakeAttendee, api_response: Any, sleeps: list[float]
) -> None:
    fake.on(
        "POST /api/v1/bots",
        httpx.Response(
            429, headers={"Retry-After": "7"}, json={"detail": "Request was throttled."}
        ),
        api_response("create_zoom"),
    )

    bot = await client.create_bot(meeting_url="https://zoom.us/j/1", bot_name="x")

    assert bot.id == "bot_ELbzyyVcnnGvDCoz"
    assert 7.0 in sleeps
    assert len(fake.to("POST /api/v1/bots")) == 2


async def test_429_that_persists_is_rate_limited(
    client: AttendeeClient, fake: FakeAttendee
) -> None:
    fake.on(
        "POST /api/v1/bots",
        httpx.Response(
            429, headers={"Retry-After": "2"}, json={"detail": "Request was throttled."}
        ),
    )
    with pytest.raises(RateLimited) as caught:
        await client.create_bot(meeting_url="https://zoom.us/j/1", bot_name="x")
    assert caught.value.retry_after == 2.0
    assert caught.value.message == "Request was throttled."


# --- read ---------------------------------------------------------------------------------


async def test_get_bot_parses_history(
    client: AttendeeClient, fake: FakeAttendee, api_response: Any
) -> None:
    fake.on("GET /api/v1/bots/bot_ELbzyyVcnnGvDCoz", api_response("get_ended"))

    bot = await client.get_bot("bot_ELbzyyVcnnGvDCoz")

    assert bot.state is BotState.ENDED and bot.is_terminal
    assert [e.type for e in bot.events] == [
        "join_requested",
        "leave_requested",
        "left_meeting",
        "post_processing_completed",
    ]
    assert bot.events[1].sub_type == "user_requested"
    assert bot.last_event is not None
    assert bot.last_event.type is BotEventType.POST_PROCESSING_COMPLETED
    assert bot.last_event.created_at == datetime(2026, 11, 22, 7, 9, 33, 167241, tzinfo=UTC)


async def test_get_bot_escapes_the_id(client: AttendeeClient, fake: FakeAttendee) -> None:
    with pytest.raises(NotFound):
        await client.get_bot("../projects")
    assert fake.requests[0].url.raw_path == b"/api/v1/bots/..%2Fprojects"


async def test_unknown_bot_is_not_found(
    client: AttendeeClient, fake: FakeAttendee, api_response: Any
) -> None:
    fake.on("GET /api/v1/bots/bot_nope", api_response("err_not_found"))
    with pytest.raises(NotFound) as caught:
        await client.get_bot("bot_nope")
    assert caught.value.message == "Bot not found"
    assert str(caught.value) == "attendee: Bot not found"


async def test_missing_api_key_is_authentication_failed(
    client: AttendeeClient, fake: FakeAttendee, api_response: Any
) -> None:
    fake.on("GET /api/v1/bots/bot_1", api_response("err_no_auth"))
    with pytest.raises(AuthenticationFailed) as caught:
        await client.get_bot("bot_1")
    assert caught.value.message == "Missing Authorization header"
    assert len(fake.requests) == 1


async def test_5xx_on_get_is_retried(
    client: AttendeeClient, fake: FakeAttendee, api_response: Any, sleeps: list[float]
) -> None:
    fake.on(
        "GET /api/v1/bots/bot_ELbzyyVcnnGvDCoz",
        httpx.Response(500, text="<html>Server Error</html>"),
        httpx.Response(502, text="Bad Gateway"),
        api_response("get_joining"),
    )

    bot = await client.get_bot("bot_ELbzyyVcnnGvDCoz")

    assert bot.state is BotState.JOINING
    assert len(fake.requests) == 3
    assert len(sleeps) == 2


async def test_unreachable_attendee_is_unavailable(
    client: AttendeeClient, fake: FakeAttendee
) -> None:
    fake.on("GET /api/v1/bots/bot_1", httpx.ConnectError("refused"))
    with pytest.raises(ProviderUnavailable, match="unreachable"):
        await client.get_bot("bot_1")
    assert len(fake.requests) == 3


async def test_an_unexpected_body_is_a_response_error(
    client: AttendeeClient, fake: FakeAttendee
) -> None:
    fake.on("GET /api/v1/bots/bot_1", httpx.Response(200, json={"id": "bot_1"}))
    with pytest.raises(ProviderResponseError, match="unexpected Bot"):
        await client.get_bot("bot_1")


async def test_base_url_may_include_the_api_root(
    http: httpx.AsyncClient, fake: FakeAttendee, api_response: Any
) -> None:
    fake.on("GET /api/v1/bots/bot_ELbzyyVcnnGvDCoz", api_response("get_joining"))
    client = AttendeeClient(http, api_key="k", base_url=f"{BASE}/api/v1/")
    await client.get_bot("bot_ELbzyyVcnnGvDCoz")
    assert str(fake.requests[0].url) == f"{BASE}/api/v1/bots/bot_ELbzyyVcnnGvDCoz"


# --- list ---------------------------------------------------------------------------------


async def test_list_bots_parses_the_recorded_page(
    client: AttendeeClient, fake: FakeAttendee, api_response: Any
) -> None:
    fake.on("GET /api/v1/bots", api_response("list"))
    page = await client.list_bots()
    assert page.next is None and page.previous is None
    assert [b.id for b in page.results] == ["bot_ELbzyyVcnnGvDCoz"]


def _bot(n: int, state: str = "joined_recording") -> dict[str, Any]:
    return {
        "id": f"bot_{n:04d}",
        "metadata": None,
        "meeting_url": "https://zoom.us/j/1",
        "state": state,
        "events": [],
        "transcription_state": "in_progress",
        "recording_state": "in_progress",
        "join_at": "2026-11-22T09:00:00Z",
        "deduplication_key": None,
    }


async def test_iter_bots_follows_next_cursors_with_filters_on_our_own_host(
    client: AttendeeClient, fake: FakeAttendee
) -> None:
    # Behind a proxy Attendee may build paging links with its internal host; the key must
    # still go only to the configured one.
    next_url = (
        "http://attendee-internal:8000/api/v1/bots?cursor=cD0yMDI2&"
        "states=joined_recording&states=waiting_room&meeting_url=https%3A%2F%2Fzoom.us%2Fj%2F1"
    )

    def page(request: httpx.Request) -> httpx.Response:
        if "cursor" not in request.url.params:
            body = {"next": next_url, "previous": None, "results": [_bot(1), _bot(2)]}
        else:
            body = {
                "next": None,
                "previous": "http://x/api/v1/bots?cursor=cj0x",
                "results": [_bot(3, "teleporting")],
            }
        return httpx.Response(200, json=body)

    fake.on("GET /api/v1/bots", page)

    bots = [
        bot
        async for bot in client.iter_bots(
            meeting_url="https://zoom.us/j/1",
            states=[BotState.JOINED_RECORDING, "waiting_room"],
            join_at_after=datetime(2026, 11, 22, 8, tzinfo=UTC),
        )
    ]

    assert [b.id for b in bots] == ["bot_0001", "bot_0002", "bot_0003"]
    assert bots[2].state == "teleporting"
    first, second = fake.requests
    assert first.url.host == second.url.host == "attendee.example.com"
    assert parse_qs(urlsplit(str(first.url)).query) == {
        "meeting_url": ["https://zoom.us/j/1"],
        "states": ["joined_recording", "waiting_room"],
        "join_at_after": ["2026-11-22T08:00:00Z"],
    }
    assert parse_qs(urlsplit(str(second.url)).query) == {
        "cursor": ["cD0yMDI2"],
        "states": ["joined_recording", "waiting_room"],
        "meeting_url": ["https://zoom.us/j/1"],
    }
    assert all(r.headers["Authorization"] == "Token key-123" for r in fake.requests)


async def test_iter_bots_stops_when_a_cursor_repeats(
    client: AttendeeClient, fake: FakeAttendee
) -> None:
    loop = {"next": f"{BASE}/api/v1/bots?cursor=c2FtZQ", "previous": None, "results": [_bot(1)]}
    fake.on("GET /api/v1/bots", httpx.Response(200, json=loop))
    with pytest.raises(ProviderResponseError, match="circle"):
        async for _ in client.iter_bots():
            pass
    assert len(fake.requests) == 2


async def test_find_active_bot_skips_finished_ones(
    client: AttendeeClient, fake: FakeAttendee
) -> None:
    fake.on(
        "GET /api/v1/bots",
        httpx.Response(
            200,
            json={
                "next": None,
                "previous": None,
                "results": [_bot(1, "ended"), _bot(2, "joining")],
            },
        ),
    )
    bot = await client.find_active_bot("k1")
    assert bot is not None and bot.id == "bot_0002"
    assert fake.requests[0].url.params["deduplication_key"] == "k1"


async def test_invalid_state_filter_is_a_bad_request(
    client: AttendeeClient, fake: FakeAttendee
) -> None:
    fake.on(
        "GET /api/v1/bots",
        httpx.Response(
            400, json={"error": "Invalid state: nope. Valid states are: ready, joining"}
        ),
    )
    with pytest.raises(BadRequest, match="Invalid state: nope"):
        await client.list_bots(states=["nope"])


# --- leave / delete -----------------------------------------------------------------------


async def test_leave_then_leave_again(
    client: AttendeeClient, fake: FakeAttendee, api_response: Any
) -> None:
    fake.on(
        "POST /api/v1/bots/bot_ELbzyyVcnnGvDCoz/leave",
        api_response("leave"),
        api_response("leave_again"),
    )

    bot = await client.leave_bot("bot_ELbzyyVcnnGvDCoz")
    assert bot.state is BotState.LEAVING
    assert bot.events[-1].type is BotEventType.LEAVE_REQUESTED
    assert bot.events[-1].sub_type == "user_requested"

    with pytest.raises(AlreadyLeaving) as caught:
        await client.leave_bot("bot_ELbzyyVcnnGvDCoz")
    assert isinstance(caught.value, Conflict)
    assert caught.value.state == "leaving"
    assert caught.value.status_code == 400
    assert caught.value.message.startswith("Event leave_requested not allowed")


async def test_leave_from_a_state_that_never_joined(
    client: AttendeeClient, fake: FakeAttendee
) -> None:
    fake.on(
        "POST /api/v1/bots/bot_1/leave",
        httpx.Response(
            400,
            json={
                "error": "Event leave_requested not allowed when bot is in state scheduled. "
                "It is only allowed in these states: joining"
            },
        ),
    )
    with pytest.raises(InvalidBotState) as caught:
        await client.leave_bot("bot_1")
    assert not isinstance(caught.value, AlreadyLeaving)
    assert caught.value.state == "scheduled"


async def test_delete_only_while_scheduled(client: AttendeeClient, fake: FakeAttendee) -> None:
    fake.on(
        "DELETE /api/v1/bots/bot_1",
        httpx.Response(200),
        httpx.Response(
            400,
            json={
                "error": "Bot is in state joining but can only be deleted when in scheduled state"
            },
        ),
    )

    await client.delete_bot("bot_1")
    with pytest.raises(InvalidBotState) as caught:
        await client.delete_bot("bot_1")
    assert caught.value.state == "joining"


async def test_other_bad_requests_pass_through(client: AttendeeClient, fake: FakeAttendee) -> None:
    fake.on("POST /api/v1/bots/bot_1/leave", httpx.Response(400, json={"error": "Nope"}))
    with pytest.raises(BadRequest) as caught:
        await client.leave_bot("bot_1")
    assert type(caught.value) is BadRequest


# --- transcript / recording ---------------------------------------------------------------


async def test_transcript_while_joining_and_after(
    client: AttendeeClient, fake: FakeAttendee, api_response: Any
) -> None:
    fake.on(
        "GET /api/v1/bots/bot_jVeGOt3Czw2LSBd4/transcript",
        api_response("transcript_joining"),
        api_response("transcript_final"),
    )

    assert await client.get_transcript("bot_jVeGOt3Czw2LSBd4") == []
    (utterance,) = await client.get_transcript(
        "bot_jVeGOt3Czw2LSBd4", updated_after=datetime(2026, 11, 22, 7, 9, tzinfo=UTC)
    )

    assert utterance.speaker_name == "Ada Lovelace"
    assert utterance.speaker_uuid == "sim-ada-lovelace"
    assert utterance.speaker_user_uuid is None and utterance.speaker_is_host
    assert (utterance.timestamp_ms, utterance.duration_ms) == (1795331373936, 2500)
    assert utterance.text == "Let's ship the Slack integration on Friday."
    assert fake.requests[1].url.params["updated_after"] == "2026-11-22T07:09:00Z"


async def test_transcript_of_unknown_bot_raises(client: AttendeeClient, fake: FakeAttendee) -> None:
    fake.on(
        "GET /api/v1/bots/bot_1/transcript",
        httpx.Response(404, json={"error": "No recording found for bot"}),
    )
    with pytest.raises(NotFound, match="No recording found"):
        await client.get_transcript("bot_1")


async def test_recording_404_means_none(
    client: AttendeeClient, fake: FakeAttendee, api_response: Any
) -> None:
    fake.on("GET /api/v1/bots/bot_jVeGOt3Czw2LSBd4/recording", api_response("recording_url"))
    assert await client.get_recording("bot_jVeGOt3Czw2LSBd4") is None


async def test_recording_of_unknown_bot_still_raises(
    client: AttendeeClient, fake: FakeAttendee, api_response: Any
) -> None:
    fake.on("GET /api/v1/bots/bot_nope/recording", api_response("err_not_found"))
    with pytest.raises(NotFound):
        await client.get_recording("bot_nope")


async def test_recording_url(client: AttendeeClient, fake: FakeAttendee) -> None:
    fake.on(
        "GET /api/v1/bots/bot_1/recording",
        httpx.Response(
            200,
            json={
                "url": "https://s3.example.com/r.mp4?X-Amz-Expires=1800",
                "start_timestamp_ms": 1733114771000,
            },
        ),
    )
    assert await client.get_recording("bot_1") == Recording(
        url="https://s3.example.com/r.mp4?X-Amz-Expires=1800", start_timestamp_ms=1733114771000
    )


# --- pacing -------------------------------------------------------------------------------


async def test_only_posts_spend_the_budget(
    clock: Any, fake_sleep: Any, sleeps: list[float]
) -> None:
    waits = sleeps
    budget = attendee_rate_limiter(1, clock=clock, sleep=fake_sleep)
    await budget.acquire(1.0)  # the one POST the budget holds
    await budget.acquire(0.0)  # GETs never wait
    budget.pause(30)
    await budget.acquire(0.0)  # ...not even while a 429 pauses the POSTs
    assert waits == []
    await budget.acquire(1.0)
    assert sum(waits) >= 30


async def test_client_charges_posts_only(
    http: httpx.AsyncClient,
    fake: FakeAttendee,
    api_response: Any,
    clock: Any,
    fake_sleep: Any,
    sleeps: list[float],
) -> None:
    waits = sleeps
    fake.on("GET /api/v1/bots/bot_ELbzyyVcnnGvDCoz", api_response("get_joining"))
    fake.on("POST /api/v1/bots", api_response("create_zoom"))
    limiter = attendee_rate_limiter(1, clock=clock, sleep=fake_sleep)
    client = AttendeeClient(http, api_key="k", base_url=BASE, limiter=limiter, sleep=fake_sleep)

    for _ in range(5):
        await client.get_bot("bot_ELbzyyVcnnGvDCoz")
    assert waits == []
    await client.create_bot(meeting_url="https://zoom.us/j/1", bot_name="x")
    assert waits == []
    await client.create_bot(meeting_url="https://zoom.us/j/1", bot_name="x")
    # The first POST counts for the minute plus the budget's margin for latency.
    assert sum(waits) == pytest.approx(60.25)


async def test_the_default_limiter_is_a_minute_of_posts(http: httpx.AsyncClient) -> None:
    client = AttendeeClient(http, api_key="k", base_url=BASE)
    assert isinstance(client.limiter, WindowBudget)
    assert (client.limiter.limit, client.limiter.window) == (DEFAULT_POSTS_PER_MINUTE, 60.0)
