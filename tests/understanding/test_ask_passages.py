"""understanding.passages.split_turns: passages of about N words, cut on turn boundaries."""

from __future__ import annotations

import pytest

from tests.understanding.ask_fixtures import turns
from understanding.passages import split_turns
from understanding.types import Turn


def said(speaker: str, count: int, word: str = "word") -> Turn:
    return Turn(speaker=speaker, text=" ".join([word] * count))


def test_turns_are_grouped_until_the_passage_is_long_enough() -> None:
    meeting = [said("Ada", 40), said("Grace", 40), said("Alan", 40), said("Ada", 40)]
    cuts = split_turns(meeting, words=100)
    assert [(first, last) for first, last, _ in cuts] == [(0, 2), (3, 3)]
    assert cuts[0][2].splitlines() == [
        f"Ada: {' '.join(['word'] * 40)}",
        f"Grace: {' '.join(['word'] * 40)}",
        f"Alan: {' '.join(['word'] * 40)}",
    ]


def test_a_short_tail_joins_the_passage_before_it() -> None:
    cuts = split_turns([said("Ada", 100), said("Grace", 10)], words=100)
    assert [(first, last) for first, last, _ in cuts] == [(0, 1)]


def test_empty_turns_are_skipped_and_indices_stay_those_of_the_input() -> None:
    meeting = [Turn(speaker="Ada", text="  "), said("Grace", 120), Turn(speaker="Alan", text="")]
    cuts = split_turns(meeting, words=100)
    assert [(first, last) for first, last, _ in cuts] == [(1, 1)]


def test_a_long_turn_is_cut_at_sentence_ends_keeping_its_index() -> None:
    speech = " ".join(f"Sentence number {n} has exactly seven words." for n in range(60))
    cuts = split_turns([said("Ada", 5), Turn(speaker="Minister", text=speech)], words=100)
    pieces = [c for c in cuts if c[0] == 1]
    assert len(pieces) == 5  # 420 words in sentences of 7: five pieces of at most 100
    for first, last, text in pieces:
        assert (first, last) == (1, 1)
        assert text.startswith("Minister: Sentence number")
        assert text.endswith("words.")
        assert len(text.split()) <= 101


def test_a_real_meeting_is_covered_once_in_order() -> None:
    meeting = turns("TS3010b")
    cuts = split_turns(meeting, words=100)
    spoken = [i for i, turn in enumerate(meeting) if turn.text.strip()]
    covered = [i for first, last, _ in cuts for i in range(first, last + 1)]
    # Every turn with words is in a passage; the ranges follow one another.
    assert set(spoken) <= set(covered)
    assert covered == sorted(covered)
    lengths = [len(text.split()) - text.count("\n") - 1 for _, _, text in cuts]
    assert sum(lengths) / len(lengths) == pytest.approx(110, abs=25)


def test_words_must_be_positive() -> None:
    with pytest.raises(ValueError):
        split_turns([said("Ada", 3)], words=0)
