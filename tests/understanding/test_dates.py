"""Due dates said in a meeting, resolved against the meeting's date (understanding.dates)."""

from __future__ import annotations

from datetime import date

import pytest

from understanding.dates import find_due

MONDAY = date(2026, 12, 7)
FRIDAY = date(2026, 12, 11)
MONTH_END_FRIDAY = date(2026, 11, 27)
YEAR_END_WEDNESDAY = date(2026, 12, 30)


def due(text: str, meeting: date | None) -> date | None:
    found = find_due(text, meeting)
    return found.when if found else None


@pytest.mark.parametrize(
    ("text", "meeting", "expected"),
    [
        ("I'll send it by Friday", MONDAY, date(2026, 12, 11)),
        ("by Friday", FRIDAY, date(2026, 12, 18)),  # said on a Friday: next week's
        ("by Wednesday", MONDAY, date(2026, 12, 9)),
        ("before Monday", FRIDAY, date(2026, 12, 14)),
        ("this Friday", FRIDAY, date(2026, 12, 11)),
        ("next Tuesday", MONDAY, date(2026, 12, 15)),  # the Tuesday of next week
        ("next Tuesday", FRIDAY, date(2026, 12, 15)),  # the coming one is next week already
        ("tomorrow", MONDAY, date(2026, 12, 8)),
        ("tomorrow", YEAR_END_WEDNESDAY, date(2026, 12, 31)),
        ("by EOD", MONDAY, MONDAY),
        ("after the call", MONDAY, MONDAY),
        ("by end of week", MONDAY, date(2026, 12, 11)),
        ("by the end of the week", FRIDAY, FRIDAY),
        ("next week", MONDAY, date(2026, 12, 18)),
        ("end of next week", YEAR_END_WEDNESDAY, date(2027, 1, 8)),
        ("by end of month", MONTH_END_FRIDAY, date(2026, 11, 30)),
        ("on Monday", MONTH_END_FRIDAY, date(2026, 11, 30)),
        ("by Tuesday", MONTH_END_FRIDAY, date(2026, 12, 1)),
        ("by Friday", YEAR_END_WEDNESDAY, date(2027, 1, 1)),
        ("next Tuesday", YEAR_END_WEDNESDAY, date(2027, 1, 5)),
        ("by January 8th", YEAR_END_WEDNESDAY, date(2027, 1, 8)),
        ("starting on January fourth", YEAR_END_WEDNESDAY, None),  # a start, not a due date
        ("on January fourth", YEAR_END_WEDNESDAY, date(2027, 1, 4)),
        ("by the 15th", YEAR_END_WEDNESDAY, date(2027, 1, 15)),  # past this month: next month's
        ("by the 15th", MONDAY, date(2026, 12, 15)),
        ("in two weeks", MONDAY, date(2026, 12, 21)),
        ("on Dec 3", MONDAY, date(2027, 12, 3)),  # dates are in the future
    ],
)
def test_due_dates_are_resolved_against_the_meeting_date(
    text: str, meeting: date, expected: date | None
) -> None:
    assert due(text, meeting) == expected


@pytest.mark.parametrize(
    "text", ["I'll send the deck", "the first half", "as soon as possible", "we had three"]
)
def test_no_due_date_is_none(text: str) -> None:
    assert find_due(text, MONDAY) is None


def test_without_a_meeting_date_nothing_is_resolved() -> None:
    # Resolving against today would make the output depend on the day it runs.
    found = find_due("I'll send it tomorrow", None)
    assert found is not None and found.phrase == "tomorrow" and found.when is None


def test_the_phrase_is_located_so_it_can_be_cut_from_the_text() -> None:
    text = "send the deck to Ana by Friday please"
    found = find_due(text, MONDAY)
    assert found is not None
    assert text[found.start : found.end] == "by Friday"
