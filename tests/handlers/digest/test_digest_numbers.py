"""Every provider's digest shows numbers that can all be true at once: a length that is no
shorter than anyone's talking, nobody who spoke at 0 s, and no meeting that lasted 0 s."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.meetings import Meeting, Utterance
from handlers.attendee.jobs import to_meeting as attendee_meeting
from handlers.attendee.tables import AttendeeBot
from handlers.claritalk.mapping import to_meeting as claritalk_meeting
from handlers.digest import render_digest
from handlers.otter.mapping import to_meeting as otter_meeting
from handlers.whereby.mapping import to_meeting as whereby_meeting
from handlers.whereby.tables import WherebyRoom
from providers.attendee import Bot, Transcript
from providers.claritalk import MeetingProcessed, parse_webhook
from providers.whereby import Summary
from tests.conftest import PAYLOADS
from tests.handlers.claritalk.support import payload as claritalk_payload
from tests.handlers.digest.support import otter_conversation, text_of

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def attendee_payload(name: str) -> Any:
    return json.loads((PAYLOADS / "attendee" / "api" / name).read_text())


def recorded_attendee() -> Meeting:
    row = AttendeeBot(meeting_url="https://zoom.us/j/123456789")
    bot = Bot.model_validate(attendee_payload("get_ended.json"))
    transcript = Transcript.model_validate(attendee_payload("transcript_final.json")).root
    return attendee_meeting(row, bot, transcript)


def late_attendee() -> Meeting:
    """What the sandbox showed: the bot's joined and left events 21 s apart, around a
    transcript that runs 82 s (its events and its transcript keep different clocks)."""
    start_ms = int(T0.timestamp() * 1000)
    bot = Bot.model_validate(
        {
            "id": "bot_late",
            "meeting_url": "https://zoom.us/j/123456789",
            "state": "ended",
            "events": [
                {"type": "joined_meeting", "created_at": (T0 + timedelta(seconds=50)).isoformat()},
                {"type": "left_meeting", "created_at": (T0 + timedelta(seconds=71)).isoformat()},
            ],
        }
    )
    turns = [("Ada", 0, 30_000), ("Grace", 30_000, 40_000), ("Ada", 70_000, 12_000)]
    utterances = Transcript.model_validate(
        [
            {
                "speaker_name": name,
                "speaker_uuid": name,
                "speaker_is_host": name == "Ada",
                "timestamp_ms": start_ms + offset,
                "duration_ms": duration,
                "transcription": {"transcript": f"{name} says something useful here"},
            }
            for name, offset, duration in turns
        ]
    ).root
    return attendee_meeting(AttendeeBot(meeting_url=bot.meeting_url), bot, utterances)


def whereby_instant() -> Meeting:
    """A summary whose transcribed stretch starts and ends on the same second."""
    row = WherebyRoom(
        id="r1", title="Stand-up", session_started_at=T0, session_ended_at=T0, status="closed"
    )
    summary = Summary.model_validate(
        {
            "summaryId": "s1",
            "summary": {"summary": "We met."},
            "state": "ready",
            "startDate": T0.isoformat(),
            "endDate": T0.isoformat(),
        }
    )
    return whereby_meeting(row, summary)


def claritalk() -> Meeting:
    event = parse_webhook(claritalk_payload("meeting_processed.json"))
    assert isinstance(event.data, MeetingProcessed)
    return claritalk_meeting(event.data)


MEETINGS = {
    "attendee-recorded": recorded_attendee,
    "attendee-late-join": late_attendee,
    "otter-shape-b": lambda: otter_meeting(otter_conversation("conversation_all")),
    "otter-shape-a": lambda: otter_meeting(otter_conversation("conversation_action_items")),
    "whereby-instant": whereby_instant,
    "claritalk": claritalk,
}


@pytest.mark.parametrize("make", MEETINGS.values(), ids=MEETINGS.keys())
def test_the_numbers_agree_with_each_other(make: Any) -> None:
    meeting = make()
    length = meeting.length
    assert length is None or length > timedelta(0), "a meeting never lasts 0 s"
    talk = meeting.talk_time()
    spoke = {u.speaker for u in meeting.transcript if u.text.strip()}
    for speaker, seconds, _share in talk:
        if speaker in spoke:
            assert seconds > 0, f"{speaker} spoke, so not for 0 s"
        assert length is not None and seconds <= length.total_seconds() + 1e-6, (
            f"{speaker} talked {seconds} s of a {length} meeting"
        )
    if talk:
        assert sum(share for _, _, share in talk) == pytest.approx(1.0)
    digest = render_digest(meeting)
    rendered = "\n".join(text_of(part.blocks) for part in [digest.parent, *digest.thread])
    assert not re.search(r"Length\*?\s*\n?\s*0 s", rendered)
    assert "(0 s)" not in rendered


def test_a_late_notetaker_still_counts_the_whole_transcript() -> None:
    meeting = late_attendee()
    assert meeting.length == timedelta(seconds=82)
    assert dict((name, s) for name, s, _ in meeting.talk_time()) == {"Ada": 42.0, "Grace": 40.0}


def test_overlapping_turns_of_one_speaker_count_once() -> None:
    meeting = Meeting(
        provider="otter",
        meeting_id="m",
        title="t",
        transcript=[
            Utterance(speaker="Ada", text="a", start_seconds=0, duration_seconds=10),
            Utterance(speaker="Ada", text="b", start_seconds=5, duration_seconds=10),
            Utterance(speaker="Bo", text="c", start_seconds=20, duration_seconds=5),
        ],
    )
    assert [(n, s) for n, s, _ in meeting.talk_time()] == [("Ada", 15.0), ("Bo", 5.0)]
    assert meeting.length == timedelta(seconds=25)
