"""An Attendee meeting belongs to whoever sent its notetaker: search and ask find it for them
wherever its digest was routed (the privacy rule's "their notetakers")."""

from __future__ import annotations

from datetime import UTC

from handlers.attendee.jobs import to_meeting
from handlers.search.store import requester_of
from providers.attendee import Bot
from tests.handlers.test_times import attendee_row


def test_the_requester_of_an_attendee_meeting_is_who_sent_the_notetaker() -> None:
    bot = Bot.model_validate(
        {"id": "bot_1", "meeting_url": "https://zoom.us/j/123456789", "state": "ended"}
    )
    meeting = to_meeting(attendee_row(user_id="U0GRACE"), bot, [], UTC)
    assert requester_of(meeting) == "U0GRACE"
