"""`/debrief room` arguments and the room name prefix Whereby accepts."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import UserFacingError
from handlers.whereby.naming import (
    DEFAULT_MINUTES,
    MAX_PREFIX,
    channel_name,
    parse_room_args,
    room_prefix,
)
from providers.whereby import CreateMeeting


@pytest.mark.parametrize(
    ("text", "minutes", "name"),
    [
        ("", DEFAULT_MINUTES, None),
        ("30", 30, None),
        ("30m", 30, None),
        ("45 min", 45, None),
        ("2 hours Offsite", 120, "Offsite"),
        ("2h", 120, None),
        ("90 Sprint review", 90, "Sprint review"),
        ("Sprint   review", DEFAULT_MINUTES, "Sprint review"),
        ("1440", 1440, None),
        ("5", 5, None),
    ],
)
def test_minutes_then_a_name(text: str, minutes: int, name: str | None) -> None:
    request = parse_room_args(text)
    assert (request.minutes, request.name) == (minutes, name)


@pytest.mark.parametrize("text", ["0", "4", "1441", "-30", "25h", "3.5", "30x"])
def test_minutes_out_of_bounds_or_unreadable_get_a_clear_message(text: str) -> None:
    with pytest.raises(UserFacingError) as caught:
        parse_room_args(text)
    message = caught.value.message
    assert "/debrief room" in message
    assert ("5 to 1440" in message) or ("not a number of minutes" in message)


@pytest.mark.parametrize(
    ("name", "prefix"),
    [
        ("#eng", "eng"),
        ("Sprint Review!", "sprint-review"),
        ("proj_x.2026", "proj-x-2026"),
        ("---", None),
        ("🎉", None),
        ("a" * 60, "a" * MAX_PREFIX),
        ("ab-" + "c" * 36 + "-d", "ab-" + "c" * 36),
    ],
)
def test_prefix_from_a_name(name: str, prefix: str | None) -> None:
    assert room_prefix(name) == prefix


@given(st.text(max_size=120))
def test_any_prefix_is_one_whereby_accepts(name: str) -> None:
    prefix = room_prefix(name)
    if prefix is None:
        return
    assert len(prefix) <= MAX_PREFIX
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", prefix)
    CreateMeeting.model_validate({"endDate": "2030-01-01T00:00:00Z", "roomNamePrefix": prefix})


def test_channel_names_slack_withholds() -> None:
    assert channel_name("eng") == "eng"
    assert channel_name("privategroup") is None
    assert channel_name("directmessage") is None
    assert channel_name("") is None


def test_a_name_slack_sent_escaped_is_kept_as_typed() -> None:
    # Slack escapes &, < and > in a command's text; the room is named as the person typed it.
    assert parse_room_args("30 R&amp;D &lt;weekly&gt;").name == "R&D <weekly>"
