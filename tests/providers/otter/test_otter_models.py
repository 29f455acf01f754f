"""The Otter models against the reference's own examples, in both of its shapes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from providers.otter import (
    Channel,
    Conversation,
    CreateConversationResult,
    Envelope,
    Page,
    ProcessStatus,
    Workspace,
    normalise_event,
    parse_transcript,
    parse_webhook,
)
from providers.otter.models import AudioLink


def conversation(payload, name: str) -> Conversation:
    return Envelope[Conversation].model_validate(payload(name)).data


def test_shape_a_outline_key_nested_insights_and_status_object(payload) -> None:
    c = conversation(payload, "conversation_action_items")

    assert c.id == "conversation_id"
    assert c.title == "product launch meeting"
    assert c.outline is not None and [s.section for s in c.outline] == ["Project risks"]
    assert c.outline[0].text == ["Team fatigue", "Tight deadline", "Dependency on external API"]
    assert c.insights is not None and len(c.insights) == 1
    assert c.insights[0].topic == "Decisions"
    assert c.insights[0].text == ["Launch next week", "Prepare for marketing"]
    [item] = c.action_items or []
    assert item.text == "Follow up with the sales team"
    assert item.assignee_name == "Jane Doe" and item.assignee_email == "Jane@test.com"
    assert item.completed is True
    assert item.status is not None
    assert item.status.completed_at == datetime(2025, 7, 31, 12, 0, tzinfo=UTC)
    assert c.custom_prompt is not None and c.custom_prompt.label == "Prompt created by user"
    # Its newlines are escaped twice in the reference; the turn still comes out whole.
    assert c.transcript is not None
    [turn] = c.transcript.segments
    assert (turn.speaker, turn.start, turn.end) == ("Sam", 15.0, None)
    assert turn.text == "Welcome to project launch meeting!"


def test_shape_a_is_not_ready_while_statuses_are_null(payload) -> None:
    c = conversation(payload, "conversation_action_items")

    assert c.process_status == ProcessStatus()
    assert not c.ready
    assert c.open_action_items == []


def test_shape_b_outlines_key_flat_insights_and_null_statuses(payload) -> None:
    c = conversation(payload, "conversation_all")

    assert c.title == "Customer Discovery Call – ACME Corp"
    assert c.ready
    assert c.created_at == datetime(2025, 10, 5, 11, 55, tzinfo=UTC)
    assert c.outline is not None
    assert [s.section for s in c.outline] == [
        "Introductions and Context",
        "Pricing and Rollout Options",
    ]
    assert c.insights is not None
    assert [i.topic for i in c.insights] == ["Budget", "Authority", "Need", "Timeline"]
    assert all(len(i.text) == 2 and all(isinstance(t, str) for t in i.text) for i in c.insights)
    assert [a.assignee_email for a in c.action_items or []] == [
        "jane.doe@example.com",
        "alex.taylor@example.com",
    ]
    assert all(a.status is None and not a.completed for a in c.action_items or [])
    assert len(c.open_action_items) == 2
    assert c.calendar_guests == []
    assert c.shared_emails == []
    assert c.custom_prompt is None
    assert c.shared_channels[0].channel is not None
    assert c.shared_channels[0].channel.name == "All customer calls"


def test_shape_b_transcript_turns(payload) -> None:
    c = conversation(payload, "conversation_all")

    assert c.transcript is not None and c.transcript.format == "txt"
    segments = c.transcript.segments
    assert [s.speaker for s in segments] == ["Jane Doe", "Alex Taylor"] * 3
    assert [s.start for s in segments] == [0, 7, 14, 21, 28, 35]
    assert [s.end for s in segments] == [7, 14, 21, 28, 35, None]
    assert segments[4].text == (
        "Great—I'll send a follow-up with pricing options and a proposed rollout timeline."
    )
    assert c.speakers == ["Jane Doe", "Alex Taylor"]


def test_both_shapes_keep_no_relationship_leftovers_as_extras(payload) -> None:
    for name in ("conversation_action_items", "conversation_all"):
        c = conversation(payload, name)
        assert c.model_extra == {}


def test_list_page_has_no_relationships(payload) -> None:
    page = Page[Conversation].model_validate(payload("conversations_list"))

    assert page.meta.has_more is True
    assert page.meta.next_cursor == "next_cursor_position"
    assert page.meta.retrieved_at == datetime(2025, 7, 31, 12, 0, tzinfo=UTC)
    [c] = page.data
    assert c.url == "https://otter.ai/u/conversation_id"
    assert c.action_items is None and c.insights is None and c.outline is None
    assert c.transcript is None
    assert c.abstract_summary == "This meeting discussed the next steps in the project launch"
    assert c.shared_emails[0].permission == "collaborate"
    assert c.shared_emails[0].user is not None and c.shared_emails[0].user.email == "Jane@test.com"
    assert c.speakers == ["John Doe"]  # no transcript: the calendar guests
    assert c.conf_join_url == "https://zoom.us/j/1234567890"


def test_channels_page_without_paging_fields(payload) -> None:
    page = Page[Channel].model_validate(payload("channels_list"))

    assert page.meta.has_more is False and page.meta.next_cursor is None
    [channel] = page.data
    assert (channel.id, channel.name, channel.member_count) == (
        "channel_id",
        "backend product meeting",
        50,
    )
    assert channel.owner is not None and channel.owner.display_name == "Jane Doe"


def test_workspace_audio_and_create_result(payload) -> None:
    workspace = Envelope[Workspace].model_validate(payload("workspace")).data
    audio = Envelope[AudioLink].model_validate(payload("audio")).data
    created = CreateConversationResult.model_validate(payload("create_conversation"))

    assert workspace.id == "42" and workspace.handle == "otter.ai" and workspace.type == "business"
    assert audio.url == "https://test.com/audio.mp3"
    assert created.ok and created.file == "audio.mp3"
    # The reference separates date and time with a space here.
    assert created.completed_at == datetime(2025, 12, 1, 1, 0, tzinfo=UTC)


def test_flat_webhook_payload(raw_payload) -> None:
    hook = parse_webhook(raw_payload("webhook_conversation_completed"))

    assert hook.event == "conversation_completed" and hook.is_completed and hook.is_known_event
    assert hook.delivery_key == "conversation_completed:conversation_id"
    assert hook.channel is not None and hook.channel.name == "All customer calls"
    assert hook.meta.webhook is not None and hook.meta.webhook.source_type == "channel"
    assert hook.meta.webhook.created_by is not None
    assert hook.meta.webhook.created_by.email == "jane.doe@example.com"
    c = hook.data
    assert c.ready and c.abstract_summary and c.abstract_summary.startswith("The team met")
    assert c.outline is not None and len(c.outline) == 2
    assert c.insights is not None and len(c.insights) == 4
    assert c.action_items is not None and len(c.action_items) == 2
    assert c.transcript is not None and len(c.transcript.segments) == 6


def test_nested_webhook_payload(raw_payload) -> None:
    hook = parse_webhook(raw_payload("webhook_nested_relationships"))

    assert hook.raw_event == "ConversationCompleted"
    assert hook.event == "conversation_completed" and hook.is_completed
    assert hook.data.outline is not None and hook.data.outline[0].section == "Project risks"
    assert hook.data.insights is not None
    assert hook.data.insights[0].text == ["Launch next week", "Prepare for marketing"]


def test_undocumented_conversation_fields_stay_available() -> None:
    c = Conversation.model_validate(
        {"id": 7, "name": "Standup", "duration": 930, "start_time": "2025-07-31T12:00:00Z"}
    )

    assert c.id == "7"
    assert c.title == "Standup"
    assert c.model_extra == {"duration": 930, "start_time": "2025-07-31T12:00:00Z"}
    assert c.display_title == "Standup"
    assert Conversation.model_validate({"id": "x", "title": "  "}).display_title == (
        "Untitled conversation"
    )


def test_tolerated_variants() -> None:
    c = Conversation.model_validate(
        {
            "id": "c1",
            "created_at": "not a date",
            "process_status": None,
            "calendar_guests": None,
            "relationships": {
                "insights": [{"topic": "T", "text": [["a", ["b", ""]], "c", "  "]}],
                "outline": [{"section": "S", "text": "one paragraph"}],
                "action_items": [
                    {"text": "x", "status": "Completed"},
                    {"text": "y", "status": "open"},
                    {"text": "z", "status": True},
                ],
                "transcript": "Ann 1:02:03\nHello\n",
            },
        }
    )

    assert c.created_at is None
    assert not c.ready
    assert c.insights is not None and c.insights[0].text == ["a", "b", "c"]
    assert c.outline is not None and c.outline[0].text == ["one paragraph"]
    assert [a.completed for a in c.action_items or []] == [True, False, True]
    assert c.action_items is not None and c.action_items[0].status is not None
    assert c.action_items[0].status.state == "Completed"
    assert c.transcript is not None and c.transcript.segments[0].start == 3723.0


def test_naive_timestamps_are_utc() -> None:
    c = Conversation.model_validate({"id": "c", "created_at": "2025-07-31T12:00:00"})

    assert c.created_at == datetime(2025, 7, 31, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("statuses", "ready"),
    [
        (("finished", "finished", "finished"), True),
        (("Finished", "FINISHED", "finished"), True),
        (("finished", "finished", None), False),
        (("finished", "processing", "finished"), False),
        ((None, None, None), False),
    ],
)
def test_ready_needs_all_three_finished(statuses, ready) -> None:
    summary, items, outline = statuses
    status = ProcessStatus(abstract_summary=summary, action_item=items, outline=outline)

    assert status.ready is ready


def test_transcript_text_before_the_first_turn_and_blank_lines() -> None:
    segments = parse_transcript("Recording started\n\nBo 00:05\nHi\nthere\n\n\nCy 00:09\n\nYes")

    assert [(s.speaker, s.start, s.end, s.text) for s in segments] == [
        (None, None, 5.0, "Recording started"),
        ("Bo", 5.0, 9.0, "Hi there"),
        ("Cy", 9.0, None, "Yes"),
    ]
    assert parse_transcript("") == []


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("conversation_completed", "conversation_completed"),
        ("conversation.completed", "conversation_completed"),
        ("ConversationCompleted", "conversation_completed"),
        ("CONVERSATION-COMPLETED", "conversation_completed"),
        (" Transcript Ready ", "transcript_ready"),
        ("transcript_ready", "transcript_ready"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalise_event(raw, normalised) -> None:
    assert normalise_event(raw) == normalised
