"""Otter conversations, in both of the reference's shapes, as provider-neutral meetings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handlers.otter.mapping import channel_names, is_complete, to_meeting
from providers.otter import Conversation
from tests.handlers.digest.support import otter_conversation, otter_webhook


def test_shape_b_include_all() -> None:
    meeting = to_meeting(otter_conversation("conversation_all"))
    assert (meeting.provider, meeting.meeting_id) == ("otter", "conversation_id")
    assert meeting.title == "Customer Discovery Call – ACME Corp"
    assert meeting.started_at == datetime(2025, 10, 5, 11, 55, tzinfo=UTC)
    # Otter tells no duration: the last turn starts at 00:35 and its 12 words take about 4.8 s.
    assert meeting.duration is None and meeting.length == timedelta(seconds=35 + 12 * 0.4)
    assert meeting.owner is not None and meeting.owner.email == "jane.doe@example.com"
    assert [p.name for p in meeting.participants] == ["Alex Taylor"]  # Jane is the owner
    assert meeting.summary is not None and meeting.summary.startswith("The team met with ACME")
    first, second = meeting.action_items
    assert first.text.startswith("Send follow-up email")
    assert (first.assignee_name, first.assignee_email) == ("Jane Doe", "jane.doe@example.com")
    assert first.status == "open" and not first.is_done  # a null status means open
    assert second.assignee_name == "Alex Taylor"
    assert [i.topic for i in meeting.insights] == ["Budget", "Authority", "Need", "Timeline"]
    assert len(meeting.insights[0].points) == 2
    assert [s.title for s in meeting.outline] == [
        "Introductions and Context",
        "Pricing and Rollout Options",
    ]
    assert meeting.transcript[0].speaker == "Jane Doe"
    assert meeting.transcript[1].start_seconds == 7.0
    assert meeting.links.provider_page == "https://otter.ai/u/conversation_id"
    assert meeting.links.call == "https://zoom.us/j/00000000000"
    assert meeting.provider_channels == ["All customer calls"]


def test_shape_a_nested_and_legacy_keys() -> None:
    webhook = otter_webhook("webhook_nested_relationships")
    meeting = to_meeting(webhook.data, channels=[webhook.channel.name or ""])
    (item,) = meeting.action_items
    assert item.is_done and item.status == "done"
    assert meeting.insights[0].points == ["Launch next week", "Prepare for marketing"]
    assert meeting.outline[0].points == [
        "Team fatigue",
        "Tight deadline",
        "Dependency on external API",
    ]
    assert meeting.transcript[0].speaker == "Sam"
    assert meeting.transcript[0].text == "Welcome to project launch meeting!"
    assert meeting.provider_channels == ["backend product meeting"]


def test_completeness_decides_whether_to_fetch() -> None:
    assert is_complete(otter_webhook("webhook_conversation_completed").data)
    nested = otter_webhook("webhook_nested_relationships").data
    assert not nested.ready and not is_complete(nested)  # process_status still null
    listed = Conversation.model_validate(
        {
            "id": "c",
            "process_status": {
                k: "finished" for k in ("abstract_summary", "action_item", "outline")
            },
        }
    )
    assert listed.ready and not is_complete(listed), "ready, but the relationships are missing"


def test_channels_from_the_webhook_come_first_and_once() -> None:
    conversation = otter_conversation("conversation_all")
    assert channel_names(conversation, ["Sales", "All customer calls"]) == [
        "Sales",
        "All customer calls",
    ]


def test_undocumented_times_are_used_when_present() -> None:
    conversation = Conversation.model_validate(
        {
            "id": "c",
            "title": "",
            "created_at": "2025-01-01T10:00:00Z",
            "start_time": 1735725600,
            "end_time": "2025-01-01T10:45:00Z",
            "duration": "oops",
            "calendar_guests": [{"email": "guest@acme.example"}],
        }
    )
    meeting = to_meeting(conversation)
    assert meeting.title == "Untitled conversation"
    assert meeting.started_at == datetime(2025, 1, 1, 10, 0, tzinfo=UTC)
    assert meeting.length == timedelta(minutes=45)
    assert meeting.participants[0].name == "guest@acme.example"
