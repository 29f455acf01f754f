"""A meeting cut into passages for the index: whole turns, about 60 to 120 words each."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.blockkit import MARK_START, MARK_STOP
from bot.meetings import Meeting, Utterance

#: A passage is whole turns, at least this many words when the turns allow ...
PASSAGE_MIN_WORDS = 60
#: ... and at most this many, unless one turn alone is longer (then it is cut at sentences).
PASSAGE_MAX_WORDS = 120

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
#: The snippet markers never come from a transcript.
_MARKS = re.compile(f"[{MARK_START}{MARK_STOP}]")


def passages_of(meeting: Meeting) -> list[tuple[str | None, float | None, str]]:
    """The meeting as (speaker, start, text) passages: first its title, summary and decisions,
    then its transcript's turns grouped into passages of about 60 to 120 words."""
    head = [meeting.title, meeting.summary or "", *decisions_of(meeting)]
    found: list[tuple[str | None, float | None, str]] = []
    overview = _clean(" ".join(h for h in head if h))
    if overview:
        found.append((None, None, overview))
    group: list[Utterance] = []
    words = 0
    for turn in _short_turns(meeting.transcript):
        size = len(turn.text.split())
        if group and words >= PASSAGE_MIN_WORDS and words + size > PASSAGE_MAX_WORDS:
            found.append(_passage(group))
            group, words = [], 0
        group.append(turn)
        words += size
    if group:
        found.append(_passage(group))
    return found


def decisions_of(meeting: Meeting) -> list[str]:
    """The meeting's decisions, when its model carries them (the pipeline adds them)."""
    decisions = getattr(meeting, "decisions", None) or []
    return [str(d) for d in decisions if d]


def _short_turns(turns: Sequence[Utterance]) -> list[Utterance]:
    """Turns no longer than a passage: a long one is cut at sentence ends (or, failing that,
    every ``PASSAGE_MAX_WORDS`` words), each piece starting about when it was said."""
    out: list[Utterance] = []
    for turn in turns:
        said = _clean(turn.text)
        if not said:
            continue
        words = said.split()
        if len(words) <= PASSAGE_MAX_WORDS:
            out.append(Utterance(speaker=turn.speaker, text=said, start_seconds=turn.start_seconds))
            continue
        pieces: list[list[str]] = [[]]
        for sentence in _SENTENCE.split(said):
            for word in sentence.split():
                if len(pieces[-1]) >= PASSAGE_MAX_WORDS:
                    pieces.append([])
                pieces[-1].append(word)
            if len(pieces[-1]) >= PASSAGE_MIN_WORDS:
                pieces.append([])
        seconds_per_word = (turn.duration_seconds / len(words)) if turn.duration_seconds else 0.4
        offset = 0
        for piece in pieces:
            if piece:
                start = turn.start_seconds + offset * seconds_per_word
                out.append(
                    Utterance(speaker=turn.speaker, text=" ".join(piece), start_seconds=start)
                )
                offset += len(piece)
    return out


def _passage(turns: list[Utterance]) -> tuple[str | None, float | None, str]:
    speakers = list(dict.fromkeys(t.speaker.strip() for t in turns if t.speaker.strip()))
    speaker = ", ".join(speakers)[:200] or None
    return speaker, turns[0].start_seconds, " ".join(t.text for t in turns)


def _clean(said: str) -> str:
    return " ".join(_MARKS.sub(" ", said).split())
