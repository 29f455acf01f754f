"""The decision for one event, on the recorded Google and Microsoft events (pure)."""

from __future__ import annotations

import pytest

from handlers.calendar.policy import decide, never_word
from handlers.calendar.repo import Policy
from providers.attendee.calendars import CalendarEvent
from tests.handlers.autopilot.support import NOW, api

GOOGLE = {
    e["name"]: CalendarEvent.model_validate(e)
    for e in api("calendar_events_list_by_calendar")["results"]
}
MICROSOFT = {
    e["name"]: CalendarEvent.model_validate(e)
    for e in api("calendar_events_list_microsoft")["results"]
}
INTERNAL = frozenset({"example.com"})
DEFAULT = Policy()


def verdict(
    event: CalendarEvent, policy: Policy = DEFAULT, email: str | None = None, **kw: str
) -> str:
    return decide(event, policy, now=NOW, owner_email=email, internal=INTERNAL, **kw).decision


def test_what_cannot_be_recorded_comes_first() -> None:
    assert verdict(GOOGLE["Retro"]) == "past"
    assert verdict(GOOGLE["Lunch"]) == "no_link"
    assert verdict(GOOGLE["Standup (cancelled)"]) == "cancelled"
    assert verdict(GOOGLE["Standup (cancelled)"], choice="record") == "cancelled"
    assert decide(None, Policy(), now=NOW, owner_email=None, internal=INTERNAL).decision == (
        "cancelled"
    )


@pytest.mark.parametrize(
    ("scope", "email", "scheduled"),
    [
        ("all", None, {"Weekly sync", "Customer call — Acme", "Design review"}),
        ("organised", "ADA@example.com", {"Weekly sync", "Customer call — Acme", "Design review"}),
        ("organised", "grace@example.com", set()),
        ("accepted", "grace@example.com", {"Weekly sync", "Design review"}),
        ("internal", None, {"Design review"}),
        ("external", None, {"Weekly sync", "Customer call — Acme"}),
    ],
)
def test_each_scope(scope: str, email: str | None, scheduled: set[str]) -> None:
    policy = Policy(scope=scope)
    chosen = {name for name, e in GOOGLE.items() if verdict(e, policy, email) == "scheduled"}
    assert chosen == scheduled


def test_microsofts_answers_are_read_too() -> None:
    planning = MICROSOFT["Quarterly planning"]
    assert verdict(planning, Policy(scope="organised"), "ada@contoso.example") == "scheduled"
    assert planning.response_of("ada@contoso.example") == "organizer"


def test_the_owners_word_and_never_words() -> None:
    weekly = GOOGLE["Weekly sync"]
    assert verdict(weekly, choice="skip") == "skipped"
    assert verdict(weekly, Policy(scope="internal"), choice="record") == "scheduled"
    assert verdict(weekly, Policy(never_words=("sync",))) == "policy"
    assert verdict(weekly, Policy(never_words=("syn",))) == "scheduled", "whole words only"
    assert verdict(weekly, Policy(never_series=(weekly.series or "",))) == "policy"
    assert never_word("1:1 with Grace", ("1:1",)) == "1:1"
