"""Transcript files as turns: what ``debrief summarize`` reads.

Three shapes are accepted, told apart by their first character:
- a JSON array of ``{"speaker", "text", "start"?}`` objects (``start`` in seconds);
- Attendee's transcript answer, a JSON array of ``{"speaker_name", "timestamp_ms",
  "transcription": {"transcript"}}`` objects (starts become seconds from the first turn);
- plain text, one ``Speaker: text`` line a turn (a line without a speaker continues the turn).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from understanding.types import Turn

#: "Name: text", the name short and without sentence punctuation (not "Note: ...: ..." prose).
_LINE = re.compile(r"^\s*([^:\n]{1,80}?)\s*:\s+(\S.*)$")


class TranscriptError(ValueError):
    """A transcript that cannot be read; the message says why, for a person."""


def load_transcript(path: Path) -> list[Turn]:
    """The turns of the transcript file at ``path``.

    Raises:
        TranscriptError: the file is missing, unreadable, not UTF-8, empty, or in none of the
            accepted shapes (the message names the first problem and where it is).
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise TranscriptError("no such file") from None
    except IsADirectoryError:
        raise TranscriptError("is a directory, not a transcript file") from None
    except OSError as exc:
        raise TranscriptError(f"cannot be read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TranscriptError(f"is not UTF-8 text (byte {exc.start})") from None
    if "\x00" in text:
        raise TranscriptError("is binary, not a transcript")
    return parse_transcript(text)


def parse_transcript(text: str) -> list[Turn]:
    """The turns of a transcript given as text (any of the three shapes)."""
    stripped = text.strip()
    if not stripped:
        raise TranscriptError("is empty")
    if stripped[0] in "[{":
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise TranscriptError(
                f"is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            ) from None
        return _from_json(data)
    return _from_lines(stripped)


def _from_json(data: Any) -> list[Turn]:
    if not isinstance(data, list):
        raise TranscriptError(
            'is JSON but not an array of turns: expected [{"speaker": ..., "text": ...}, ...]'
        )
    if not data:
        raise TranscriptError("has no turns (an empty array)")
    turns = []
    first_ms: float | None = None
    for number, item in enumerate(data, 1):
        if not isinstance(item, dict):
            raise TranscriptError(f"turn {number} is not an object")
        if "speaker_name" in item or "transcription" in item:
            turn, at_ms = _attendee(item, number)
            if at_ms is not None:
                first_ms = at_ms if first_ms is None else first_ms
                turn.start = max(0.0, (at_ms - first_ms) / 1000)
        else:
            try:
                turn = Turn.model_validate(item, strict=False)
            except ValidationError as exc:
                error = exc.errors()[0]
                field = ".".join(str(p) for p in error["loc"]) or "turn"
                raise TranscriptError(
                    f"turn {number}: {field}: {error['msg'].lower()}"
                    ' (each turn is {"speaker": "...", "text": "...", "start": seconds})'
                ) from None
        turns.append(turn)
    return turns


def _attendee(item: dict[str, Any], number: int) -> tuple[Turn, float | None]:
    """One utterance of Attendee's transcript answer, and its timestamp in milliseconds."""
    transcription = item.get("transcription")
    text = transcription.get("transcript") if isinstance(transcription, dict) else None
    speaker = item.get("speaker_name")
    if not isinstance(text, str):
        raise TranscriptError(f"turn {number}: transcription.transcript is missing or not text")
    if speaker is not None and not isinstance(speaker, str):
        raise TranscriptError(f"turn {number}: speaker_name is not text")
    at = item.get("timestamp_ms")
    if at is not None and (isinstance(at, bool) or not isinstance(at, int | float)):
        raise TranscriptError(f"turn {number}: timestamp_ms is not a number")
    return Turn(speaker=speaker or "Unknown speaker", text=text), at


def _from_lines(text: str) -> list[Turn]:
    turns: list[Turn] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        match = _LINE.match(line)
        if match:
            turns.append(Turn(speaker=match[1], text=match[2].strip()))
        elif turns:
            turns[-1].text += " " + line.strip()
        else:
            raise TranscriptError(
                f"line {number} is not `Speaker: text` (nor is the file a JSON array of turns)"
            )
    return turns
