"""Transcript files in the three accepted shapes, and clear reasons for the ones that are not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from understanding.transcripts import TranscriptError, load_transcript, parse_transcript
from understanding.types import Turn

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "attendee" / "api"


def test_json_turns() -> None:
    turns = parse_transcript(
        '[{"speaker": "Ada", "text": "Ship it.", "start": 1.5}, {"speaker": "Bob", "text": "Ok."}]'
    )
    assert turns == [
        Turn(speaker="Ada", text="Ship it.", start=1.5),
        Turn(speaker="Bob", text="Ok."),
    ]


def test_attendees_transcript_answer(tmp_path: Path) -> None:
    """The recorded answer, and two utterances: starts become seconds from the first."""
    recorded = load_transcript(PAYLOADS / "transcript_final.json")
    assert recorded == [
        Turn(speaker="Ada Lovelace", text="Let's ship the Slack integration on Friday.", start=0.0)
    ]
    utterances = json.loads((PAYLOADS / "transcript_final.json").read_text())
    later = {
        **utterances[0],
        "speaker_name": "Bob",
        "timestamp_ms": utterances[0]["timestamp_ms"] + 4500,
    }
    later["transcription"] = {"transcript": "I'll write the notes."}
    path = tmp_path / "attendee.json"
    path.write_text(json.dumps([*utterances, later]))
    assert [(t.speaker, t.start) for t in load_transcript(path)] == [
        ("Ada Lovelace", 0.0),
        ("Bob", 4.5),
    ]


def test_speaker_lines(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("Ada: Let's ship on Friday.\n\nBob: Fine by me,\nif QA agrees.\n")
    assert load_transcript(path) == [
        Turn(speaker="Ada", text="Let's ship on Friday."),
        Turn(speaker="Bob", text="Fine by me, if QA agrees."),
    ]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "is empty"),
        (b"  \n", "is empty"),
        (b"[{", "is not valid JSON"),
        (b'{"speaker": "Ada"}', "not an array of turns"),
        (b"[]", "has no turns"),
        (b'["hello"]', "turn 1 is not an object"),
        (b'[{"speaker": "Ada", "text": "Hi"}, {"speaker": "Bob"}]', "turn 2: text"),
        (b'[{"speaker": "Ada", "text": "Hi", "start": "soon"}]', "turn 1: start"),
        (b'[{"speaker_name": "Ada", "transcription": {}}]', "turn 1: transcription.transcript"),
        (b"just some words\nAda: hi", "line 1 is not `Speaker: text`"),
        (b"\xff\xfe\x00garbage", "is not UTF-8"),
        (b"Ada: hi\x00", "is binary"),
    ],
)
def test_a_bad_file_says_why(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "bad"
    path.write_bytes(content)
    with pytest.raises(TranscriptError, match=reason.replace("[", r"\[")) as raised:
        load_transcript(path)
    assert "Traceback" not in str(raised.value)


def test_a_missing_file_or_a_folder(tmp_path: Path) -> None:
    with pytest.raises(TranscriptError, match="no such file"):
        load_transcript(tmp_path / "absent.json")
    with pytest.raises(TranscriptError, match="is a directory"):
        load_transcript(tmp_path)
