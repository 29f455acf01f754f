"""Decisions and action items from speaker turns (understanding.commitments.extract)."""

from __future__ import annotations

from datetime import date

import pytest

from understanding.commitments import clean, extract
from understanding.types import ActionItem, Turn

MONDAY = date(2026, 12, 7)
FRIDAY = date(2026, 12, 11)


def turns(*lines: str) -> list[Turn]:
    """ "Ana: text" lines as turns."""
    out = []
    for line in lines:
        speaker, _, text = line.partition(": ")
        out.append(Turn(speaker=speaker, text=text))
    return out


def items(*lines: str, meeting: date | None = MONDAY) -> list[ActionItem]:
    return extract(turns(*lines), meeting_date=meeting)[1]


def decisions(*lines: str) -> list[str]:
    return extract(turns(*lines), meeting_date=MONDAY)[0]


# --- Owners ------------------------------------------------------------------------------------


def test_a_request_belongs_to_the_next_speaker_and_names_the_asker() -> None:
    found = items("Ana: Can you send me the deck?", "Ben: Sure.")
    assert found == [ActionItem(text="Send Ana the deck", owner="Ben", due=None)]


def test_a_request_belongs_to_the_person_addressed_by_name() -> None:
    found = items(
        "Ana: Chloe, could you update the runbook by Friday?", "Ben: I can help too.", "Chloe: ok"
    )
    assert [(i.owner, i.due) for i in found] == [("Chloe", date(2026, 12, 11))]
    trailing = items("Ana: Can you file the bug, Chloe?", "Ben: Hm.", "Chloe: Yes.")
    assert [i.owner for i in trailing] == ["Chloe"]


def test_a_commitment_belongs_to_the_speaker_with_the_friday_after_the_meeting() -> None:
    found = items("Ana: I'll send the deck by Friday.")
    assert found == [ActionItem(text="Send the deck", owner="Ana", due=date(2026, 12, 11))]


def test_said_on_a_friday_by_friday_is_a_week_later() -> None:
    found = items("Ana: I'll send the deck by Friday.", meeting=FRIDAY)
    assert found[0].due == date(2026, 12, 18)


def test_an_assignment_belongs_to_the_person_named() -> None:
    found = items("Ana: Priya will draft the FAQ.", "Ben: Good.")
    assert found == [ActionItem(text="Draft the FAQ", owner="Priya")]
    appositive = items("Ana: Our partner manager, Dev, will review the copy.")
    assert [i.owner for i in appositive] == ["Dev"]


def test_you_in_a_commitment_becomes_the_person_spoken_to() -> None:
    found = items("Ana: The files are broken.", "Dev: I'll send you the failing files today.")
    assert found == [ActionItem(text="Send Ana the failing files", owner="Dev", due=MONDAY)]


def test_the_answer_to_a_request_completes_it_instead_of_repeating_it() -> None:
    found = items("Ana: Ben, can you update the runbook?", "Ben: Sure, I'll do it tomorrow.")
    assert found == [ActionItem(text="Update the runbook", owner="Ben", due=date(2026, 12, 8))]


def test_a_volunteer_for_an_unclear_it_is_dropped_not_shown_as_do_it() -> None:
    assert items("Ana: I'll do it.") == []


def test_an_unclear_that_answering_someone_says_what_it_is_about() -> None:
    found = items(
        "Amir: I still don't have access to the analytics warehouse.",
        "Zack: Oh, I'll sort that out today.",
    )
    assert found == [
        ActionItem(
            text="Sort that out (re: I still don't have access to the analytics warehouse)",
            owner="Zack",
            due=MONDAY,
        )
    ]


def test_an_accepted_offer_belongs_to_whoever_offered() -> None:
    found = items(
        "Gina: Would it help if I prepared a one-page summary?",
        "Pierre: Yes, please do.",
        "Gina: Okay, I'll write that up by Friday.",
    )
    assert found == [
        ActionItem(text="Prepare a one-page summary", owner="Gina", due=date(2026, 12, 11))
    ]
    assert items("Ana: Should I send the notes to the client?", "Ben: Yeah, but not yet.") == []
    assert items("Ana: Should I send the notes to the client?", "Ben: No.") == []


def test_across_a_month_end_and_a_year_end() -> None:
    month_end = items("Kim: I'll pull the numbers by Monday.", meeting=date(2026, 11, 27))
    assert month_end[0].due == date(2026, 11, 30)
    year_end = items("Leo: I'll write the design doc by next Tuesday.", meeting=date(2026, 12, 30))
    assert year_end[0].due == date(2027, 1, 5)


def test_without_a_meeting_date_there_is_no_due_date() -> None:
    assert items("Ana: I'll send the deck tomorrow.", meeting=None)[0].due is None


# --- Decisions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "statement"),
    [
        (
            "We agreed to freeze the schema until the release.",
            "Freeze the schema until the release",
        ),
        ("Okay, let's go with the blue palette.", "Go with the blue palette"),
        ("We decided to drop the tablet layout.", "Drop the tablet layout"),
        ("So we'll launch on March 1st.", "Launch on March 1st"),
        ("We're not moving the date.", "We're not moving the date"),
    ],
)
def test_decisions_are_short_statements(said: str, statement: str) -> None:
    assert decisions(f"Ana: {said}") == [statement]


@pytest.mark.parametrize(
    "said",
    [
        "Let's see how far we get.",
        "Let's get started.",
        "We'll see.",
        "We'll cross that bridge when we get there.",
        "If we moved it to the end, we'd lose the invites.",
        "She said we'll launch in May.",
    ],
)
def test_process_talk_and_predictions_are_not_decisions(said: str) -> None:
    assert decisions(f"Ana: {said}") == []


# --- Traps -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "said",
    [
        "I'll be honest, the bug worries me.",
        "Let's see.",
        "I'll tell you what, this is the third outage.",
        "I'll say this, you have grown a lot.",
        "Can you hear me?",
        "Can you see my screen?",
        "I will never agree to a three-week sprint again.",
        "If we had budget we'd hire two.",
        "Did you send the contract to finance?",
        "She said she would send the forecast.",
        'He keeps saying "I\'ll fix it tomorrow".',
        "Ha, I'll hold you to that.",
        "If the launch goes well I'll buy you dinner.",
        "I'll eat my hat if that ships on time, just kidding.",
        "I'll be out of the office next week.",
        "Can you give us a sense of how the plans are formed?",
        "Let me think about it.",
    ],
)
def test_figures_of_speech_and_traps_are_not_items(said: str) -> None:
    assert items(f"Ana: {said}", "Ben: Okay.") == []


def test_a_real_commitment_after_a_figure_of_speech_is_kept() -> None:
    found = items("Leo: I'll tell you what, I'll write the listing copy myself.")
    assert [(i.owner, i.text) for i in found] == [("Leo", "Write the listing copy")]


# --- Speech recognition text -------------------------------------------------------------------


def test_asr_text_without_punctuation_or_capitals() -> None:
    found = items(
        "leo: okay um so yesterday i was on the login crash",
        "nina: um i'll push the fix for the push notifications today",
        "leo: nina can you also look at the crash reports from the beta testers",
        "nina: yeah sure",
        "omar: uh i'm gonna finish the the screenshots by wednesday and uh i'll send the notes",
    )
    assert [(i.owner, i.text, i.due) for i in found] == [
        ("nina", "Push the fix for the push notifications", MONDAY),
        ("nina", "Look at the crash reports from the beta testers", None),
        ("omar", "Finish the screenshots", date(2026, 12, 9)),
        ("omar", "Send the notes", None),
    ]


def test_clean_drops_corpus_markers_fillers_stutters_and_split_contractions() -> None:
    assert (
        clean("Um , I 'll {disfmarker} send the the deck , uh , ok .") == "I'll send the deck, ok."
    )


# --- Determinism -------------------------------------------------------------------------------


def test_extract_is_deterministic_and_does_not_change_its_input() -> None:
    meeting = turns(
        "Ana: Ben, can you send the deck by Friday?",
        "Ben: Yes. Priya will draft the FAQ.",
        "Ana: Great, we agreed to ship on Thursday. I'll book the room tomorrow.",
    )
    before = [t.model_copy() for t in meeting]
    first = extract(meeting, meeting_date=MONDAY)
    assert all(extract(meeting, meeting_date=MONDAY) == first for _ in range(5))
    assert meeting == before
    assert first == (
        ["Ship on Thursday"],
        [
            ActionItem(text="Send the deck", owner="Ben", due=date(2026, 12, 11)),
            ActionItem(text="Draft the FAQ", owner="Priya"),
            ActionItem(text="Book the room", owner="Ana", due=date(2026, 12, 8)),
        ],
    )


def test_an_empty_meeting_has_nothing() -> None:
    assert extract([], meeting_date=MONDAY) == ([], [])
    assert extract(turns("Ana: {vocalsound}", "Ben: "), meeting_date=None) == ([], [])
