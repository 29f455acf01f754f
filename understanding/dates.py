"""Due dates said in a meeting ("by Friday", "end of next week", "tomorrow", "January 8th"),
resolved against the meeting's date.

Spoken conventions that a general date parser gets wrong or leaves out are handled here first:

- a weekday ("Friday", "by Friday", "on Friday", "before Friday") is the first one *after* the
  meeting: "by Friday" said on a Friday is the Friday a week later;
- "this Friday" is the Friday of the meeting's week when it has not passed, else the next one;
- "next Tuesday" is the Tuesday of the week after the meeting's (Monday to Sunday);
- "today", "tonight", "EOD", "end of day", "after the call", "after lunch" are the meeting's day;
- "end of (the) week", "this week", "EOW" are the Friday of the meeting's week (the next Friday
  when the meeting is on a weekend); "next week" and "end of next week" the Friday after that;
- "end of (the) month", "EOM" are the month's last day.

Anything else that looks like a date ("the 15th", "January 8th", "in two weeks") goes to
``dateparser`` with the meeting's date as ``RELATIVE_BASE`` and ``PREFER_DATES_FROM=future``.
Without a meeting date nothing is resolved (None): the result must not depend on the day it runs.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec"
)
_ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    "thirtieth": 30,
}
_ORDINAL = r"(?:\d{1,2}(?:st|nd|rd|th)?|" + "|".join(_ORDINALS) + r")"
_NUMBER = r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|a couple of|a few)"
_LEAD = r"(?:(?:by|on|before|until|till|no later than|due|for)\s+(?:the\s+)?)?"
_PART = r"(?:\s+(?:morning|afternoon|evening|night|eod|end of day))?"
_DAY = "|".join(WEEKDAYS)

#: (pattern, kind), tried in order; the first (leftmost, then longest) match in a text wins.
_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"end of next week|next week", "next_week"),
    (r"end of (?:the |this )?week|this week|eow", "this_week"),
    (r"end of (?:the |this )?month|eom", "end_of_month"),
    (
        r"(?:the )?end of (?:the )?(?:day|today)|end of business|close of business|eod|cob|"
        r"today|tonight|this (?:morning|afternoon|evening)|"
        r"(?:right )?after (?:this|the) (?:call|meeting)|right after this|after lunch",
        "today",
    ),
    (r"(?:the )?day after tomorrow", "day_after_tomorrow"),
    (r"tomorrow" + _PART, "tomorrow"),
    (rf"next (?:{_DAY})" + _PART, "next_weekday"),
    (rf"this (?:{_DAY})" + _PART, "this_weekday"),
    (rf"(?:{_DAY})" + _PART, "weekday"),
    (rf"in {_NUMBER} (?:days?|weeks?)", "parse"),
    (rf"(?:{_MONTHS})\.? {_ORDINAL}(?:,? \d{{4}})?|{_ORDINAL} (?:of )?(?:{_MONTHS})", "parse"),
    (rf"the {_ORDINAL}", "day_of_month"),
)
_REGEX = re.compile(
    "|".join(rf"(?P<k{i}>\b{_LEAD}(?:{p})\b)" for i, (p, _) in enumerate(_PATTERNS)), re.I
)


_NOT_DUE = re.compile(r"\b(?:starting|start|starts|from|beginning|since|until after)\s*$", re.I)


@dataclass(frozen=True)
class Due:
    """A due date found in a text: the date (None when it cannot be resolved) and where it is."""

    when: date | None
    start: int
    end: int
    phrase: str


def find_due(text: str, meeting_date: date | None) -> Due | None:
    """The first due-date phrase in ``text``, resolved against ``meeting_date``; None if none."""
    for match in _REGEX.finditer(text):
        index = int(next(k for k, v in match.groupdict().items() if v is not None)[1:])
        phrase = match.group(0)
        kind = _PATTERNS[index][1]
        if _NOT_DUE.search(text[: match.start()]):
            continue  # "starting next week" is when it begins, not when it is due
        if kind == "day_of_month" and not _plausible(phrase):
            continue
        when = resolve(phrase, kind, meeting_date) if meeting_date else None
        if kind in {"parse", "day_of_month"} and meeting_date and when is None:
            continue
        return Due(when, match.start(), match.end(), phrase)
    return None


def _plausible(phrase: str) -> bool:
    """ "the 15th" is a date; "the first" alone is usually not ("the first half")."""
    words = phrase.lower().split()
    return not (len(words) >= 2 and words[-2] == "the" and words[-1] in _ORDINALS)


def resolve(phrase: str, kind: str, meeting: date) -> date | None:
    """The date ``phrase`` (of ``kind``, see the patterns) means in a meeting on ``meeting``."""
    lowered = phrase.lower()
    if kind == "today":
        return meeting
    if kind == "tomorrow":
        return meeting + timedelta(days=1)
    if kind == "day_after_tomorrow":
        return meeting + timedelta(days=2)
    if kind == "this_week":
        return _friday_of(meeting)
    if kind == "next_week":
        return _friday_of(meeting) + timedelta(days=7)
    if kind == "end_of_month":
        return meeting.replace(day=calendar.monthrange(meeting.year, meeting.month)[1])
    if kind in {"weekday", "this_weekday", "next_weekday"}:
        day = next(i for i, name in enumerate(WEEKDAYS) if name in lowered)
        ahead = (day - meeting.weekday()) % 7
        if kind == "this_weekday":
            return meeting + timedelta(days=ahead)
        upcoming = meeting + timedelta(days=ahead or 7)
        if kind == "next_weekday" and _week(upcoming) == _week(meeting):
            upcoming += timedelta(days=7)
        return upcoming
    if kind == "day_of_month":
        return _day_of_month(int(re.sub(r"\D", "", _numbers(lowered.split()[-1]))), meeting)
    return _parse(_numbers(_strip_lead(lowered)), meeting)


def _day_of_month(day: int, meeting: date) -> date | None:
    """ "the 15th": this month's when it is still to come, else next month's (None if no such)."""
    year, month = meeting.year, meeting.month
    for _ in range(3):
        if day <= calendar.monthrange(year, month)[1]:
            candidate = date(year, month, day)
            if candidate >= meeting:
                return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _friday_of(day: date) -> date:
    """The Friday of ``day``'s week; the next Friday from a weekend."""
    ahead = (4 - day.weekday()) % 7
    return day + timedelta(days=ahead)


def _week(day: date) -> tuple[int, int]:
    iso = day.isocalendar()
    return iso[0], iso[1]


_LEAD_RE = re.compile(rf"^{_LEAD}", re.I)


def _strip_lead(phrase: str) -> str:
    return _LEAD_RE.sub("", phrase).strip()


def _numbers(phrase: str) -> str:
    """Ordinal words to numbers ("january fourth" -> "january 4"): dateparser reads digits."""
    words = [str(_ORDINALS[w]) if w in _ORDINALS else w for w in phrase.split()]
    text = " ".join(words)
    return re.sub(r"\bin (a|an) (day|week)\b", r"in 1 \2", text)


@lru_cache(maxsize=1024)
def _parse(phrase: str, meeting: date) -> date | None:
    # Imported here: dateparser takes a noticeable time to import, and most texts never need it.
    import dateparser

    parsed = dateparser.parse(
        phrase,
        languages=["en"],
        settings={
            "RELATIVE_BASE": datetime(meeting.year, meeting.month, meeting.day),
            "PREFER_DATES_FROM": "future",
            "PREFER_DAY_OF_MONTH": "first",
            "RETURN_AS_TIMEZONE_AWARE": False,
        },
    )
    return parsed.date() if parsed else None
