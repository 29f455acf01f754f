"""Where the meeting moved on: topic segments by lexical cohesion, each with a title and start.

TextTiling (Hearst 1997) over speaker turns: at every turn boundary, compare the content words
of the stretch before with the stretch after (cosine of stem counts); a boundary is a topic
shift where that similarity dips well below its neighbours (depth above mean - sd/2, Hearst's
cut-off). Segments shorter than a window merge into their neighbour, so a long meeting gets a
handful of topics, not dozens.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Callable, Sequence

from understanding.summary import Unit, keyphrases, title
from understanding.types import Topic

#: Content words on each side of a boundary: about two minutes of talk.
WINDOW = 120
#: The most topics a meeting is given: past that a list stops being a table of contents.
MOST = 8


def segment(units: Sequence[Unit]) -> list[list[Unit]]:
    """The units in topic segments, in order (one segment when the meeting is short)."""
    turns: list[list[Unit]] = []
    for unit in units:
        if turns and turns[-1][-1].turn == unit.turn:
            turns[-1].append(unit)
        else:
            turns.append([unit])
    stems = [[s for u in turn for s in u.stems] for turn in turns]
    total = sum(len(s) for s in stems)
    if total < 3 * WINDOW or len(turns) < 4:
        return [list(units)] if units else []
    flat = [s for turn in stems for s in turn]
    offsets = [0]
    for turn_stems in stems:
        offsets.append(offsets[-1] + len(turn_stems))
    # Candidate boundaries at turn starts, at least a tenth of a window apart: back-channel
    # turns ("Yeah.") would otherwise make hundreds of near-identical comparisons.
    gaps: list[int] = []
    for g in range(1, len(turns)):
        if not gaps or offsets[g] - offsets[gaps[-1]] >= WINDOW // 10:
            gaps.append(g)

    def similarity(g: int) -> float:
        at = offsets[g]
        return _cosine(flat[max(0, at - WINDOW) : at], flat[at : at + WINDOW])

    scores = [similarity(g) for g in gaps]
    depths = [
        _peak(scores, i, -1) + _peak(scores, i, 1) - 2 * score for i, score in enumerate(scores)
    ]
    cutoff = statistics.mean(depths) + statistics.pstdev(depths) / 2 if depths else 0
    ranked = sorted(range(len(gaps)), key=lambda i: (-depths[i], i))
    boundaries: list[int] = []
    for i in ranked:
        if depths[i] <= cutoff or len(boundaries) == MOST - 1:
            break
        at = offsets[gaps[i]]
        if at < WINDOW or total - at < WINDOW:
            continue
        if all(abs(at - offsets[gaps[b]]) >= 2 * WINDOW for b in boundaries):
            boundaries.append(i)
    cuts = sorted(_finest(gaps, i, similarity) for i in boundaries)
    segments = []
    for begin, end in zip([0, *cuts], [*cuts, len(turns)], strict=True):
        segments.append([u for turn in turns[begin:end] for u in turn])
    return segments


def _finest(gaps: list[int], i: int, similarity: Callable[[int], float]) -> int:
    """The turn boundary, among those skipped around candidate ``i``, where cohesion is least."""
    low = gaps[i - 1] + 1 if i > 0 else gaps[i]
    high = gaps[i + 1] - 1 if i + 1 < len(gaps) else gaps[i]
    return min(range(low, high + 1), key=lambda g: (similarity(g), g))


def _peak(scores: list[float], i: int, step: int) -> float:
    """The top of the rise from ``i`` in direction ``step``: how high cohesion climbs again."""
    while 0 <= i + step < len(scores) and scores[i + step] >= scores[i]:
        i += step
    return scores[i]


def _cosine(left: list[str], right: list[str]) -> float:
    a, b = Counter(left), Counter(right)
    dot = sum(n * b[w] for w, n in a.items() if w in b)
    norm = math.sqrt(sum(n * n for n in a.values())) * math.sqrt(sum(n * n for n in b.values()))
    return dot / norm if norm else 0.0


def topics(units: Sequence[Unit]) -> list[Topic]:
    """The meeting's topics: each segment's distinctive phrase, and when it starts."""
    segments = segment(units)
    if len(segments) <= 1:
        return [Topic(title=title(units), start=units[0].start)] if units else []
    out = []
    for part in segments:
        phrases = keyphrases(part, 2, among=units)
        name = " and ".join(phrases) if phrases else part[0].text
        out.append(Topic(title=name[:1].upper() + name[1:], start=part[0].start))
    return out
