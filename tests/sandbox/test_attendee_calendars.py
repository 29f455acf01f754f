"""The Attendee stand-in's calendar API, driven over real loopback HTTP by AttendeeClient's
CalendarApi; its webhooks received by a small aiohttp server and verified with
providers.attendee.webhooks; its answers compared with the real server's (recorded under
tests/payloads/attendee/calendar)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from providers.attendee import AttendeeClient, BotState, DuplicateBot, parse_webhook
from providers.attendee.calendars import CalendarApi, CalendarWebhook, CreateCalendar
from providers.errors import BadRequest, NotFound
from sandbox.attendee import AttendeeStandIn
from tests.sandbox.conftest import Received, WebhookReceiver

CAPTURE = Path(__file__).resolve().parents[1] / "payloads" / "attendee" / "calendar"
OWNER = {"slack_team_id": "T0SANDBOX", "slack_user_id": "U0ADA"}


def recorded(name: str) -> tuple[int, Any]:
    """A recorded answer of the real server: (status, body or None when empty)."""
    status = int((CAPTURE / "api" / f"{name}.status").read_text().strip())
    text = (CAPTURE / "api" / f"{name}.json").read_text().strip()
    return status, json.loads(text) if text else None


def recorded_webhook(name: str) -> dict[str, Any]:
    return json.loads((CAPTURE / "webhooks" / f"{name}.json").read_text())["json"]


class Clock:
    """Monday 7 December 2026, 07:00 UTC, until a test moves it."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def calendars(client: AttendeeClient) -> CalendarApi:
    return client.calendars


def _auth(attendee: AttendeeStandIn) -> dict[str, str]:
    return {"Authorization": f"Token {attendee.api_key}"}


def _envelopes(receiver: WebhookReceiver, trigger: str) -> list[dict[str, Any]]:
    return [
        json.loads(r.body)
        for r in receiver.accepted()
        if json.loads(r.body).get("trigger") == trigger
    ]


def _signature(call: Received) -> str | None:
    return {k.lower(): v for k, v in call.headers.items()}.get("x-webhook-signature")


async def _connect(
    calendars: CalendarApi,
    attendee: AttendeeStandIn,
    *,
    key: str = "T0SANDBOX:U0ADA",
    platform: str = "google",
) -> str:
    calendar = await calendars.create(
        CreateCalendar(
            platform=platform,  # type: ignore[arg-type]
            client_id="debrief-client",
            client_secret="debrief-secret",
            refresh_token="refresh-1",
            deduplication_key=key,
            metadata=OWNER,
        )
    )
    await attendee.settle()
    return calendar.id


async def _events(calendars: CalendarApi, calendar_id: str) -> dict[str, Any]:
    """The calendar's events by name (the stand-up: its first occurrence)."""
    found: dict[str, Any] = {}
    async for event in calendars.iter_events(calendar_id=calendar_id):
        found.setdefault(event.name, event)
    return found


# --- a calendar syncs a week, and says so with a signed webhook ----------------------------


async def test_a_new_calendar_syncs_a_week_and_sends_a_signed_events_update(
    calendars: CalendarApi,
    attendee: AttendeeStandIn,
    receiver: WebhookReceiver,
    http: httpx.AsyncClient,
    clock: Clock,
) -> None:
    answer = await http.post(
        f"{attendee.url}/api/v1/calendars",
        json={
            "platform": "google",
            "client_id": "debrief-client",
            "client_secret": "s",
            "refresh_token": "r",
            "metadata": OWNER,
            "deduplication_key": "T0SANDBOX:U0ADA",
        },
        headers=_auth(attendee),
    )
    status, real = recorded("calendar_create_google")
    assert answer.status_code == status == 201
    created = answer.json()
    assert list(created) == list(real)
    # Connected before any sync, as Attendee's answer is; the sync runs after the answer.
    assert created["state"] == "connected"
    assert created["last_successful_sync_at"] is None is created["last_attempted_sync_at"]
    assert created["metadata"] == OWNER

    await attendee.settle()
    (call,) = receiver.accepted()
    envelope = parse_webhook(call.body, _signature(call), attendee.webhook_secret)
    assert envelope.trigger == "calendar.events_update"
    body = json.loads(call.body)
    capture = recorded_webhook("01_calendar-events_update")
    assert list(body) == list(capture)
    assert list(body["data"]) == list(capture["data"])
    assert call.body == json.dumps(body).encode()
    headers = {k.lower(): v for k, v in call.headers.items()}
    assert headers["user-agent"] == "Attendee-Webhook/1.0"
    webhook = CalendarWebhook.model_validate(body)
    assert webhook.calendar_id == created["id"] and webhook.state == "connected"
    assert webhook.calendar_metadata == OWNER
    assert webhook.calendar_deduplication_key == "T0SANDBOX:U0ADA"

    after = await calendars.get(created["id"])
    assert after.last_successful_sync_at == clock.now

    events = [e async for e in calendars.iter_events(calendar_id=created["id"])]
    _, real_events = recorded("calendar_events_by_event_id")
    listed = attendee.calendars.events(created["id"])
    assert {tuple(e) for e in listed} == {tuple(real_events["results"][0])}
    assert {tuple(a) for e in listed for a in e["attendees"]} == {("name", "email")}

    by_name = {e.name: e for e in events}
    standups = [e for e in events if e.name == "Daily stand-up"]
    # Monday 7 December: Mon-Fri of the week ahead, one series, a Meet link.
    assert len(standups) == 5 and len({e.series for e in standups}) == 1
    assert all(e.meeting_url and "meet.google.com" in e.meeting_url for e in standups)
    assert standups[0].organizer_email == "grace@example.com"
    assert standups[0].response_of("ada@example.com") == "accepted"
    assert by_name["Team lunch"].meeting_url is None
    offsite = by_name["Company offsite"]
    assert offsite.raw is not None and "date" in offsite.raw["start"]
    assert offsite.start_time.time() == datetime.min.time()
    teams = by_name["Contoso vendor sync"]
    assert teams.meeting_url is not None and "teams.microsoft.com" in teams.meeting_url
    assert teams.response_of("ada@example.com") == "tentative"
    customer = by_name["Northwind pilot kickoff"]
    assert any(email.endswith("@northwind.example") for email in customer.emails())
    assert customer.response_of("ada@example.com") == "organizer"
    assert "zoom.us" in (customer.meeting_url or "")
    past = by_name["Roadmap planning"]
    assert past.start_time < clock.now and past.start_time.date() == clock.now.date()
    assert by_name["Design review: calendar autopilot"].start_time > clock.now
    assert all(clock.now - timedelta(days=1) < e.start_time for e in events)
    assert max(e.start_time for e in events) < clock.now + timedelta(days=7)

    # Nothing changed: a sync sends nothing.
    result = attendee.calendars.sync(created["id"])
    await attendee.settle()
    assert not result.changed and len(receiver.accepted()) == 1


async def test_a_microsoft_calendar_has_graph_shaped_events(
    calendars: CalendarApi, attendee: AttendeeStandIn
) -> None:
    calendar_id = await _connect(calendars, attendee, platform="microsoft")
    events = await _events(calendars, calendar_id)
    teams = events["Contoso vendor sync"]
    assert teams.raw is not None and teams.raw["onlineMeeting"] == {"joinUrl": teams.meeting_url}
    assert teams.organizer_email == "sam.carter@contoso.example"
    assert teams.response_of("ada@example.com") == "tentativelyAccepted"
    _, real = recorded("calendar_events_list_microsoft")
    assert set(real["results"][0]["raw"]) <= set(teams.raw) | {"body"}

    attendee.calendars.cancel_event(teams.id)
    cancelled = await calendars.get_event(teams.id)
    assert cancelled is not None and cancelled.is_deleted
    assert cancelled.name == "Canceled: Contoso vendor sync"
    assert cancelled.raw is not None and cancelled.raw["isCancelled"] is True


# --- listing, paging, filters ---------------------------------------------------------------


async def test_paging_and_filters(
    calendars: CalendarApi,
    attendee: AttendeeStandIn,
    http: httpx.AsyncClient,
    clock: Clock,
) -> None:
    ids = []
    for n in range(26):
        ids.append(await _connect(calendars, attendee, key=f"user-{n}"))
        clock.now += timedelta(microseconds=1)
    # Pages of 25, newest first.
    listed = [c.id async for c in calendars.iter_calendars()]
    assert listed == ids[::-1]
    page = (await http.get(f"{attendee.url}/api/v1/calendars", headers=_auth(attendee))).json()
    assert len(page["results"]) == 25 and page["next"] and page["previous"] is None
    _, real_page = recorded("calendars_list")
    assert list(page) == list(real_page)
    assert [c.id async for c in calendars.iter_calendars(deduplication_key="user-3")] == [ids[3]]

    # Events: cursor pages of 100, every event once.
    everything = [e.id async for e in calendars.iter_events()]
    assert len(everything) == len(set(everything)) == 26 * len(attendee.calendars.events(ids[0]))
    assert len(everything) > 200
    first = (
        await http.get(f"{attendee.url}/api/v1/calendar_events", headers=_auth(attendee))
    ).json()
    assert len(first["results"]) == 100 and first["next"]

    mine = [e async for e in calendars.iter_events(calendar_id=ids[0])]
    assert {e.calendar_id for e in mine} == {ids[0]}
    assert [e.start_time for e in mine] == sorted(e.start_time for e in mine)
    by_key = await http.get(
        f"{attendee.url}/api/v1/calendar_events",
        params={"calendar_deduplication_key": "user-0", "ordering": "start_time"},
        headers=_auth(attendee),
    )
    assert [e["id"] for e in by_key.json()["results"]] == [e.id for e in mine]

    one = await calendars.get_event(mine[3].id)
    assert one is not None and one.id == mine[3].id
    start, end = mine[2].start_time, mine[5].end_time
    window = [
        e.id
        async for e in calendars.iter_events(
            calendar_id=ids[0], start_time_gte=start, end_time_lte=end
        )
    ]
    assert window and set(window) == {
        e.id for e in mine if e.start_time >= start and e.end_time <= end
    }

    # After a change, updated_after finds just what changed (and so does its newer name).
    mark = clock.now = clock.now + timedelta(minutes=1)
    attendee.calendars.move_event(mine[4].id)
    changed = [e.id async for e in calendars.iter_events(calendar_id=ids[0], updated_after=mark)]
    assert changed == [mine[4].id]
    gte = await http.get(
        f"{attendee.url}/api/v1/calendar_events",
        params={"calendar_id": ids[0], "updated_at_gte": mark.isoformat()},
        headers=_auth(attendee),
    )
    assert [e["id"] for e in gte.json()["results"]] == changed

    for name, query in (
        ("calendar_events_err_bad_updated_after", {"updated_after": "yesterday"}),
        ("calendar_events_err_bad_ordering", {"ordering": "name"}),
    ):
        status, body = recorded(name)
        answer = await http.get(
            f"{attendee.url}/api/v1/calendar_events", params=query, headers=_auth(attendee)
        )
        assert (answer.status_code, answer.json()) == (status, body)
    status, body = recorded("calendar_event_get_by_path")
    answer = await http.get(
        f"{attendee.url}/api/v1/calendar_events/{mine[0].id}", headers=_auth(attendee)
    )
    assert (answer.status_code, answer.json()) == (status, body)
    answer = await http.get(
        f"{attendee.url}/api/v1/calendar_events?cursor=nope", headers=_auth(attendee)
    )
    assert (answer.status_code, answer.json()) == (404, {"detail": "Invalid cursor"})


# --- refusals as Attendee words them ---------------------------------------------------------


async def test_refusals_are_the_real_ones(
    calendars: CalendarApi, attendee: AttendeeStandIn, http: httpx.AsyncClient
) -> None:
    await http.post(
        f"{attendee.url}/api/v1/calendars",
        json={
            "platform": "google",
            "client_id": "a",
            "client_secret": "s",
            "refresh_token": "r",
            "deduplication_key": "user-ada-google",
        },
        headers=_auth(attendee),
    )
    calendar_id = attendee.calendars.control_state()[0]["id"]
    missing = "cal_doesnotexist00000"
    cases: list[tuple[str, str, str, Any, bool]] = [
        (
            "calendar_create_err_duplicate_dedup_key",
            "POST",
            "calendars",
            {
                "platform": "google",
                "client_id": "x.apps.googleusercontent.com",
                "client_secret": "s",
                "refresh_token": "r",
                "deduplication_key": "user-ada-google",
            },
            True,
        ),
        (
            "calendar_create_err_unknown_field",
            "POST",
            "calendars",
            {
                "platform": "google",
                "client_id": "x",
                "client_secret": "s",
                "refresh_token": "r",
                "name": "Ada",
            },
            True,
        ),
        ("calendar_create_err_missing_fields", "POST", "calendars", {"platform": "google"}, True),
        (
            "calendar_create_err_bad_platform",
            "POST",
            "calendars",
            {"platform": "zoom", "client_id": "x", "client_secret": "s", "refresh_token": "r"},
            True,
        ),
        ("calendar_create_err_no_auth", "POST", "calendars", {"platform": "google"}, False),
        ("calendar_get_err_not_found", "GET", f"calendars/{missing}", None, True),
        (
            "calendar_patch_err_unknown_field",
            "PATCH",
            f"calendars/{calendar_id}",
            {"platform": "microsoft"},
            True,
        ),
        ("calendar_patch_err_not_found", "PATCH", f"calendars/{missing}", {"metadata": {}}, True),
    ]
    for name, method, path, body, authorised in cases:
        status, real = recorded(name)
        answer = await http.request(
            method,
            f"{attendee.url}/api/v1/{path}",
            json=body,
            headers=_auth(attendee) if authorised else {},
        )
        assert (answer.status_code, answer.json()) == (status, real), name
    with pytest.raises(BadRequest, match="already exists"):
        await calendars.create(
            CreateCalendar(
                platform="google",
                client_id="x",
                client_secret="s",
                refresh_token="r",
                deduplication_key="user-ada-google",
            )
        )

    await calendars.delete(calendar_id)
    for name in ("calendar_get_after_delete", "calendar_delete_again"):
        status, real = recorded(name)
        method = "GET" if "get" in name else "DELETE"
        answer = await http.request(
            method, f"{attendee.url}/api/v1/calendars/{calendar_id}", headers=_auth(attendee)
        )
        assert (answer.status_code, answer.json()) == (status, real), name


# --- bots made from events --------------------------------------------------------------------


async def test_bots_from_events_take_link_and_start_and_are_refused_as_attendee_refuses(
    client: AttendeeClient,
    calendars: CalendarApi,
    attendee: AttendeeStandIn,
    http: httpx.AsyncClient,
) -> None:
    calendar_id = await _connect(calendars, attendee)
    events = await _events(calendars, calendar_id)
    review = events["Design review: calendar autopilot"]

    answer = await http.post(
        f"{attendee.url}/api/v1/bots",
        json={
            "calendar_event_id": review.id,
            "bot_name": "Notetaker",
            "deduplication_key": f"event:{review.id}",
            "metadata": {"calendar_event_id": review.id, "user_id": "U0ADA"},
        },
        headers=_auth(attendee),
    )
    status, real = recorded("bot_create_from_event_with_dedup")
    assert answer.status_code == status
    made = answer.json()
    assert list(made) == list(real)
    assert made["state"] == "scheduled" and made["meeting_url"] == review.meeting_url
    assert made["join_at"] == review.start_time.isoformat().replace("+00:00", "Z")

    with pytest.raises(DuplicateBot):
        await client.create_bot(
            calendar_event_id=review.id, bot_name="x", deduplication_key=f"event:{review.id}"
        )
    listed = await calendars.get_event(review.id)
    assert listed is not None and [b.id for b in listed.bots] == [made["id"]]
    _, real_event = recorded("calendar_events_by_event_id_with_bots")
    shown = attendee.calendars.event(review.id)["bots"][0]
    assert list(shown) == list(real_event["results"][0]["bots"][0])
    assert list(shown["metadata"]) == ["user_id", "calendar_event_id"]  # jsonb order

    refusals = [
        (events["Roadmap planning"].id, {}, "bot_create_from_event_err_past_event"),
        (events["Team lunch"].id, {}, "bot_create_from_event_err_no_meeting_url"),
        (
            review.id,
            {"meeting_url": review.meeting_url},
            "bot_create_from_event_err_with_meeting_url",
        ),
        (review.id, {"join_at": "2026-12-08T09:00:00Z"}, "bot_create_from_event_err_with_join_at"),
        ("evt_doesnotexist0000", {}, "bot_create_from_event_err_unknown_event"),
    ]
    for event_id, extra, name in refusals:
        status, real = recorded(name)
        answer = await http.post(
            f"{attendee.url}/api/v1/bots",
            json={"calendar_event_id": event_id, "bot_name": "Notetaker", **extra},
            headers=_auth(attendee),
        )
        assert (answer.status_code, answer.json()) == (status, real), name
    with pytest.raises(BadRequest, match="join_at cannot be in the past"):
        await client.create_bot(calendar_event_id=events["Roadmap planning"].id, bot_name="x")


async def test_a_reschedule_moves_the_scheduled_bot_and_a_cancellation_deletes_it(
    client: AttendeeClient,
    calendars: CalendarApi,
    attendee: AttendeeStandIn,
    receiver: WebhookReceiver,
) -> None:
    calendar_id = await _connect(calendars, attendee)
    events = await _events(calendars, calendar_id)
    customer, teams = events["Northwind pilot kickoff"], events["Contoso vendor sync"]
    scheduled = await client.create_bot(calendar_event_id=customer.id, bot_name="Notetaker")
    launched = await client.create_bot(calendar_event_id=teams.id, bot_name="Notetaker")
    attendee.join(launched.id)
    await attendee.settle()
    updates_before = len(_envelopes(receiver, "calendar.events_update"))

    attendee.calendars.move_event(customer.id)
    attendee.calendars.move_event(teams.id)
    moved = await client.get_bot(scheduled.id)
    assert moved.join_at == customer.start_time + timedelta(minutes=30)
    moved_event = await calendars.get_event(customer.id)
    assert moved_event is not None and moved_event.start_time == moved.join_at
    assert moved_event.updated_at is not None and customer.updated_at is not None
    assert moved_event.updated_at >= customer.updated_at
    # A bot already in its meeting stays where it is.
    assert (await client.get_bot(launched.id)).state is BotState.JOINED_RECORDING
    await attendee.settle()
    updates = _envelopes(receiver, "calendar.events_update")
    assert len(updates) == updates_before + 2  # once per sync that changed something

    attendee.calendars.cancel_event(customer.id)
    with pytest.raises(NotFound):
        await client.get_bot(scheduled.id)
    cancelled = await calendars.get_event(customer.id)
    assert cancelled is not None and cancelled.is_deleted and cancelled.bots == []
    await attendee.settle()
    assert len(_envelopes(receiver, "calendar.events_update")) == updates_before + 3

    # A bot for a cancelled event is still made, as Attendee makes it (is_deleted unchecked).
    again = await client.create_bot(calendar_event_id=customer.id, bot_name="Notetaker")
    assert again.state is BotState.SCHEDULED

    # An event that vanishes from the platform is marked deleted, and its bot deleted too.
    lunch_added, _ = attendee.calendars.add_event(
        calendar_id, title="Ad-hoc", attendees=["grace@example.com"]
    )
    added = next(
        e for e in attendee.calendars.events(calendar_id) if e["platform_uuid"] == lunch_added
    )
    assert added["attendees"][1]["email"] == "grace@example.com"
    bot = await client.create_bot(calendar_event_id=added["id"], bot_name="Notetaker")
    attendee.calendars.delete_event(added["id"])
    assert attendee.calendars.event(added["id"])["is_deleted"] is True
    with pytest.raises(NotFound):
        await client.get_bot(bot.id)

    # Moved beyond the sync window, an event is fetched by itself: moved, not deleted.
    lunch = events["Team lunch"]
    result = attendee.calendars.move_event(lunch.id, minutes=40 * 24 * 60)
    assert result is not None and (result.updated, result.deleted) == (1, 0)
    far = await calendars.get_event(lunch.id)
    assert far is not None and not far.is_deleted
    assert far.start_time == lunch.start_time + timedelta(days=40)

    # An event added without a link gets no bot: Attendee's 400.
    uid, _ = attendee.calendars.add_event(calendar_id, title="Walk", link=None)
    walk = next(e for e in attendee.calendars.events(calendar_id) if e["platform_uuid"] == uid)
    with pytest.raises(BadRequest, match="meeting_url: This field may not be null"):
        await client.create_bot(calendar_event_id=walk["id"], bot_name="Notetaker")


@pytest.mark.parametrize("options", [{"auto_join": True}])
async def test_a_calendar_bot_joins_at_its_event_s_new_time(
    client: AttendeeClient, calendars: CalendarApi, attendee: AttendeeStandIn, clock: Clock
) -> None:
    calendar_id = await _connect(calendars, attendee)
    start = clock.now + timedelta(milliseconds=50)
    uid, _ = attendee.calendars.add_event(calendar_id, title="Soon", start=start)
    event = next(e for e in attendee.calendars.events(calendar_id) if e["platform_uuid"] == uid)
    bot = await client.create_bot(calendar_event_id=event["id"], bot_name="Notetaker")
    attendee.calendars.move_event(event["id"], minutes=0.005)  # 300 ms later

    clock.now += timedelta(milliseconds=100)  # the old time has come and gone
    with pytest.raises(TimeoutError):
        await attendee.settle(within=0.15)
    assert (await client.get_bot(bot.id)).state is BotState.SCHEDULED
    clock.now = start + timedelta(milliseconds=300)
    await attendee.settle()
    assert (await client.get_bot(bot.id)).state is BotState.JOINED_RECORDING


# --- a revoked token disconnects the calendar; a new one reconnects it ------------------------


async def test_a_revoked_token_disconnects_the_calendar_and_a_new_one_reconnects_it(
    client: AttendeeClient,
    calendars: CalendarApi,
    attendee: AttendeeStandIn,
    receiver: WebhookReceiver,
    clock: Clock,
) -> None:
    calendar_id = await _connect(calendars, attendee)
    events = await _events(calendars, calendar_id)
    bot = await client.create_bot(
        calendar_event_id=events["Northwind pilot kickoff"].id, bot_name="Notetaker"
    )
    clock.now += timedelta(minutes=5)

    result = attendee.calendars.revoke_token(calendar_id)
    assert result is not None and "invalid_grant" in (result.error or "")
    await attendee.settle()
    (call,) = [
        r for r in receiver.accepted() if json.loads(r.body)["trigger"] == "calendar.state_change"
    ]
    parse_webhook(call.body, _signature(call), attendee.webhook_secret)
    body = json.loads(call.body)
    capture = recorded_webhook("05_calendar-state_change")
    assert list(body) == list(capture)
    assert list(body["data"]) == list(capture["data"])
    assert list(body["data"]["connection_failure_data"]) == ["error", "timestamp"]
    webhook = CalendarWebhook.model_validate(body)
    assert (
        webhook.state == "disconnected"
        and webhook.failure == capture["data"]["connection_failure_data"]["error"]
    )
    disconnected = await calendars.get(calendar_id)
    _, real = recorded("calendar_get_google_disconnected")
    assert list(attendee.calendars.calendar(calendar_id)) == list(real)
    assert disconnected.state == "disconnected" and disconnected.failure
    # Attendee does not touch the sync times when authentication fails.
    assert disconnected.last_attempted_sync_at == clock.now - timedelta(minutes=5)
    with pytest.raises(NotFound):
        await client.get_bot(bot.id)

    # Disconnected calendars are not synced: changes wait.
    sent = len(receiver.accepted())
    assert attendee.calendars.move_event(events["Team lunch"].id) is None
    await attendee.settle()
    assert len(receiver.accepted()) == sent

    # A PATCH keeps the state in its answer; the sync it starts reconnects silently, and the
    # change made meanwhile arrives as an events_update.
    patched = await calendars.update(calendar_id, refresh_token="refresh-2")
    assert patched.state == "disconnected"
    await attendee.settle()
    assert (await calendars.get(calendar_id)).state == "connected"
    assert [json.loads(r.body)["trigger"] for r in receiver.accepted()[sent:]] == [
        "calendar.events_update"
    ]

    # The sandbox's reconnect (a new token, then a sync) after another revocation.
    attendee.calendars.revoke_token(calendar_id)
    assert attendee.calendars.calendar(calendar_id)["state"] == "disconnected"
    attendee.calendars.reconnect(calendar_id)
    assert attendee.calendars.calendar(calendar_id)["state"] == "connected"
    assert attendee.calendars.calendar(calendar_id)["connection_failure_data"] is None


async def test_deleting_a_calendar_deletes_its_scheduled_bots(
    client: AttendeeClient, calendars: CalendarApi, attendee: AttendeeStandIn
) -> None:
    calendar_id = await _connect(calendars, attendee)
    events = await _events(calendars, calendar_id)
    bot = await client.create_bot(calendar_event_id=events["Daily stand-up"].id, bot_name="x")
    other = await client.create_bot(
        meeting_url="https://meet.google.com/abc-defg-hij", bot_name="x"
    )
    await calendars.delete(calendar_id)
    with pytest.raises(NotFound):
        await client.get_bot(bot.id)
    assert (await client.get_bot(other.id)).id == other.id
    assert [e async for e in calendars.iter_events()] == []


# --- the sandbox page's controls ----------------------------------------------------------------


async def test_control_endpoints(
    client: AttendeeClient,
    calendars: CalendarApi,
    attendee: AttendeeStandIn,
    http: httpx.AsyncClient,
) -> None:
    calendar_id = await _connect(calendars, attendee)
    events = await _events(calendars, calendar_id)
    review = events["Design review: calendar autopilot"]
    bot = await client.create_bot(calendar_event_id=review.id, bot_name="Notetaker")
    lock = attendee.lock.headers()
    base = f"{attendee.url}/_sandbox/attendee"

    state = (await http.get(base, headers=lock)).json()
    (shown,) = state["calendars"]
    assert shown["id"] == calendar_id and shown["state"] == "connected"
    row = next(e for e in shown["events"] if e["id"] == review.id)
    assert row["bots"] == [{"id": bot.id, "state": "scheduled"}]
    customer = next(e for e in shown["events"] if e["name"] == "Northwind pilot kickoff")
    assert customer["external"] == ["dana.scully@northwind.example", "lee.adama@northwind.example"]

    moved = await http.post(f"{base}/calendar_events/{review.id}/move", json={}, headers=lock)
    assert moved.json()["sync"]["updated_count"] == 1
    assert (await client.get_bot(bot.id)).join_at == review.start_time + timedelta(minutes=30)
    cancelled = await http.post(f"{base}/calendar_events/{review.id}/cancel", json={}, headers=lock)
    assert cancelled.status_code == 200
    with pytest.raises(NotFound):
        await client.get_bot(bot.id)
    added = await http.post(
        f"{base}/calendars/{calendar_id}/add_event", json={"title": "Hallway chat"}, headers=lock
    )
    assert added.json()["sync"]["created_count"] == 1
    assert "Hallway chat" in await _events(calendars, calendar_id)
    revoked = await http.post(f"{base}/calendars/{calendar_id}/revoke", json={}, headers=lock)
    assert revoked.json()["sync"]["error"]
    assert (await calendars.get(calendar_id)).state == "disconnected"
    again = await http.post(f"{base}/calendars/{calendar_id}/reconnect", json={}, headers=lock)
    assert again.json()["sync"]["error"] is None
    assert (await calendars.get(calendar_id)).state == "connected"

    unknown = await http.post(f"{base}/calendars/cal_nope/sync", json={}, headers=lock)
    assert unknown.status_code == 404
    bad = await http.post(f"{base}/calendars/{calendar_id}/explode", json={}, headers=lock)
    assert bad.status_code == 404
