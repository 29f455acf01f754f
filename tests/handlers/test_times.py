"""Every time a person reads is in their own time zone and format: Slack's date token in mrkdwn
(one helper, ``bot.blockkit``), and the requester's own zone where the text is plain."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.blockkit import slack_day, slack_time
from bot.meetings import ActionItem
from handlers.action_items import blocks as action_blocks
from handlers.action_items.repo import ItemState
from handlers.attendee.blocks import build_recording_blocks, build_status_blocks
from handlers.attendee.jobs import to_meeting
from handlers.attendee.states import describe
from handlers.attendee.tables import AttendeeBot
from handlers.digest.items import ItemView
from handlers.digest.render import item_controls, item_text
from handlers.whereby.blocks import build_room_blocks
from handlers.whereby.tables import WherebyRoom
from providers.attendee import Bot
from providers.attendee.models import Utterance as AttendeeUtterance

#: 00:36 UTC on 7 December: still the 6th in New York, already past 9 AM in Tokyo.
MOMENT = datetime(2026, 12, 7, 0, 36, tzinfo=UTC)
TOKEN = re.compile(r"<!date\^(?P<stamp>\d+)\^(?P<format>[^|>]+)\|(?P<fallback>[^>]+)>")
#: Where readers are: the date of a day token must be that day in each of them.
ZONES = ["Pacific/Pago_Pago", "America/Los_Angeles", "UTC", "Europe/Berlin", "Asia/Tokyo"]


def tokens(text: str) -> list[re.Match[str]]:
    return list(TOKEN.finditer(text))


def texts(node: Any) -> str:
    """Every string a person reads in blocks."""
    if isinstance(node, dict):
        own = [node["text"]] if isinstance(node.get("text"), str) else []
        return "\n".join(own + [texts(v) for v in node.values()])
    if isinstance(node, list):
        return "\n".join(texts(v) for v in node)
    return ""


def test_a_moment_is_a_token_for_its_unix_time_with_a_utc_fallback() -> None:
    shown = slack_time(MOMENT)
    (match,) = tokens(shown)
    assert int(match["stamp"]) == int(MOMENT.timestamp())
    assert match["format"] == "{date_short_pretty} at {time}"
    assert match["fallback"] == "Mon 7 Dec 2026, 00:36 UTC"
    # The same instant in another zone is the same token: the reader's zone decides.
    assert slack_time(MOMENT.astimezone(ZoneInfo("Asia/Tokyo"))) == shown


def test_a_naive_moment_is_read_as_utc() -> None:
    assert slack_time(MOMENT.replace(tzinfo=None)) == slack_time(MOMENT)


@pytest.mark.parametrize("day", [date(2026, 12, 7), date(2026, 2, 28), date(2027, 1, 1)])
def test_a_day_token_shows_that_day_wherever_the_reader_is(day: date) -> None:
    (match,) = tokens(slack_day(day))
    assert match["format"] == "{date_short_pretty}"
    assert match["fallback"] == f"{day:%a} {day.day} {day:%b %Y}"
    for zone in ZONES:
        assert datetime.fromtimestamp(int(match["stamp"]), ZoneInfo(zone)).date() == day, zone


def test_the_recording_link_says_when_it_stops_working_in_the_readers_time() -> None:
    (block,) = build_recording_blocks("https://files.example/rec.mp4", MOMENT)
    text = block["text"]["text"]
    assert slack_time(MOMENT) in text
    assert "00:36 UTC" not in TOKEN.sub("", text), "no bare UTC time outside the token"


def attendee_row(**fields: Any) -> AttendeeBot:
    values: dict[str, Any] = {
        "id": "r1",
        "bot_id": "bot_1",
        "team_id": "T1",
        "channel_id": "C0MEETINGS",
        "user_id": "U0GRACE",
        "meeting_url": "https://zoom.us/j/123456789",
        "dedup_key": "k",
    }
    values.update(fields)
    return AttendeeBot(**values)


def test_a_scheduled_join_is_shown_in_the_readers_time() -> None:
    row = attendee_row(join_at=MOMENT, state="scheduled")
    text = texts(build_status_blocks(row, describe("scheduled")))
    assert slack_time(MOMENT) in text


def test_a_rooms_end_is_shown_in_the_readers_time() -> None:
    row = WherebyRoom(
        id="w1",
        meeting_id="123",
        room_url="https://whereby.example/room",
        title="Stand-up",
        team_id="T1",
        channel_id="C1",
        creator_id="U0ADA",
        end_at=MOMENT,
        status="open",
        participants=0,
    )
    assert slack_time(MOMENT) in texts(build_room_blocks(row))


def test_the_due_date_beside_the_picker_is_the_pickers_day() -> None:
    due = date(2026, 12, 7)
    view = ItemView(item_id=1, assignee="U0ADA", due=due, due_set_by="U0GRACE")
    line = item_text(ActionItem(text="Ship it"), view, "otter")
    (match,) = tokens(line)
    picker = item_controls(1, view)["elements"][1]
    assert date.fromisoformat(picker["initial_date"]) == due
    for zone in ZONES:
        assert datetime.fromtimestamp(int(match["stamp"]), ZoneInfo(zone)).date() == due
    assert "Mon 7 Dec 2026" in match["fallback"]


def item_state(due: date) -> ItemState:
    return ItemState(
        id=1,
        provider="otter",
        meeting_id="m1",
        position=1,
        meeting_title="Design review",
        text="Write the notes",
        provider_assignee=None,
        assignee="U0GRACE",
        suggested=False,
        assigned_by="U0ADA",
        due=due,
        status="open",
        closed_by=None,
        version=1,
        created_at=MOMENT,
    )


@pytest.mark.parametrize("offset", [-2, 3], ids=["overdue", "later"])
def test_app_home_and_the_reminder_show_due_dates_as_tokens(offset: int) -> None:
    today = date(2026, 12, 7)
    due = today + timedelta(days=offset)
    state = item_state(due)
    home = action_blocks.build_home_view(
        today=today,
        own=[state],
        assigned=[],
        links={},
        reminders_on=True,
        reminder_hour=9,
    )
    assert slack_day(due) in texts(home["blocks"])
    _, reminder = action_blocks.build_reminder([state], today, {})
    assert slack_day(due) in texts(reminder)


def test_the_dm_about_a_new_due_date_shows_it_as_a_token() -> None:
    state = item_state(date(2026, 12, 9))
    text, blocks = action_blocks.build_change_dm(
        "due", state, actor="U0ADA", after="2026-12-09", url=None
    )
    assert slack_day(date(2026, 12, 9)) in texts(blocks)
    assert "2026-12-09" not in TOKEN.sub("", texts(blocks)), "never the ISO date"
    assert slack_day(date(2026, 12, 9)) in text, "the notification says it too"


def attendee_meeting(zone: Any) -> str:
    bot = Bot.model_validate(
        {
            "id": "bot_1",
            "meeting_url": "https://zoom.us/j/123456789",
            "state": "ended",
            "events": [
                {"type": "joined_meeting", "created_at": MOMENT.isoformat()},
                {"type": "meeting_ended", "created_at": (MOMENT + timedelta(hours=1)).isoformat()},
            ],
        }
    )
    spoken: list[AttendeeUtterance] = []
    return to_meeting(attendee_row(), bot, spoken, zone).title


def test_the_attendee_digest_title_is_dated_in_the_requesters_time_zone() -> None:
    assert attendee_meeting(ZoneInfo("America/New_York")) == "Zoom meeting 6 Dec 2026"
    assert attendee_meeting(ZoneInfo("Asia/Tokyo")) == "Zoom meeting 7 Dec 2026"
    assert attendee_meeting(UTC) == "Zoom meeting 7 Dec 2026"


def test_the_reminder_hour_reads_in_the_viewers_clock() -> None:
    today = date(2026, 12, 7)
    home = action_blocks.build_home_view(
        today=today,
        own=[],
        assigned=[],
        links={},
        reminders_on=True,
        reminder_hour=9,
        zone=ZoneInfo("America/New_York"),
    )
    (match,) = tokens(texts(home["blocks"]))
    assert int(match["stamp"]) == int(datetime(2026, 12, 7, 14, 0, tzinfo=UTC).timestamp())
    assert match["format"] == "{time}"
    assert match["fallback"] == "9:00 your time"
