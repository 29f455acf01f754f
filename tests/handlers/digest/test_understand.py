"""The fill step of the one digest path: what a provider left out, the engine adds, and what
it gave stays. The engine is a test one with known answers (``tests.engines``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

from bot.meetings import ActionItem, Meeting, OutlineSection, Person, Utterance
from bot.services import Services
from handlers.digest import deliver_digest
from handlers.digest.understand import GENERIC_TITLE, UNDERSTOOD, understand_meeting
from handlers.otter.mapping import to_meeting as otter_meeting
from handlers.routing import publish_digest
from handlers.routing.repo import save_route
from tests.engines import FixedEngine, known
from tests.handlers.digest.support import otter_conversation, rig, text_of

CHANNEL = "C0MEETINGS"
STARTED = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
WithEngine = Callable[[FixedEngine], Services]


def transcribed(**fields: Any) -> Meeting:
    values: dict[str, Any] = {
        "provider": "attendee",
        "meeting_id": "bot_1",
        "title": "Zoom meeting 7 Dec 2026",
        "started_at": STARTED,
        "participants": [
            Person(name="Ada Lovelace"),
            Person(name="Grace Hopper", email="grace@example.com"),
        ],
        "transcript": [
            Utterance(speaker="Ada Lovelace", text="Let's ship on Friday.", start_seconds=0),
            Utterance(speaker="Grace Hopper", text="I'll write the notes.", start_seconds=2.5),
            Utterance(speaker="Alan Turing", text="   ", start_seconds=4),
        ],
        "extras": {GENERIC_TITLE: True},
    }
    values.update(fields)
    return Meeting.model_validate(values)


@pytest.fixture
async def services_with(sqlite_url: str) -> AsyncIterator[WithEngine]:
    """The app's services on a fresh database, with a test engine."""
    async with rig(sqlite_url) as r:

        def with_engine(engine: FixedEngine) -> Services:
            r.services.understanding = engine
            return r.services

        yield with_engine


async def test_a_transcript_only_meeting_is_filled_in(
    services_with: Callable[[FixedEngine], Services],
) -> None:
    engine = FixedEngine()
    filled = await understand_meeting(services_with(engine), transcribed())
    (turns, day), *_ = engine.calls
    assert [t.text for t in turns] == ["Let's ship on Friday.", "I'll write the notes."]
    assert [t.start for t in turns] == [0, 2.5]
    assert day == date(2026, 12, 7), "relative due dates are read from the meeting's day"
    assert filled.title == "Slack integration launch"
    assert filled.summary == "The team agreed to ship the Slack integration on Friday."
    assert filled.decisions == ["Ship the Slack integration on Friday."]
    first, second = filled.action_items
    assert (first.text, first.assignee_name) == ("Write the release notes", "Grace Hopper")
    assert first.assignee_email == "grace@example.com", "the participant of that name"
    assert first.due is not None and first.due.date() == date(2026, 12, 11)
    assert second.assignee_name is None and second.assignee_email is None
    assert [(s.title, s.start_seconds) for s in filled.outline] == [
        ("Launch plan", 0.0),
        ("Release notes", 2.5),
    ]
    assert filled.extras[UNDERSTOOD] == "fixed" and GENERIC_TITLE not in filled.extras


async def test_what_the_provider_gave_stays(
    services_with: Callable[[FixedEngine], Services],
) -> None:
    engine = FixedEngine()
    given = transcribed(
        provider="otter",
        title="Weekly product sync",
        extras={},
        summary="Otter's own summary.",
        outline=[OutlineSection(title="Otter's outline")],
    )
    filled = await understand_meeting(services_with(engine), given)
    assert engine.calls, "no action items: the engine is asked"
    assert filled.title == "Weekly product sync", "a real title is kept"
    assert filled.summary == "Otter's own summary."
    assert [s.title for s in filled.outline] == ["Otter's outline"]
    assert [i.text for i in filled.action_items] == [
        "Write the release notes",
        "Tell the support team",
    ]


async def test_a_meeting_with_everything_is_not_sent_to_the_engine(
    services_with: Callable[[FixedEngine], Services],
) -> None:
    engine = FixedEngine()
    whole = transcribed(
        title="Weekly product sync",
        extras={},
        summary="We agreed.",
        action_items=[ActionItem(text="Ship it")],
    )
    assert await understand_meeting(services_with(engine), whole) == whole
    assert engine.calls == []
    silent = transcribed(transcript=[])
    assert (await understand_meeting(services_with(engine), silent)).summary is None
    assert engine.calls == [], "nothing to read"


async def test_the_title_a_person_gave_wins(
    services_with: Callable[[FixedEngine], Services],
) -> None:
    engine = FixedEngine()
    filled = await understand_meeting(services_with(engine), transcribed(), title=" Board review ")
    assert filled.title == "Board review"
    assert filled.summary == known().summary, "the rest is still filled in"


async def test_a_filled_meeting_is_not_filled_again(
    services_with: Callable[[FixedEngine], Services],
) -> None:
    engine = FixedEngine()
    filled = await understand_meeting(services_with(engine), transcribed())
    engine.answer = known(summary="A different summary.")
    again = await understand_meeting(services_with(engine), filled)
    assert again.summary == filled.summary and len(engine.calls) == 1


async def test_the_engines_notice_is_kept_for_the_digest(
    services_with: Callable[[FixedEngine], Services],
) -> None:
    engine = FixedEngine(known(notice="The model failed; this is the embedded summary."))
    filled = await understand_meeting(services_with(engine), transcribed())
    assert (
        filled.extras["understanding_notice"] == "The model failed; this is the embedded summary."
    )


async def test_an_otter_meeting_without_a_summary_is_delivered_filled(database_url: str) -> None:
    async with rig(database_url) as r:
        r.services.understanding = FixedEngine()
        otter = transcribed(provider="otter", meeting_id="conv-9", title="Weekly sync", extras={})
        await deliver_digest(r.services, otter, CHANNEL)
        (parent,) = r.slack.messages(CHANNEL)
        shown = text_of(parent.blocks)
        assert "The team agreed to ship the Slack integration on Friday." in shown
        assert "Decisions" in shown and "Write the release notes" in shown
        assert "📝 Weekly sync" in shown
        # Grace was named by the engine and has an email in the meeting: she is pre-assigned.
        item = next(b for b in parent.blocks if b.get("block_id") == "digest.item.1")
        assert item["accessory"]["initial_user"] == "U0GRACE"


async def test_a_title_rule_routes_on_the_filled_title(database_url: str) -> None:
    async with rig(database_url) as r:
        r.services.understanding = FixedEngine()
        await save_route(
            r.services.sessions, "title", "integration launch", "C0ENG", "U0ADA", STARTED
        )
        delivered = await publish_digest(r.services, transcribed(meeting_id="bot_2"))
        assert delivered is not None and delivered.channel == "C0ENG"
        (parent,) = r.slack.messages("C0ENG")
        assert "Slack integration launch" in text_of(parent.blocks)


async def test_otter_without_a_summary_keeps_its_items_and_gets_a_summary(
    database_url: str,
) -> None:
    conversation = otter_conversation("conversation_all")
    meeting = otter_meeting(conversation)
    assert meeting.transcript and meeting.summary, "the recording has both"
    meeting = meeting.model_copy(
        update={"summary": None, "action_items": [ActionItem(text="Otter's own item")]}
    )
    async with rig(database_url, digest_channel=CHANNEL) as r:
        engine = FixedEngine()
        r.services.understanding = engine
        await publish_digest(r.services, meeting)
        (parent,) = r.slack.messages(CHANNEL)
        shown = text_of(parent.blocks)
        assert "The team agreed to ship the Slack integration on Friday." in shown
        assert "Otter's own item" in shown and "Write the release notes" not in shown
        assert f"📝 {meeting.title}" in shown, "Otter's title is a real one"
        assert len(engine.calls) == 1


async def test_a_meeting_delivered_before_keeps_its_understanding(database_url: str) -> None:
    async with rig(database_url) as r:
        engine = FixedEngine()
        r.services.understanding = engine
        await deliver_digest(r.services, transcribed(meeting_id="bot_3"), CHANNEL)
        # The job runs again from the provider's raw meeting (a retry, another channel), and
        # the engine would now answer otherwise: the earlier understanding stands.
        engine.answer = known(summary="Another summary.", action_items=[])
        await deliver_digest(r.services, transcribed(meeting_id="bot_3"), "C0ENG")
        (elsewhere,) = r.slack.messages("C0ENG")
        shown = text_of(elsewhere.blocks)
        assert "The team agreed to ship the Slack integration on Friday." in shown
        assert "Write the release notes" in shown and "Another summary." not in shown
        assert len(engine.calls) == 1


def test_items_the_engine_drew_are_suggested_by_debrief_not_the_provider() -> None:
    from handlers.digest.items import ItemView
    from handlers.digest.render import EXTRA_FILLED, item_blocks

    meeting = Meeting(
        provider="attendee",
        meeting_id="m-1",
        title="Planning",
        action_items=[ActionItem(text="Send the deck", assignee_name="Grace")],
    )
    suggested = {1: ItemView(item_id=1, assignee="U0GRACE", suggested=True)}
    unassigned = {1: ItemView(item_id=1)}
    assert "suggested by Attendee" in str(item_blocks(meeting, 0, suggested))
    meeting.extras[EXTRA_FILLED] = ["summary", "action_items"]
    assert "suggested by Debrief" in str(item_blocks(meeting, 0, suggested))
    assert "(Debrief: Grace)" in str(item_blocks(meeting, 0, unassigned))
