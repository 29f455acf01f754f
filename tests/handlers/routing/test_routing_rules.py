"""Routing rules as values: targets, matching, and which rule wins."""

from __future__ import annotations

import pytest

from bot.meetings import ActionItem, Meeting, Person
from handlers.routing.rules import (
    Rule,
    choose,
    describe,
    external_emails,
    is_internal,
    parse_target,
)


def meeting(**fields: object) -> Meeting:
    values: dict[str, object] = {
        "provider": "otter",
        "meeting_id": "m",
        "title": "Weekly Product Sync",
        "provider_channels": ["All customer calls"],
    }
    values.update(fields)
    return Meeting.model_validate(values)


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("default", ("default", "")),
        ("DEFAULT", ("default", "")),
        ("external:", ("external", "")),
        ("external", ("external", "")),
        ("provider:Otter", ("provider", "otter")),
        ("provider:otter.ai", ("provider", "otter")),
        ('otter-channel:"All  Customer calls"', ("otter-channel", "all customer calls")),
        ("title:  Weekly   Sync ", ("title", "weekly sync")),
    ],
)
def test_targets_parse_and_normalise(text: str, parsed: tuple[str, str]) -> None:
    assert parse_target(text) == parsed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("everything", "is not a route target"),
        ("provider:zoom", "not a provider Debrief knows"),
        ("title:", "needs something after the colon"),
        ("title:!!!", "at least one word"),
        ("channel:general", "is not a route target"),
    ],
)
def test_bad_targets_are_explained(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_target(text)


RULES = [
    Rule(1, "default", "", "C_DEFAULT"),
    Rule(2, "provider", "otter", "C_OTTER"),
    Rule(3, "otter-channel", "all customer calls", "C_CUSTOMERS"),
    Rule(4, "external", "", "C_PRIVATE"),
    Rule(5, "title", "sync", "C_SYNCS"),
    Rule(6, "title", "product sync", "C_PRODUCT"),
]


@pytest.mark.parametrize(
    ("fields", "external", "channel"),
    [
        ({}, False, "C_PRODUCT"),  # two title rules match: the one naming more words
        ({"title": "Daily sync"}, False, "C_SYNCS"),
        ({"title": "Retro"}, True, "C_PRIVATE"),  # external beats the Otter channel
        ({"title": "Retro"}, False, "C_CUSTOMERS"),
        ({"title": "Retro", "provider_channels": []}, False, "C_OTTER"),
        ({"title": "Retro", "provider": "attendee"}, False, "C_DEFAULT"),
        ({"title": "Product sync", "provider": "attendee"}, False, "C_PRODUCT"),
    ],
)
def test_the_most_specific_rule_wins(
    fields: dict[str, object], external: bool, channel: str
) -> None:
    rule = choose(RULES, meeting(**fields), external=external)
    assert rule is not None and rule.channel == channel


def test_otter_channel_rules_apply_to_otter_only_and_titles_match_words() -> None:
    rules = [Rule(1, "otter-channel", "all customer calls", "C1"), Rule(2, "title", "sync", "C2")]
    assert choose(rules, meeting(provider="whereby", title="Retro"), external=False) is None
    assert choose(rules, meeting(title="Syncing up", provider_channels=[]), external=False) is None


def test_ties_go_to_the_older_rule() -> None:
    rules = [Rule(9, "title", "sync", "C_NEW"), Rule(3, "title", "weekly", "C_OLD")]
    assert choose(rules, meeting(), external=False) == rules[1]


def test_external_emails_from_people_and_assignees() -> None:
    m = meeting(
        owner=Person(name="Ada", email="ada@example.com"),
        participants=[
            Person(name="Eng", email="grace@eng.example.com"),
            Person(name="Alex", email="Alex.Taylor@ACME.example"),
            Person(name="No email"),
        ],
        action_items=[ActionItem(text="x", assignee_email="bob@vendor.example")],
    )
    internal = frozenset({"example.com"})
    assert external_emails(m, internal) == ["alex.taylor@acme.example", "bob@vendor.example"]
    assert external_emails(m, frozenset()) == [], "unknown domains: nobody counts as external"
    assert is_internal("eng.example.com", internal) and not is_internal("badexample.com", internal)


def test_rules_are_described_in_words() -> None:
    assert describe("title", "weekly sync") == "meetings whose title has “weekly sync”"
    assert describe("external", "") == "meetings with someone from outside the workspace"


def test_a_target_slack_sent_escaped_is_stored_as_typed_and_shown_escaped() -> None:
    # Slack escapes &, < and > in a command's text: "title:R&D <team>" arrives like this.
    kind, value = parse_target("title:R&amp;D &lt;team&gt;")
    assert (kind, value) == ("title", "r&d <team>")
    rule = Rule(1, kind, value, "C1")
    assert choose([rule], meeting(title="R&D <team> weekly"), external=False) == rule
    assert describe(kind, value) == "meetings whose title has “r&amp;d &lt;team&gt;”"
