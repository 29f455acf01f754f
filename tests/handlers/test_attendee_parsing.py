"""Reading `/debrief join …`: meeting links, times, and the deduplication key."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.errors import UserFacingError
from handlers.attendee.parsing import (
    When,
    deduplication_key,
    meeting_link,
    parse_join,
    parse_when,
)
from handlers.attendee.states import describe

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)  # a Sunday, 15:00 UTC
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("text", "platform"),
    [
        ("https://us05web.zoom.us/j/84315220467?pwd=abc", "Zoom"),
        ("<https://zoom.us/j/123456789>", "Zoom"),
        ("<https://zoom.us/j/123456789|zoom.us/j/123456789>", "Zoom"),
        ("https://meet.google.com/abc-defg-hij", "Google Meet"),
        (
            "https://teams.microsoft.com/l/meetup-join/19:meeting_x@thread.v2/0?context=%7B%7D",
            "Microsoft Teams",
        ),
        ("https://teams.live.com/meet/9312345", "Microsoft Teams"),
    ],
)
def test_meeting_links_of_the_three_platforms(text: str, platform: str) -> None:
    assert meeting_link(text).platform == platform


@pytest.mark.parametrize(
    "text",
    [
        "zoom.us/j/1",
        "https://example.com/j/1",
        "https://zoom.us/",
        "ftp://zoom.us/j/1",
        "https://meet.google.com/lookup",
        "https://evilzoom.us/j/123",
        "javascript:alert(1)",
    ],
)
def test_anything_else_is_refused_with_a_reason(text: str) -> None:
    with pytest.raises(UserFacingError) as caught:
        meeting_link(text)
    assert "Zoom" in caught.value.message


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        ("16:30", LONDON, datetime(2026, 11, 22, 16, 30, tzinfo=UTC)),
        ("14:30", LONDON, datetime(2026, 11, 23, 14, 30, tzinfo=UTC)),  # passed: tomorrow
        ("2pm", NEW_YORK, datetime(2026, 11, 22, 19, 0, tzinfo=UTC)),
        ("tomorrow 9:00", NEW_YORK, datetime(2026, 11, 23, 14, 0, tzinfo=UTC)),
        ("2026-11-24 09:00", LONDON, datetime(2026, 11, 24, 9, 0, tzinfo=UTC)),
        ("2026-11-24T09:00Z", NEW_YORK, datetime(2026, 11, 24, 9, 0, tzinfo=UTC)),
        ("in 15 minutes", NEW_YORK, datetime(2026, 11, 22, 15, 15, tzinfo=UTC)),
        ("in 2h", LONDON, datetime(2026, 11, 22, 17, 0, tzinfo=UTC)),
    ],
)
def test_join_times_are_read_in_the_requesters_zone(
    text: str, zone: ZoneInfo, expected: datetime
) -> None:
    assert parse_when(text, NOW, zone) == expected


@pytest.mark.parametrize(
    "text", ["yesterday", "25:00", "13pm", "today 09:00", "2025-01-01 10:00", "in 9999 hours", ""]
)
def test_unreadable_or_past_times_are_refused(text: str) -> None:
    with pytest.raises(UserFacingError):
        parse_when(text, NOW, LONDON)


def test_parse_join_splits_url_and_time() -> None:
    request = parse_join("https://zoom.us/j/1234 at 16:00")
    assert request.link.url == "https://zoom.us/j/1234"
    assert request.when is not None and request.when.text == "16:00"
    with pytest.raises(UserFacingError, match="Usage"):
        parse_join("")
    with pytest.raises(UserFacingError, match="did not understand"):
        parse_join("https://zoom.us/j/1234 tomorrow")


@pytest.mark.parametrize(
    ("args", "when", "title"),
    [
        ('https://zoom.us/j/1234 as "Weekly sync"', None, "Weekly sync"),
        ("https://zoom.us/j/1234 at 16:00 as “Board review”", "16:00", "Board review"),
        (
            "https://zoom.us/j/1234 at tomorrow 9:00 AS Plans &amp; bets",
            "tomorrow 9:00",
            "Plans & bets",
        ),
        ('https://zoom.us/j/1234 as "Sync as usual"', None, "Sync as usual"),
        ("https://zoom.us/j/1234 at 16:00", "16:00", None),
    ],
)
def test_parse_join_reads_the_title_given_with_as(
    args: str, when: str | None, title: str | None
) -> None:
    request = parse_join(args)
    assert request.link.url == "https://zoom.us/j/1234"
    assert (request.when.text if request.when else None) == when
    assert request.title == title


def test_a_missing_or_overlong_title_gets_a_usage_line() -> None:
    with pytest.raises(UserFacingError, match="title after `as`"):
        parse_join('https://zoom.us/j/1234 as ""')
    with pytest.raises(UserFacingError, match="too long"):
        parse_join("https://zoom.us/j/1234 as " + "x" * 200)


def test_the_same_request_gets_the_same_key_and_others_do_not() -> None:
    def key(team: str, channel: str, url: str, when: str | None = None) -> str:
        meeting = meeting_link(url).meeting
        return deduplication_key(team, channel, meeting, When(when) if when else None)

    first = key("T1", "C1", "https://zoom.us/j/1234")
    assert first == key("T1", "C1", "https://zoom.us/j/1234")
    assert first == key("T1", "C1", "https://us02web.zoom.us/j/1234?pwd=other#success")
    assert first != key("T1", "C2", "https://zoom.us/j/1234")
    assert first != key("T2", "C1", "https://zoom.us/j/1234")
    assert first != key("T1", "C1", "https://zoom.us/j/9999")
    assert first != key("T1", "C1", "https://zoom.us/j/1234", "16:00")
    assert first != key("T1", "C1", "https://zoomgov.com/j/1234")
    assert len(first) <= 64


def test_join_failures_are_explained() -> None:
    status = describe(
        "fatal_error", "could_not_join_meeting", "meeting_not_started_waiting_for_host"
    )
    assert not status.active and "host" in status.headline
    assert "waiting room" in describe("waiting_room").headline
    assert "denied" in describe("joined_recording_permission_denied").headline
    assert describe("some_future_state").headline.endswith("some future state")


def test_usage_placeholders_are_escaped_but_links_and_mentions_are_not() -> None:
    from handlers.commands import escape_placeholders

    text = (
        "Usage: `/debrief join <meeting-url> [at <time>]` — <@U0ADA> <#C0GENERAL> <https://x.y|x>"
    )
    assert escape_placeholders(text) == (
        "Usage: `/debrief join &lt;meeting-url&gt; [at &lt;time&gt;]` — <@U0ADA> <#C0GENERAL> "
        "<https://x.y|x>"
    )
