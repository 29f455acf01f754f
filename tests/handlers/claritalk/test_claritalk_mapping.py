"""`meeting.processed` as the provider-neutral Meeting: every payload shape Debrief tolerates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from handlers.claritalk.mapping import to_meeting
from handlers.claritalk.tables import ClaritalkConnection
from handlers.digest import render_digest
from providers.claritalk import MeetingProcessed, parse_webhook
from sandbox.slack import validate_blocks
from tests.handlers.claritalk.support import payload


def data(name: str) -> MeetingProcessed:
    event = parse_webhook(payload(name))
    assert isinstance(event.data, MeetingProcessed)
    return event.data


def test_the_documented_meeting() -> None:
    meeting = to_meeting(data("meeting_processed.json"))
    assert meeting.provider == "claritalk" and meeting.title == "Weekly standup"
    assert meeting.started_at == datetime(2025, 1, 15, 10, tzinfo=UTC)
    assert meeting.length == timedelta(seconds=3000)
    assert meeting.summary and meeting.summary.startswith("The team reviewed the Q3 budget")
    first, second, third = meeting.action_items
    assert (first.assignee_name, first.assignee_email) == ("Ada Lovelace", "ada@example.com")
    assert first.due == datetime(2025, 1, 22, tzinfo=UTC) and first.status == "open"
    assert first.text.endswith("— Include the travel line moved from Q4.")
    assert second.assignee_name == "Grace Hopper" and third.assignee_name is None
    assert [s.title for s in meeting.outline] == ["Budget", "Onboarding"]
    assert (
        meeting.outline[0].points[0]
        == "❓ Can travel move from Q4 to Q3? — Yes, if finance agrees."
    )
    assert meeting.outline[1].points == ["❓ Which hires join the pilot?"]
    assert meeting.insights[0].topic == "Q3 budget"
    assert meeting.insights[0].points == [
        "Travel spending moves forward one quarter.",
        "Travel line moves to Q3",
        "Finance to confirm by Friday",
    ]
    assert [p.name for p in meeting.participants] == ["Ada Lovelace", "Grace Hopper"]
    assert meeting.owner is None, "nobody connected as the meeting's Claritalk user"


def test_the_connected_user_is_the_host() -> None:
    owner = ClaritalkConnection(
        slack_user_id="U0ADA", claritalk_name="Ada Lovelace", claritalk_email="ada@example.com"
    )
    meeting = to_meeting(data("meeting_processed.json"), owner)
    assert meeting.owner is not None and meeting.owner.is_host
    assert [p.name for p in meeting.people()] == ["Ada Lovelace", "Grace Hopper"]


@pytest.mark.parametrize(
    "name",
    [
        "meeting_processed.json",
        "meeting_processed_strings.json",
        "meeting_processed_extra_fields.json",
        "meeting_processed_no_files.json",
        "meeting_processed_truncated_pdf.json",
    ],
)
def test_every_shape_renders_a_digest_slack_accepts(name: str) -> None:
    meeting = to_meeting(data(name))
    assert meeting.action_items and meeting.outline and meeting.insights
    assert all(item.text for item in meeting.action_items)
    rendered = render_digest(meeting)
    for part in [rendered.parent, *rendered.thread]:
        assert validate_blocks(part.blocks) == []


def test_done_todos_and_other_field_names() -> None:
    meeting = to_meeting(data("meeting_processed_extra_fields.json"))
    texts = {item.text: item for item in meeting.action_items}
    assert any(item.assignee_name or item.assignee_email for item in texts.values())
    assert any(item.due is not None for item in texts.values())
