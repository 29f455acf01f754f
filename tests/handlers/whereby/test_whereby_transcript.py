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
