"""Property tests of the `/debrief` command parser: any text is a parsed request or a sentence
for the person who typed it (UserFacingError), never another exception; and through the app,
any command text is answered 200 within Slack's three seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.errors import UserFacingError
from bot.urls import PLATFORM_NAMES, MeetingId
from handlers.attendee.parsing import (
    clean_url,
    deduplication_key,
    meeting_link,
    parse_join,
    parse_when,
)
from handlers.commands import split, usage_reply
from handlers.wiring import Subcommands
from sandbox.world import World

FUZZ = settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
THROUGH_APP = settings(
    max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)

words = st.sampled_from(
    ["join", "JOIN", "bots", "leave", "help", "at", "in", "tomorrow", "today", "pm", "am"]
)
urls = st.sampled_from(
    [
        "https://zoom.us/j/123456789",
        "<https://us05web.zoom.us/j/84315220467?pwd=abc|zoom>",
        "https://meet.google.com/abc-defg-hij",
        "https://teams.microsoft.com/l/meetup-join/19:x@thread.v2/0",
        "https://127.0.0.1/j/1",
        "http://[::1]/j/1",
        "https://zoom.us.evil.example/j/1",
        "javascript:alert(1)",
        "<!channel>",
    ]
)
times = st.sampled_from(
    [
        "14:30",
        "2pm",
        "12am",
        "13pm",
        "tomorrow 9:00",
        "in 15 minutes",
        "in 9999 hours",
        "2026-11-23 09:00",
        "2026-11-23T09:00:00Z",
        "25:61",
    ]
)
command_text = st.lists(words | urls | times | st.text(max_size=20), max_size=6).map(
    " ".join
) | st.text(max_size=200)
zones = st.sampled_from([UTC, ZoneInfo("Europe/London"), ZoneInfo("Pacific/Kiritimati")])


def subcommands() -> Subcommands:
    commands = Subcommands()

    async def noop(ctx: object) -> str:
        return ""

    for name in ("help", "join", "bots", "leave"):
        commands.add(name, name, name, noop)
    return commands


@FUZZ
@given(text=command_text)
def test_split_never_fails_and_finds_the_first_word(text: str) -> None:
    word, rest = split(text)
    assert word == word.lower() and not any(c.isspace() for c in word)
    assert (word == "") == (text.strip() == "")
    if word:
        assert text.strip().lower().startswith(word)
        assert rest == rest.strip() or rest == text.strip().split(maxsplit=1)[1]


@FUZZ
@given(word=st.text(max_size=60))
def test_the_usage_line_answers_any_unknown_word(word: str) -> None:
    reply = usage_reply(subcommands(), word)
    assert isinstance(reply, str) and "/debrief help" in reply


@FUZZ
@given(text=command_text)
def test_join_is_parsed_or_explained(text: str) -> None:
    try:
        request = parse_join(text)
    except UserFacingError as refusal:
        assert refusal.message
        return
    assert request.link.url.startswith("https://")
    assert request.link.platform in ("Zoom", "Google Meet", "Microsoft Teams")


@FUZZ
@given(text=st.text(max_size=200) | urls)
def test_only_meeting_hosts_are_accepted(text: str) -> None:
    assert isinstance(clean_url(text), str)
    try:
        link = meeting_link(text)
    except UserFacingError:
        return
    assert link.host.endswith(
        ("zoom.us", "zoomgov.com", "meet.google.com", "teams.microsoft.com", "teams.live.com")
    )


@FUZZ
@given(text=times | st.text(max_size=40), zone=zones)
def test_a_join_time_is_in_the_next_90_days_or_explained(text: str, zone: ZoneInfo) -> None:
    try:
        when = parse_when(text, NOW, zone)
    except UserFacingError as refusal:
        assert refusal.message
        return
    assert NOW < when <= NOW + timedelta(days=90)


@FUZZ
@given(
    team=st.text(max_size=12),
    channel=st.text(max_size=12),
    meeting=st.builds(MeetingId, st.sampled_from(sorted(PLATFORM_NAMES)), st.text(max_size=300)),
)
def test_the_deduplication_key_is_stable_and_bounded(
    team: str, channel: str, meeting: MeetingId
) -> None:
    key = deduplication_key(team, channel, meeting, None)
    assert key == deduplication_key(team, channel, meeting, None)
    assert key.startswith("debrief-") and len(key) <= 128


@THROUGH_APP
@given(text=command_text)
def test_any_command_text_is_answered_in_time(
    background_world: tuple[Any, World], text: str
) -> None:
    background, world = background_world
    delivery = background.run(
        world.slack.command(world.app_url, "/debrief", text, user_id="U0ADA", channel_id="C0ENG")
    )
    assert delivery.status == 200, delivery.body
    assert not delivery.late and delivery.error is None, delivery
