"""Meeting hosts that are, or resolve to, private addresses are refused."""

from __future__ import annotations

import pytest

from bot.urls import MeetingId, host_is_public, meeting_id


def resolver(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    async def resolve(host: str) -> list[str]:
        return table.get(host, [])

    return resolve


@pytest.mark.parametrize(
    ("host", "public"),
    [
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("192.168.0.5", False),
        ("169.254.169.254", False),
        ("[::1]", False),
        ("::ffff:127.0.0.1", False),
        ("localhost", False),
        ("db.internal", False),
        ("8.8.8.8", True),
        ("zoom.us", True),
        ("sneaky.example", False),
        ("unresolvable.example", True),
    ],
)
async def test_private_hosts_are_refused(host: str, public: bool) -> None:
    table = {"zoom.us": ["170.114.52.2"], "sneaky.example": ["203.0.113.9", "10.0.0.8"]}
    assert await host_is_public(host, resolver(table)) is public


ZOOM_123 = MeetingId("zoom", "84315220467")
MEET = MeetingId("meet", "abc-defg-hij")
THREAD = "19:meeting_NzQ5YTRlZmUtMWQ3Ni00Zjk3@thread.v2"
TEAMS = MeetingId("teams", THREAD)


@pytest.mark.parametrize(
    ("url", "meeting"),
    [
        # Zoom: join, webinar, start and web-client links, vanity subdomains, passwords.
        ("https://zoom.us/j/84315220467", ZOOM_123),
        ("https://zoom.us/j/84315220467?pwd=abc", ZOOM_123),
        ("https://zoom.us/j/84315220467?pwd=xyz&uname=Ada#success", ZOOM_123),
        ("https://us05web.zoom.us/j/84315220467?pwd=abc", ZOOM_123),
        ("https://company.zoom.us/j/84315220467", ZOOM_123),
        ("https://Company.ZOOM.us/J/84315220467/", ZOOM_123),
        ("http://zoom.us//j/84315220467", ZOOM_123),
        ("https://zoom.us/j/843%2015220%20467", ZOOM_123),
        ("https://zoom.us/j/843-1522-0467", ZOOM_123),
        ("https://zoom.us/%6A/84315220467", ZOOM_123),
        ("https://zoom.us/w/84315220467?tk=token", ZOOM_123),
        ("https://zoom.us/s/84315220467?zak=secret", ZOOM_123),
        ("https://zoom.us/wc/join/84315220467", ZOOM_123),
        ("https://app.zoom.us/wc/84315220467/join?fromPWA=1", ZOOM_123),
        ("https://zoom.us/my/Ada.Lovelace?pwd=1", MeetingId("zoom", "my:ada.lovelace")),
        ("https://agency.zoomgov.com/j/1612345678?pwd=a", MeetingId("zoomgov", "1612345678")),
        # Google Meet: codes in any case, with or without dashes, with Google's parameters.
        ("https://meet.google.com/abc-defg-hij", MEET),
        ("https://meet.google.com/abc-defg-hij?authuser=1&hs=122", MEET),
        ("https://MEET.GOOGLE.COM/ABC-DEFG-HIJ/", MEET),
        ("https://meet.google.com/abcdefghij#fragment", MEET),
        ("https://meet.google.com/abc%2Ddefg%2Dhij", MEET),
        # Teams: the meeting's thread, however the link spells or encodes it.
        (
            "https://teams.microsoft.com/l/meetup-join/19%3ameeting_NzQ5YTRlZmUtMWQ3Ni00Zjk3"
            "%40thread.v2/0?context=%7b%22Tid%22%3a%22t%22%2c%22Oid%22%3a%22o%22%7d",
            TEAMS,
        ),
        (
            "https://teams.microsoft.com/l/meetup-join/19%3AMEETING_NzQ5YTRlZmUtMWQ3Ni00Zjk3"
            "%40thread.v2/0?context=%7B%7D",
            MeetingId("teams", "19:MEETING_NzQ5YTRlZmUtMWQ3Ni00Zjk3@thread.v2"),
        ),
        (f"https://teams.microsoft.com/l/meetup-join/{THREAD}/0?context=other", TEAMS),
        (f"https://Teams.Microsoft.com/l/meetup-join/{THREAD}", TEAMS),
        (
            "https://teams.microsoft.com/l/meetup-join/19%253ameeting_NzQ5YTRlZmUtMWQ3Ni00Zjk3"
            "%2540thread.v2/0",
            TEAMS,
        ),
        (f"https://teams.microsoft.com/v2/?meetingjoin=true#/l/meetup-join/{THREAD}/0", TEAMS),
        (f"https://teams.microsoft.com/_#/l/meetup-join/{THREAD}/0?anon=true", TEAMS),
        (
            "https://teams.microsoft.com/meet/2345678901234?p=abcDEF",
            MeetingId("teams", "meet:2345678901234"),
        ),
        (
            "https://teams.microsoft.com/meet/2345678901234/?p=other",
            MeetingId("teams", "meet:2345678901234"),
        ),
        ("https://teams.live.com/meet/9312345?p=x", MeetingId("teams-live", "meet:9312345")),
    ],
)
def test_a_meeting_link_names_its_platforms_meeting(url: str, meeting: MeetingId) -> None:
    assert meeting_id(url) == meeting


@pytest.mark.parametrize(
    "url",
    [
        "https://zoom.us/",
        "https://zoom.us/j/",
        "https://zoom.us/signin",
        "https://evilzoom.us/j/84315220467",
        "https://zoom.us.evil.example/j/84315220467",
        "https://meet.google.com/lookup",
        "https://meet.google.com/abc-defg-hijk",
        "https://teams.microsoft.com/v2/",
        "https://teams.microsoft.com/meet/",
        "https://example.com/l/meetup-join/19:x@thread.v2/0",
        "ftp://zoom.us/j/84315220467",
        "javascript:alert(1)",
        "https://[::1/j/1",
        "",
    ],
)
def test_anything_else_names_no_meeting(url: str) -> None:
    assert meeting_id(url) is None


def test_platforms_keep_their_meetings_apart() -> None:
    keys = {
        meeting_id(url).key  # type: ignore[union-attr]
        for url in (
            "https://zoom.us/j/1612345678",
            "https://zoomgov.com/j/1612345678",
            "https://teams.microsoft.com/meet/1612345678",
            "https://teams.live.com/meet/1612345678",
            "https://zoom.us/my/1612345678",
        )
    }
    assert len(keys) == 5
