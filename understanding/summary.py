"""The extractive summary and the title: the sentences that cover most of what the meeting kept
coming back to, in order, each with who said it.

Method (concept coverage, after Gillick & Favre 2009 and Lin & Bilmes 2010): the *concepts* of a
meeting are its content words and pairs of adjacent content words (stemmed); a concept's weight is
the number of sentences it occurs in, because what a meeting is about is what people keep saying,
while one-off remarks are noise. A summary is worth the total weight of the concepts it covers,
each counted once -- so a second sentence about the same thing earns nothing (redundancy removal)
-- and it costs its words. Sentences are chosen greedily by gain per square root of their words
until the budget is spent (Lin & Bilmes' cost-scaled greedy for budgeted coverage), then printed
in meeting order under the speaker's name.
"""

from __future__ import annotations

import heapq
import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from understanding.text import STOP_WORDS, clean, content_stems, sentences, stem, word_count
from understanding.types import Turn

#: Said in every meeting, so never what one was about ("The meeting was about meeting...").
_NOT_A_SUBJECT = frozenset({"meeting", "meetings"})

#: A sentence shorter than this rarely stands on its own out of context ("I'll do that next
#: time.", "These are my personal preferences.").
MIN_WORDS = 8
#: Gain per word**0.5, not per word: plain density favours the shortest sentences, which are the
#: least informative in talk; no scaling favours rambling ones (Lin & Bilmes scale cost the same
#: way, with an exponent below one).
COST_EXPONENT = 0.5


@dataclass
class Unit:
    """One cleaned sentence of a turn, with what the summarizer counts in it."""

    index: int
    turn: int
    speaker: str
    start: float | None
    text: str
    stems: list[str]
    concepts: set[str | tuple[str, str]] = field(default_factory=set)
    #: False for a sentence the speaker did not finish (no full stop where the turn ended).
    complete: bool = True
    #: Its candidate key phrases: stems of one to three adjacent content words -> as written.
    phrases: dict[tuple[str, ...], str] = field(default_factory=dict)

    @property
    def words(self) -> int:
        return word_count(self.text)


def prepare(turns: Sequence[Turn]) -> list[Unit]:
    """The turns as cleaned sentences, in order, each with its content stems and concepts."""
    units: list[Unit] = []
    for number, turn in enumerate(turns):
        speaker = speaker_label(turn.speaker)
        # Unpunctuated text (some speech-to-text) has no full stops to judge completeness by.
        punctuated = any(c in turn.text for c in ".?!")
        for text in sentences(clean(turn.text)):
            stems = content_stems(text)
            concepts: set[str | tuple[str, str]] = set(stems)
            concepts.update(itertools.pairwise(stems))
            complete = not punctuated or text[-1] in ".!?"
            units.append(
                Unit(
                    len(units),
                    number,
                    speaker,
                    turn.start,
                    text,
                    stems,
                    concepts,
                    complete,
                    _unit_phrases(text),
                )
            )
    return units


def speaker_label(speaker: str) -> str:
    """The name to print: without a parenthesised riding or office ("Mr. A (Foothills, CPC)")."""
    name = " ".join(re.sub(r"\s*\([^)]*\)", " ", speaker).split())
    return name or " ".join(speaker.split()) or "Someone"


def concept_weights(units: Iterable[Unit], *, least: int = 2) -> dict[str | tuple[str, str], int]:
    """Each concept's number of sentences, for those said in at least ``least``."""
    frequency: Counter[str | tuple[str, str]] = Counter()
    for unit in units:
        frequency.update(unit.concepts)
    return {concept: n for concept, n in frequency.items() if n >= least}


def summarize(units: Sequence[Unit], words: int = 110, *, opening: str = "") -> str:
    """At most ``words`` words: ``opening``, then the chosen sentences as "Speaker: ...".

    Questions are left out: a summary tells what was said and settled, not what was asked. A
    short meeting, where nothing recurs, is summarized from all it said, however brief.
    """
    budget = words - word_count(opening)
    chosen = _choose(units, budget, concept_weights(units), MIN_WORDS)
    if not chosen:
        chosen = _choose(units, budget, concept_weights(units, least=1), 1)
    text = render(chosen)
    return f"{opening} {text}".strip() if opening else text


def _choose(
    units: Sequence[Unit],
    budget: int,
    weights: dict[str | tuple[str, str], int],
    min_words: int,
) -> list[Unit]:
    candidates = [
        unit
        for unit in units
        if unit.words >= min_words
        and unit.complete
        and not unit.text.endswith("?")
        and unit.words <= max(min_words, budget // 2)
    ]
    chosen: list[Unit] = []
    covered: set[str | tuple[str, str]] = set()
    # Lazy greedy: a sentence's gain only falls as others are chosen, so a stale score is an
    # upper bound, and the best of the heap needs re-scoring only until it stays on top.
    heap = [(-_gain(unit, weights, covered) / _cost(unit), unit.index) for unit in candidates]
    heapq.heapify(heap)
    by_index = {unit.index: unit for unit in candidates}
    while heap:
        _, index = heapq.heappop(heap)
        unit = by_index[index]
        fresh = -_gain(unit, weights, covered) / _cost(unit)
        if fresh >= 0:
            continue  # nothing new in it, now or later
        if heap and fresh > heap[0][0]:
            heapq.heappush(heap, (fresh, index))
            continue
        if word_count(render([*chosen, unit])) <= budget:
            chosen.append(unit)
            covered |= unit.concepts
    return chosen


def _cost(unit: Unit) -> float:
    return float(unit.words) ** COST_EXPONENT


def _gain(
    unit: Unit, weights: dict[str | tuple[str, str], int], covered: set[str | tuple[str, str]]
) -> float:
    return sum(weights.get(c, 0) for c in unit.concepts if c not in covered)


def render(chosen: Iterable[Unit]) -> str:
    """The sentences in meeting order, consecutive ones of a speaker under one name."""
    parts: list[str] = []
    speaker = None
    for unit in sorted(chosen, key=lambda u: u.index):
        text = unit.text.rstrip(",;:- ")
        sentence = text if text[-1:] in (".", "!", "?") else text + "."
        if unit.speaker != speaker:
            parts.append(f"{unit.speaker}: {sentence}")
            speaker = unit.speaker
        else:
            parts[-1] += " " + sentence
    return " ".join(parts)


def keyphrases(
    units: Sequence[Unit], count: int = 3, *, among: Sequence[Unit] = (), least: int = 2
) -> list[str]:
    """The phrases (one to three content words) said in the most sentences, as people said them.

    With ``among`` (the whole meeting), a phrase scores by how much more often it comes up in
    ``units`` than elsewhere: what sets a stretch of the meeting apart, for its topic title.
    """
    frequency, surface = _phrases(units)
    if among:
        overall, _ = _phrases(among)
        # Weighted by the share of all its mentions that fall here: local, not meeting-wide.
        scores = {p: n * len(p) * n / overall.get(p, n) for p, n in frequency.items() if n >= least}
    else:
        scores = {p: n * len(p) for p, n in frequency.items() if n >= least}
    chosen: list[str] = []
    used: set[str] = set()
    for phrase in sorted(scores, key=lambda p: (-scores[p], p)):
        if used.intersection(phrase):
            continue
        chosen.append(_written(surface[phrase]))
        used.update(phrase)
        if len(chosen) == count:
            break
    return chosen


def _phrases(
    units: Iterable[Unit],
) -> tuple[Counter[tuple[str, ...]], dict[tuple[str, ...], Counter[str]]]:
    frequency: Counter[tuple[str, ...]] = Counter()
    surface: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
    for unit in units:
        frequency.update(unit.phrases.keys())
        for key, written in unit.phrases.items():
            surface[key][written] += 1
    return frequency, surface


def _unit_phrases(text: str) -> dict[tuple[str, ...], str]:
    phrases: dict[tuple[str, ...], str] = {}
    for run in _content_runs(text):
        stems = [stem(w.lower()) for w in run]
        for n in (1, 2, 3):
            for i in range(len(run) - n + 1):
                phrases.setdefault(tuple(stems[i : i + n]), " ".join(run[i : i + n]))
    return phrases


def _content_runs(text: str) -> list[list[str]]:
    """Maximal runs of consecutive content words, as written (a phrase never spans a comma)."""
    runs: list[list[str]] = [[]]
    for token in text.split():
        word = token.strip(".,;:?!\"'()[]")
        low = word.lower()
        if (
            word
            and low not in STOP_WORDS
            and low not in _NOT_A_SUBJECT
            and len(low) > 1
            and any(c.isalpha() for c in low)
            and low.replace("'", "").isalnum()
        ):
            runs[-1].append(word)
        else:
            runs.append([])
        if token[-1:] in ",.;:?!":
            runs.append([])
    return [run for run in runs if run]


def subject(units: Sequence[Unit]) -> str:
    """What the meeting was about, as written: its leading phrases ("remote control, buttons and
    batteries"); empty when nothing was said."""
    phrases = keyphrases(units, 3) or keyphrases(units, 3, least=1)
    if len(phrases) > 1:
        return ", ".join(phrases[:-1]) + " and " + phrases[-1]
    return phrases[0] if phrases else ""


def title(units: Sequence[Unit]) -> str:
    """The meeting's title: its subject, capitalised ("Remote control, buttons and batteries")."""
    return _capitalise(subject(units)) or "A meeting without words"


def _written(forms: Counter[str]) -> str:
    """How a phrase is written: in lower case when anyone wrote it so (a capital that only ever
    opens a sentence is not a name), else its commonest form."""
    lower = [form for form in forms if form == form.lower()]
    return lower[0] if lower else forms.most_common(1)[0][0]


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]
