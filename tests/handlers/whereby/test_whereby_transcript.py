"""Whereby's transcript file read as utterances, for the understanding engine."""

from __future__ import annotations

from handlers.whereby.mapping import parse_transcript


def test_speakers_words_and_times_are_read() -> None:
    text = (
        "# Transcript\n\n"
        "**Ada Lovelace**: Let's go through the launch plan.\n\n"
        "**Grace Hopper:** I will draft the announcement\n"
        "by Friday.\n\n"
        "[00:01:05] Alan Turing: Then I will book the venue.\n"
        "   \n"
    )
    turns = parse_transcript(text)
    assert [(t.speaker, t.text) for t in turns] == [
        ("Ada Lovelace", "Let's go through the launch plan."),
        ("Grace Hopper", "I will draft the announcement by Friday."),
        ("Alan Turing", "Then I will book the venue."),
    ]
    assert turns[0].start_seconds == 0.0 and turns[1].start_seconds > 0.0
    assert turns[2].start_seconds == 65.0, "a time the file gives is taken"
    assert parse_transcript("") == [] and parse_transcript("no speaker here") == []


def test_each_session_of_a_room_is_its_own_meeting() -> None:
    """A room holds many sessions: each digest (routed or in the room's thread), and what the
    understanding engine wrote for it, belongs to its session, never to the room."""
    from handlers.whereby.mapping import to_meeting
    from handlers.whereby.tables import WherebyRoom

    row = WherebyRoom(
        id="w1",
        meeting_id="123",
        room_url="https://whereby.example/room",
        title="Stand-up",
        team_id="T1",
        channel_id="C1",
        creator_id="U0ADA",
    )
    first = to_meeting(row, None, transcription_id="t-first")
    second = to_meeting(row, None, transcription_id="t-second")
    assert first.meeting_id != second.meeting_id
    assert to_meeting(row, None).meeting_id == "123"
