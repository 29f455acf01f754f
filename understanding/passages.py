"""A meeting's turns cut into passages of about ``words`` words: what search stores and ranks.

Passages end on turn boundaries so that a passage says who spoke; a turn much longer than a
passage (a minister's statement, a presenter's monologue) is cut at sentence ends instead, and
each piece keeps the turn's index. A passage's text is one ``Speaker: words`` line per turn.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from understanding.types import Turn

#: Where a long turn may be cut: after a sentence's end mark.
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")
#: A trailing passage shorter than this share of ``words`` joins the one before it.
_TAIL = 0.3


def _pieces(text: str, words: int) -> list[str]:
    """A turn's text, cut at sentence ends into pieces of about ``words`` words."""
    if len(text.split()) <= 2 * words:
        return [text]
    pieces: list[str] = []
    current: list[str] = []
    count = 0
    for sentence in _SENTENCE_END.split(text):
        size = len(sentence.split())
        if current and count + size > words:
            pieces.append(" ".join(current))
            current, count = [], 0
        current.append(sentence)
        count += size
    if current:
        pieces.append(" ".join(current))
    return pieces


def split_turns(turns: Sequence[Turn], words: int = 100) -> list[tuple[int, int, str]]:
    """``(first_turn_index, last_turn_index, text)`` for each passage of about ``words`` words.

    Indices are positions in ``turns`` (inclusive); turns with no words are skipped.
    """
    if words < 1:
        raise ValueError("words must be positive")
    passages: list[tuple[int, int, list[str], int]] = []
    first, count = -1, 0
    lines: list[str] = []

    def close(last: int) -> None:
        nonlocal first, lines, count
        if lines:
            passages.append((first, last, lines, count))
        first, lines, count = -1, [], 0

    last = -1
    for index, turn in enumerate(turns):
        text = " ".join(turn.text.split())
        if not text:
            continue
        pieces = _pieces(text, words)
        if len(pieces) > 1:
            close(last)
            for piece in pieces:
                passages.append((index, index, [f"{turn.speaker}: {piece}"], len(piece.split())))
            last = index
            continue
        if first < 0:
            first = index
        lines.append(f"{turn.speaker}: {text}")
        count += len(text.split())
        last = index
        if count >= words:
            close(last)
    if lines and passages and count < _TAIL * words:
        start, _, previous, size = passages[-1]
        passages[-1] = (start, last, previous + lines, size + count)
        lines = []
    close(last)
    return [(start, end, "\n".join(text)) for start, end, text, _ in passages]
