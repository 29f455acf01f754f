"""Attendee's calendar API, against the answers and webhooks of a real Attendee server
(tests/payloads/attendee/calendar/, README there): models, client requests, paging, errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from providers.attendee import AttendeeClient
from providers.attendee.calendars import (
    Calendar,
    CalendarEvent,
    CalendarPage,
    CalendarWebhook,
    CreateCalendar,
    EventPage,
)
from providers.attendee.models import CreateBot
from providers.attendee.webhooks import parse_webhook_object
from providers.errors import BadRequest, NotFound
from providers.http import RetryPolicy, Unlimited

CALENDAR = Path(__file__).resolve().parents[2] / "payloads" / "attendee" / "calendar"


def recorded(name: str) -> tuple[int, Any]:
    status = int((CALENDAR / "api" / f"{name}.status").read_text().strip())
    body = (CALENDAR / "api" / f"{name}.json").read_text()
    return status, json.loads(body) if body.strip() else None


def answer(name: str) -> httpx.Response:
    status, _ = recorded(name)
    return httpx.Response(
        status,
        content=(CALENDAR / "api" / f"{name}.json").read_bytes(),
        headers={"Content-Type": "application/json"},
    )


class Recorder:
    """An Attendee that answers each request with the next recorded answer, and keeps what
    it was asked."""

    def __init__(self, *names: str) -> None:
        self.answers = list(names)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return answer(self.answers.pop(0))


def client_for(recorder: Recorder, http: httpx.AsyncClient) -> AttendeeClient:
    return AttendeeClient(
        http,
        api_key="test-key",
        base_url="http://attendee.test",
        limiter=Unlimited(),
        retry=RetryPolicy(attempts=1),
    )


@pytest.fixture
async def http_and_recorder() -> Any:
    recorder = Recorder()
    async with httpx.AsyncClient(transport=httpx.MockTransport(recorder)) as http:
        yield http, recorder


def test_every_recorded_answer_parses() -> None:
    parsed = 0
    for path in sorted((CALENDAR / "api").glob("*.json")):
        status, body = recorded(path.stem)
        if status >= 300 or body is None:
            continue
        if path.stem.startswith("calendars_list"):
            CalendarPage.model_validate(body)
        elif path.stem.startswith("calendar_events"):
            EventPage.model_validate(body)
        elif path.stem.startswith("calendar_"):
            Calendar.model_validate(body)
        else:
            continue
        parsed += 1
    assert parsed >= 20


def test_a_calendar_belongs_to_the_slack_user_its_metadata_names() -> None:
    _, body = recorded("calendar_create_google")
    calendar = Calendar.model_validate(body)
    assert calendar.connected and calendar.owner() is None  # metadata without Slack ids
    mine = calendar.model_copy(
        update={"metadata": {"slack_team_id": "T0TEAM", "slack_user_id": "U0ADA"}}
    )
    assert mine.owner() == ("T0TEAM", "U0ADA")
    _, body = recorded("calendar_get_google_disconnected")
    gone = Calendar.model_validate(body)
    assert not gone.connected
    assert gone.failure is not None and "invalid_grant" in gone.failure


def test_events_tell_organiser_answers_and_invitees_on_both_platforms() -> None:
    _, body = recorded("calendar_events_list_by_calendar")
    events = {e.platform_uuid: e for e in EventPage.model_validate(body).results}
    retro = events["g7yesterdayretro"]
    assert retro.organizer_email == "ada@example.com"
    assert retro.response_of("ada@example.com") == "organizer"
    assert retro.response_of("Grace@Example.com") == "accepted"
    assert retro.response_of("linus@example.org") == "needsAction"
    assert retro.response_of("nobody@example.com") is None
    assert set(retro.emails()) == {"ada@example.com", "grace@example.com", "linus@example.org"}
    _, body = recorded("calendar_events_list_microsoft")
    planning = next(
        e for e in EventPage.model_validate(body).results if e.name == "Quarterly planning"
    )
    assert planning.organizer_email == "ada@contoso.example"
    assert planning.response_of("grace@contoso.example") == "accepted"
    assert planning.response_of("edouard@contoso.example") == "none"


def test_cancelled_events_stay_with_is_deleted() -> None:
    _, body = recorded("calendar_events_updated_after_sync2")
    events = EventPage.model_validate(body).results
    assert any(e.is_deleted for e in events)
    assert all(isinstance(e, CalendarEvent) for e in events)


async def test_changed_events_are_asked_for_with_updated_after(http_and_recorder: Any) -> None:
    http, recorder = http_and_recorder
    recorder.answers.append("calendar_events_updated_after_sync2")
    client = client_for(recorder, http)
    since = datetime(2026, 12, 7, 0, 25, 19, 468334, tzinfo=UTC)
    events = [
        e
        async for e in client.calendars.iter_events(
            calendar_id="cal_afubUkkN7eDpigjE", updated_after=since
        )
    ]
    assert events
    (request,) = recorder.requests
    assert request.url.path == "/api/v1/calendar_events"
    assert request.url.params["calendar_id"] == "cal_afubUkkN7eDpigjE"
    assert request.url.params["updated_after"] == "2026-12-07T00:25:19.468334Z"
    assert request.headers["Authorization"] == "Token test-key"


async def test_paging_follows_next_by_its_query_only(http_and_recorder: Any) -> None:
    _http, recorder = http_and_recorder
    pages = [
        {"next": "https://internal.attendee:9/api/v1/calendars?cursor=abc", "results": []},
        {"next": None, "results": [recorded("calendar_create_google")[1]]},
    ]

    def two_pages(request: httpx.Request) -> httpx.Response:
        recorder.requests.append(request)
        return httpx.Response(200, json=pages[len(recorder.requests) - 1])

    async with httpx.AsyncClient(transport=httpx.MockTransport(two_pages)) as paging:
        client = client_for(recorder, paging)
        found = [c.id async for c in client.calendars.iter_calendars()]
    assert found == ["cal_afubUkkN7eDpigjE"]
    # The API key never follows a next link to another host.
    assert [r.url.host for r in recorder.requests] == ["attendee.test", "attendee.test"]
    assert recorder.requests[1].url.params["cursor"] == "abc"


async def test_creating_a_calendar_sends_only_its_fields(http_and_recorder: Any) -> None:
    http, recorder = http_and_recorder
    recorder.answers.append("calendar_create_google")
    client = client_for(recorder, http)
    calendar = await client.calendars.create(
        CreateCalendar(
            platform="google",
            client_id="cid",
            client_secret="secret",
            refresh_token="refresh",
            deduplication_key="T0TEAM-U0ADA-google",
            metadata={"slack_team_id": "T0TEAM", "slack_user_id": "U0ADA"},
        )
    )
    assert calendar.id == "cal_afubUkkN7eDpigjE"
    sent = json.loads(recorder.requests[0].content)
    assert sent == {
        "platform": "google",
        "client_id": "cid",
        "client_secret": "secret",
        "refresh_token": "refresh",
        "deduplication_key": "T0TEAM-U0ADA-google",
        "metadata": {"slack_team_id": "T0TEAM", "slack_user_id": "U0ADA"},
    }


async def test_refusals_keep_attendees_reason(http_and_recorder: Any) -> None:
    http, recorder = http_and_recorder
    recorder.answers += ["calendar_create_err_duplicate_dedup_key", "calendar_get_err_not_found"]
    client = client_for(recorder, http)
    with pytest.raises(BadRequest, match="deduplication key already exists"):
        await client.calendars.create(
            CreateCalendar(
                platform="google",
                client_id="x",
                client_secret="s",
                refresh_token="r",
                deduplication_key="user-ada-google",
            )
        )
    with pytest.raises(NotFound):
        await client.calendars.get("cal_doesnotexist00000")


def test_a_calendar_bot_takes_link_and_time_from_its_event() -> None:
    bot = CreateBot(bot_name="Debrief", calendar_event_id="evt_1", deduplication_key="k")
    assert "meeting_url" not in bot.to_request() and "join_at" not in bot.to_request()
    with pytest.raises(ValueError, match="neither"):
        CreateBot(bot_name="Debrief", calendar_event_id="evt_1", meeting_url="https://x")
    with pytest.raises(ValueError, match="meeting_url"):
        CreateBot(bot_name="Debrief")


@pytest.mark.parametrize("name", sorted(p.stem for p in (CALENDAR / "webhooks").glob("*.json")))
def test_calendar_webhooks_verify_and_parse(name: str) -> None:
    capture = json.loads((CALENDAR / "webhooks" / f"{name}.json").read_text())
    headers = {k.lower(): v for k, v in capture["headers"].items()}
    envelope, raw = parse_webhook_object(
        capture["raw_body"].encode(), headers["x-webhook-signature"], capture["secret_b64"]
    )
    hook = CalendarWebhook.model_validate(raw)
    assert hook.trigger == envelope.trigger and hook.calendar_id.startswith("cal_")
    if hook.trigger == "calendar.state_change":
        assert hook.state == "disconnected" and hook.failure
    else:
        assert hook.state == "connected" and hook.failure is None
