"""Turn cleaning and sentence splitting: what the summarizer reads instead of raw speech."""

from __future__ import annotations

import pytest

from understanding.text import clean, content_stems, sentences


@pytest.mark.parametrize(
    ("spoken", "meant"),
    [
        ("Um so the the budget is uh fine .", "so the budget is fine."),
        ("We need , you know , a new remote .", "We need, a new remote."),
        ("I mean it's it's ready", "it's ready"),
        # A restarted clause and a cut-off word go; the restart stays.
        ("we should {disfmarker} we must ship it .", "we must ship it."),
        ("make sure that th {disfmarker} your mike is on .", "make sure that your mike is on."),
        ("which one {disfmarker} which one you 're on", "which one you're on"),
        ("we sh- we should go", "we should go"),
        ("the targ target group", "the target group"),
        # Corpus annotations are not speech; AMI spells acronyms with underscores.
        ("{vocalsound} It plays D_V_D_s {gap} too .", "It plays DVDs too."),
        ("That 's all . If you have questions {disfmarker}", "That's all."),
        ("We should -- we must go", "we must go"),
    ],
)
def test_clean_keeps_what_was_meant(spoken: str, meant: str) -> None:
    assert clean(spoken) == meant


def test_clean_keeps_short_real_words_and_acronyms() -> None:
    assert clean("I think a TV is OK by me .") == "I think a TV is OK by me."


def test_sentences_split_at_ends_not_at_abbreviations() -> None:
    text = "Dr. Smith said so. Is it ready? Yes! It costs 12.5 euros, e.g. the basic one."
    assert sentences(text) == [
        "Dr. Smith said so.",
        "Is it ready?",
        "Yes!",
        "It costs 12.5 euros, e.g. the basic one.",
    ]


def test_sentences_drop_spoken_openers_and_capitalise() -> None:
    assert sentences("so okay, the launch is Friday. well we agreed.") == [
        "The launch is Friday.",
        "We agreed.",
    ]


def test_content_stems_skip_stop_words_and_stem() -> None:
    assert content_stems("Yeah, the batteries are charging quickly") == [
        "batteri",
        "charg",
        "quick",
    ]
