"""Every message builder under ``handlers/``, fed hostile and very long strings in every field a
person or a provider fills in: nothing reaches Slack as markup, and every block stays within
Slack's limits (checked by the Slack stand-in's own validator).

Builders are discovered: each public function of a ``blocks``, ``messages`` or ``render`` module,
and any function named like a builder (``build_*``, ``render_*``, ``*_blocks``, ``*_text``,
``*_view``, ``*_reply``, ``*_dm``) anywhere in ``handlers``. Each must appear in ``RENDERERS``
(with inputs that fill its fields) or in ``NOT_MESSAGES`` (with the reason it shows nothing a
person or provider wrote); a new builder fails ``test_every_builder_is_covered`` until it does.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

import handlers
from bot.blockkit import FALLBACK_TEXT, FILE_TITLE, SECTION_TEXT, file_title
from bot.meetings import ActionItem, Insight, Links, Meeting, OutlineSection, Person, Utterance
from handlers.action_items import blocks as action_blocks
from handlers.action_items.repo import ItemState
from handlers.attendee import blocks as attendee_blocks
from handlers.attendee.jobs import render_status
from handlers.attendee.states import describe
from handlers.attendee.tables import AttendeeBot
from handlers.calendar import blocks as calendar_blocks
from handlers.calendar import dm_blocks as calendar_dms
from handlers.calendar.tables import CalendarEventRecord
from handlers.claritalk.messages import explain
from handlers.commands import build_help_blocks, usage_reply
from handlers.digest import HeldForReview, render
from handlers.digest import blocks as digest_blocks
from handlers.digest.items import ItemView
from handlers.otter.blocks import build_recent_blocks
from handlers.otter.jobs import held_text
from handlers.review import blocks as review_blocks
from handlers.routing.rules import describe as describe_route
from handlers.search import blocks as search_blocks
from handlers.search.index import MeetingHit, Moment
from handlers.whereby import blocks as whereby_blocks
from handlers.whereby.tables import WherebyRoom
from handlers.wiring import Subcommands
from providers.attendee import Bot
from providers.claritalk import ConnectionLapsed
from providers.errors import BadRequest
from providers.otter import Conversation
from sandbox.slack import validate_blocks, validate_view
from understanding.types import Answer

Block = dict[str, Any]

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
#: Everything Slack would read as markup, and the three characters it needs escaped.
HOSTILE = (
    "<!channel> <!here> <!everyone> <@U0EVIL> <#C0EVIL> <!subteam^S0EVIL> "
    "<https://evil.example/|click here> <b>bold</b> a & b &lt;already&gt;"
)
HOSTILE_URL = "https://zoom.us/j/1?pwd=<!channel>|<@U0EVIL>>x y"
#: What must never appear in mrkdwn, in a message's ``text`` or in a file title.
RAW = (
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U0EVIL",
    "<#C0EVIL",
    "<!subteam",
    "<https://evil",
    "<b>",
    "</b>",
    "a & b",
    "&lt;already",  # the entity a person typed is shown as typed, so it is escaped once more
)


@dataclass(frozen=True)
class Inputs:
    """What a person or a provider filled in: ``text`` for titles, summaries and sentences,
    ``name`` for people, ``url`` for links."""

    label: str
    text: str
    name: str
    url: str


VARIANTS = [
    Inputs("hostile", HOSTILE, HOSTILE, HOSTILE_URL),
    # 10,000 characters: words, and one endless word that escaping makes five times longer.
    Inputs("long-words", "word " * 2000, "name " * 2000, "https://zoom.us/j/1?pwd=" + "a" * 10_000),
    Inputs("long-entities", "&<>" * 3400, "&" * 10_000, "https://zoom.us/j/1?x=" + "&<|>" * 2500),
]


@dataclass
class Output:
    """What a builder produced, by how Slack reads it."""

    #: Messages' top-level ``text`` (mrkdwn, a notification line).
    texts: list[str] = field(default_factory=list)
    #: Strings a builder returns for use inside mrkdwn.
    mrkdwn: list[str] = field(default_factory=list)
    #: Each message's or answer's blocks.
    blocks: list[list[Block]] = field(default_factory=list)
    views: list[Block] = field(default_factory=list)
    file_titles: list[str] = field(default_factory=list)

    def message(self, text: str, blocks: list[Block]) -> Output:
        self.texts.append(text)
        self.blocks.append(blocks)
        return self


# --- inputs for each kind of builder -------------------------------------------------------


def meeting(i: Inputs, provider: str = "otter") -> Meeting:
    return Meeting(
        provider=provider,
        meeting_id="m1",
        title=i.text,
        started_at=NOW,
        ended_at=NOW + timedelta(minutes=30),
        owner=Person(name=i.name, email="host@example.com", is_host=True),
        participants=[Person(name=f"{i.name} {n}", email=f"p{n}@example.com") for n in range(3)],
        summary=i.text,
        decisions=[i.text, i.text, i.text],
        action_items=[
            ActionItem(text=i.text, assignee_name=i.name, assignee_email="a@example.com")
            for _ in range(12)
        ],
        insights=[Insight(topic=i.text, points=[i.text, i.text])],
        outline=[OutlineSection(title=i.text, points=[i.text], start_seconds=60)],
        transcript=[
            Utterance(speaker=i.name, text=i.text, start_seconds=s * 10.0, duration_seconds=9)
            for s in range(4)
        ],
        links=Links(provider_page=i.url, recording=i.url + "r", transcript=i.url + "t", call=i.url),
        provider_channels=[i.text],
        extras={"understanding_notice": i.text, "filled": ["summary", "decisions"]},
    )


def item_views(count: int = 12) -> dict[int, ItemView]:
    return {
        n: ItemView(item_id=n, assignee="U0REAL" if n % 2 else None, due=date(2026, 12, 1))
        for n in range(1, count + 1)
    }


def digest_output(part: render.Part, out: Output) -> Output:
    return out.message(part.text, part.blocks)


def render_digest(i: Inputs) -> Output:
    out = Output()
    recording = {"type": "button", "action_id": "x.recording", "text": plain("🎬 Recording")}
    for items in (item_views(), None):
        for summarises in (True, False):
            m = meeting(i)
            if not summarises:
                m = m.model_copy(update={"summary": None, "action_items": []})
            rendered = render.render_digest(
                m, items, actions=[recording], transcript_attached=True, summarises=summarises
            )
            for part in [rendered.parent, *rendered.thread]:
                digest_output(part, out)
    return out


def build_parent(i: Inputs) -> Output:
    return digest_output(render.build_parent(meeting(i), True, item_views()), Output())


def build_thread(i: Inputs) -> Output:
    out = Output()
    for part in render.build_thread(meeting(i), item_views()):
        digest_output(part, out)
    return out


def plain(text: str) -> Block:
    return {"type": "plain_text", "text": text}


def attendee_row(i: Inputs) -> AttendeeBot:
    return AttendeeBot(
        id="r1",
        bot_id="bot_1",
        team_id="T1",
        channel_id="C0REAL",
        user_id="U0REAL",
        meeting_url=i.url,
        join_at=NOW,
        dedup_key="k",
        state="joined_recording",
        state_detail=i.text,
    )


def attendee_status(i: Inputs) -> Output:
    row = attendee_row(i)
    out = Output()
    for status in (describe("joined_recording"), describe("fatal_error", None, i.text)):
        out.message(
            attendee_blocks.status_text(status),
            attendee_blocks.build_status_blocks(row, status, i.text),
        )
    # Scheduled (a *Cancel* button) and cancelled (who did it, in the headline).
    for state in ("scheduled", "cancelled"):
        row.state, row.stopped_by = state, i.name
        status = describe(state)
        out.message(
            attendee_blocks.status_text(status),
            attendee_blocks.build_status_blocks(row, status, i.text),
        )
    return out


def attendee_bots(i: Inputs) -> Output:
    bots = [
        Bot(
            id=f"bot_{n}",
            meeting_url=i.url,
            state=i.text if n % 2 else "joined_recording",
            metadata={"slack_user_id": i.name, "slack_channel_id": i.text},
        )
        for n in range(25)
    ]
    return Output(blocks=[attendee_blocks.build_bots_blocks(bots, describe)])


def item_state(i: Inputs, n: int = 1) -> ItemState:
    return ItemState(
        id=n,
        provider="otter",
        meeting_id=f"m{n % 3}",
        position=n,
        meeting_title=i.text,
        text=i.text,
        provider_assignee=i.name,
        assignee="U0REAL",
        suggested=False,
        assigned_by="U0BOSS",
        due=date(2026, 11, 19 + n % 3),
        status="open",
        closed_by=None,
        version=1,
        created_at=NOW,
    )


def items(i: Inputs, count: int = 30) -> list[ItemState]:
    return [item_state(i, n) for n in range(1, count + 1)]


def links(i: Inputs) -> dict[tuple[str, str], str | None]:
    return {("otter", f"m{n}"): i.url for n in range(3)}


def home_view(i: Inputs) -> Output:
    view = action_blocks.build_home_view(
        today=date(2026, 11, 20),
        own=items(i),
        assigned=items(i, 20),
        links=links(i),
        reminders_on=True,
        reminder_hour=9,
        notice="Only <@U0REAL> can do that.",
        item_links={n: i.url for n in range(1, 31)},
    )
    return Output(views=[view])


def todo_reply(i: Inputs) -> Output:
    text, blocks = action_blocks.build_todo_reply(items(i), date(2026, 11, 20), links(i))
    return Output().message(text, blocks)


def reminder(i: Inputs) -> Output:
    text, blocks = action_blocks.build_reminder(items(i), date(2026, 11, 20), links(i))
    return Output().message(text, blocks)


def change_dm(i: Inputs) -> Output:
    out = Output()
    for change in action_blocks.CHANGE_WORDS:
        after = "2026-12-01" if change == "due" else "U0OTHER"
        text, blocks = action_blocks.build_change_dm(
            change, item_state(i), actor="U0BOSS", after=after, url=i.url
        )
        out.message(text, blocks)
    return out


def search_results(i: Inputs) -> Output:
    snippet = f"{i.text} \x02{i.text}\x03 {i.text}"
    hits = [
        MeetingHit(
            id=n,
            provider="otter",
            meeting_id=f"m{n}",
            title=i.text,
            channel_id="C0MEETINGS",
            digest_ts="1.2",
            permalink=i.url,
            started_at=NOW,
            score=1.0,
            moments=[Moment(n, i.name, 65.0 * m, snippet) for m in range(3)],
        )
        for n in range(5)
    ]
    return Output().message(*search_blocks.build_results_blocks(i.text, hits))


def search_answer(i: Inputs) -> Output:
    citations = [search_blocks.Citation(i.text, i.url, i.name, 3700.0, NOW) for _ in range(3)]
    answer = Answer(text=i.text, citations=["1:1"])
    out = Output().message(*search_blocks.build_answer_blocks(i.text, answer, citations))
    missing = Answer(text="", found=False)
    return out.message(*search_blocks.build_answer_blocks(i.text, missing, []))


def otter_recent(i: Inputs) -> Output:
    conversations = [
        Conversation.model_validate(
            {"id": f"c{n}", "title": i.text, "url": i.url, "created_at": 1763650000}
        )
        for n in range(10)
    ]
    return Output(blocks=[build_recent_blocks(conversations, everyone=True)])


def otter_held(i: Inputs) -> Output:
    conversation = Conversation.model_validate(
        {"id": "c1", "title": i.text, "url": i.url, "created_at": 1763650000}
    )
    return Output(
        texts=[
            held_text(conversation, HeldForReview("C0MEETINGS", 7, owner, state), "U0ADA")
            for owner, state in (
                ("U0ADA", "pending"),
                ("U0BOB", "pending"),
                (None, "pending"),
                ("U0ADA", "private"),
            )
        ]
    )


def whereby_row(i: Inputs, status: str = "open") -> WherebyRoom:
    return WherebyRoom(
        id="w1",
        meeting_id="123",
        room_url=i.url,
        title=i.text,
        team_id="T1",
        channel_id="C0REAL",
        creator_id="U0REAL",
        end_at=NOW,
        status=status,
        status_detail=i.text,
        closed_by="U0REAL",
        participants=2,
        people={"names": [i.name, i.name]},
        recording_id="rec1",
        digest_state="posted",
    )


def whereby_room(i: Inputs) -> Output:
    out = Output()
    for status in ("open", "failed", "closed"):
        row = whereby_row(i, status)
        out.message(whereby_blocks.room_text(row), whereby_blocks.build_room_blocks(row))
        out.mrkdwn.append(whereby_blocks.room_status(row))
    return out


def whereby_host(i: Inputs) -> Output:
    out = Output()
    for posted in (True, False):
        out.blocks.append(whereby_blocks.build_host_blocks(whereby_row(i), i.url, posted=posted))
    return out


def claritalk_explain(i: Inputs) -> Output:
    errors = [
        BadRequest("claritalk", i.text, status_code=422, body={"errors": {"title": [i.text]}}),
        BadRequest("claritalk", i.text, status_code=422, body={"message": i.text}),
        ConnectionLapsed(i.text),
    ]
    return Output(mrkdwn=[explain(e) for e in errors])


def help_blocks(i: Inputs) -> Output:
    commands = Subcommands()
    commands.add("join", "join <meeting-url>", "Send a notetaker", _no_handler)
    return Output(blocks=[build_help_blocks(commands)])


def calendar_events(i: Inputs) -> list[CalendarEventRecord]:
    """A day of calendar meetings, one of each kind, whose titles, links, series and reasons
    are ``i``'s (an event's reason is words the calendar core wrote from Attendee's answer)."""
    decisions = ("scheduled", "policy", "no_link", "refused", "skipped", "scheduled")
    return [
        CalendarEventRecord(
            event_id=f"evt_{n}",
            user_id="U0OWNER",
            series=i.text[:255],
            title=i.text[:300],
            start_time=NOW + timedelta(hours=n),
            meeting_url=i.url,
            decision=decision,
            reason=i.text if n % 2 else None,
            owner_choice=("skip", "record", None)[n % 3],
        )
        for n, decision in enumerate(decisions * 4)
    ]


def calendar_notes() -> list[calendar_dms.Note]:
    return [
        calendar_dms.Note(f"evt_{n}", choice, "U0OWNER", NOW)
        for n, choice in enumerate(calendar_dms.NOTE_WORDS)
    ]


def calendar_morning(i: Inputs) -> Output:
    return Output().message(
        *calendar_dms.build_morning_dm(calendar_events(i), [], UTC, calendar_notes())
    )


def calendar_reminder(i: Inputs) -> Output:
    out = Output()
    for record in calendar_events(i)[:3]:
        out.message(*calendar_dms.build_reminder_dm(record, [i.text], UTC, 5, calendar_notes()))
    return out


async def _no_handler(ctx: Any) -> str:
    return ""


def review_message(i: Inputs) -> Output:
    out = Output()
    preview = render.render_digest(meeting(i)).parent
    outside = [i.text, f"{i.name}@acme.example"] * 4
    for state, owner in (
        ("pending", "U0ADA"),
        ("pending", None),
        ("shared", "U0ADA"),
        ("private", "U0ADA"),
        ("private", None),
    ):
        out.message(
            *review_blocks.build_review_blocks(
                7,
                preview,
                channel="C0MEETINGS",
                owner=owner,
                external=outside,
                state=state,
                decided_by="U0BOSS",
            )
        )
    return out


def routes(i: Inputs) -> Output:
    return Output(
        mrkdwn=[describe_route(kind, i.text) for kind in ("title", "otter-channel", i.text)]
    )


def calendar_status(i: Inputs) -> Output:
    lines = [
        calendar_blocks.CalendarLine(i.text, "connected", None, NOW),
        calendar_blocks.CalendarLine(i.text, "disconnected", i.text, NOW),
    ]
    events = [calendar_blocks.EventLine(i.text, NOW, i.text) for _ in range(12)]
    out = Output()
    out.message(*calendar_blocks.build_calendar_status_blocks(lines, i.text, [i.text] * 40, [], []))
    out.message(*calendar_blocks.build_calendar_status_blocks(lines, "all", [], events, events))
    out.message(*calendar_blocks.build_calendar_status_blocks([], "all", [], [], []))
    return out


RENDERERS: dict[str, Callable[[Inputs], Output]] = {
    "handlers.calendar.blocks:build_calendar_status_blocks": calendar_status,
    "handlers.calendar.blocks:build_calendar_home_blocks": lambda i: Output(
        views=[
            {
                "type": "home",
                "blocks": calendar_blocks.build_calendar_home_blocks(
                    [calendar_blocks.CalendarLine(i.text, "disconnected", i.text, NOW)],
                    "internal",
                    [i.text] * 40,
                    "calendar.policy",
                    "calendar.never_words",
                ),
            }
        ]
    ),
    "handlers.calendar.blocks:build_disconnected_dm": lambda i: Output().message(
        *calendar_blocks.build_disconnected_dm(i.text, i.text)
    ),
    "handlers.calendar.blocks:calendar_line": lambda i: Output(
        mrkdwn=[
            calendar_blocks.calendar_line(calendar_blocks.CalendarLine(i.name, state, i.text, NOW))
            for state in ("connected", "disconnected")
        ]
    ),
    "handlers.digest.render:render_digest": render_digest,
    "handlers.digest.render:build_parent": build_parent,
    "handlers.digest.render:build_thread": build_thread,
    "handlers.digest.render:item_text": lambda i: Output(
        mrkdwn=[
            render.item_text(ActionItem(text=i.text, assignee_name=i.name), view, "otter")
            for view in (None, ItemView(item_id=1), ItemView(item_id=1, assignee="U0REAL"))
        ]
    ),
    "handlers.digest.render:item_blocks": lambda i: Output(
        blocks=[render.item_blocks(meeting(i), 0, item_views())]
    ),
    "handlers.digest.render:build_fields": lambda i: Output(
        blocks=[[{"type": "section", "fields": render.build_fields(meeting(i))}]]
    ),
    "handlers.digest.render:build_links": lambda i: Output(
        blocks=[[render.context(render.build_links(meeting(i)))]]
    ),
    "handlers.digest.render:summary_chunks": lambda i: Output(
        blocks=[[render.section(c) for c in render.summary_chunks(meeting(i))]]
    ),
    "handlers.digest.render:decision_chunks": lambda i: Output(
        blocks=[[render.section(c) for c in render.decision_chunks(meeting(i))]]
    ),
    "handlers.digest.render:understanding_notes": lambda i: Output(
        blocks=[[render.context(*render.understanding_notes(meeting(i)))]]
    ),
    "handlers.digest.render:outline_blocks": lambda i: Output(
        blocks=[list(render.outline_blocks(meeting(i)))]
    ),
    "handlers.digest.render:insight_blocks": lambda i: Output(
        blocks=[list(render.insight_blocks(meeting(i)))]
    ),
    "handlers.digest.render:transcript_blocks": lambda i: Output(
        blocks=[list(render.transcript_blocks(meeting(i)))]
    ),
    "handlers.digest.render:transcript_details": lambda i: Output(
        blocks=[[b for _, b in render.transcript_details(meeting(i), leading=True)]]
    ),
    "handlers.digest.blocks:talk_time_text": lambda i: Output(
        mrkdwn=[digest_blocks.talk_time_text(meeting(i))]
    ),
    "handlers.attendee.blocks:build_status_blocks": attendee_status,
    "handlers.attendee.blocks:status_text": attendee_status,
    "handlers.attendee.blocks:build_bots_blocks": attendee_bots,
    "handlers.attendee.blocks:build_recording_blocks": lambda i: Output(
        blocks=[attendee_blocks.build_recording_blocks(i.url, NOW)]
    ),
    "handlers.attendee.jobs:render_status": lambda i: Output().message(
        *render_status(attendee_row(i), "could_not_join_meeting", i.text)
    ),
    "handlers.action_items.blocks:build_home_view": home_view,
    "handlers.action_items.blocks:build_items_blocks": lambda i: Output(
        blocks=[action_blocks.build_items_blocks(items(i), date(2026, 11, 20), links(i))]
    ),
    "handlers.action_items.blocks:build_todo_reply": todo_reply,
    "handlers.action_items.blocks:build_reminder": reminder,
    "handlers.action_items.blocks:build_change_dm": change_dm,
    "handlers.action_items.blocks:meeting_title": lambda i: Output(
        mrkdwn=[action_blocks.meeting_title(item_state(i), url) for url in (i.url, None)]
    ),
    "handlers.action_items.blocks:item_line": lambda i: Output(
        mrkdwn=[action_blocks.item_line(item_state(i), date(2026, 11, 20), owner=True, url=i.url)]
    ),
    "handlers.otter.blocks:build_recent_blocks": otter_recent,
    "handlers.otter.jobs:held_text": otter_held,
    "handlers.search.blocks:build_results_blocks": search_results,
    "handlers.search.blocks:build_answer_blocks": search_answer,
    "handlers.search.blocks:citation_text": lambda i: Output(
        mrkdwn=[search_blocks.citation_text(1, search_blocks.Citation(i.text, i.url, i.name, 5.0))]
    ),
    "handlers.whereby.blocks:room_text": whereby_room,
    "handlers.whereby.blocks:room_status": whereby_room,
    "handlers.whereby.blocks:build_room_blocks": whereby_room,
    "handlers.whereby.blocks:build_link_blocks": lambda i: Output(
        blocks=[whereby_blocks.build_link_blocks("recording", i.url, NOW)]
    ),
    "handlers.whereby.blocks:build_host_blocks": whereby_host,
    "handlers.claritalk.messages:explain": claritalk_explain,
    "handlers.commands:build_help_blocks": help_blocks,
    "handlers.calendar.dm_blocks:build_morning_dm": calendar_morning,
    "handlers.calendar.dm_blocks:build_reminder_dm": calendar_reminder,
    "handlers.calendar.dm_blocks:outcome_text": lambda i: Output(
        mrkdwn=[calendar_dms.outcome_text(r, [i.text]) for r in calendar_events(i)]
    ),
    "handlers.commands:usage_reply": lambda i: Output(
        texts=[str(usage_reply(Subcommands(), i.text))]
    ),
    "handlers.routing.rules:describe": routes,
    "handlers.review.blocks:build_review_blocks": review_message,
    "handlers.review.blocks:build_edit_modal": lambda i: Output(
        views=[review_blocks.build_edit_modal(7, i.text, i.text)]
    ),
    # The Slack client's own conversions: a transcript's file title.
    "bot.blockkit:file_title": lambda i: Output(file_titles=[file_title(f"Transcript: {i.text}")]),
}

#: Discovered functions that put nothing a person or provider wrote into a message, and why.
NOT_MESSAGES: dict[str, str] = {
    "handlers.digest.render:provider_name": "Debrief's own names of providers",
    "handlers.digest.render:section": "wraps mrkdwn its callers built",
    "handlers.digest.render:context": "wraps mrkdwn its callers built",
    "handlers.digest.render:item_controls": "buttons with ids",
    "handlers.digest.render:items_heading": "counts",
    "handlers.digest.render:leads_with_transcript": "a yes or no",
    "handlers.digest.render:actions_block": "wraps its caller's buttons",
    "handlers.digest.render:excerpt": "cuts text already escaped (transcript_blocks)",
    "handlers.digest.render:transcript_is_cut": "a yes or no",
    "handlers.digest.blocks:format_duration": "a length",
    "handlers.search.blocks:moment_time": "a moment of a meeting, from a number",
    "handlers.digest.blocks:share_bar": "a bar",
    "handlers.digest.blocks:share_and_time": "a share and a length",
    "handlers.digest.text:split_text": "cuts mrkdwn its callers built",
    "handlers.action_items.blocks:section": "wraps mrkdwn its callers built",
    "handlers.action_items.blocks:context": "wraps mrkdwn its callers built",
    "handlers.action_items.blocks:button": "a button with Debrief's label",
    "handlers.action_items.blocks:urgency": "a sort key",
    "handlers.action_items.blocks:when": "dates",
    "handlers.action_items.blocks:by_meeting": "grouping",
    "handlers.action_items.blocks:counts": "counts",
    "handlers.action_items.blocks:plural": "counts",
    "handlers.whereby.blocks:button_value": "ids",
    "handlers.whereby.blocks:read_value": "ids",
    "handlers.whereby.blocks:people_count": "a count",
    "handlers.whereby.blocks:recording_button": "a button with ids",
    "handlers.whereby.blocks:transcript_button": "a button with ids",
    "handlers.whereby.blocks:build_notice_blocks": "wraps mrkdwn its callers built",
    "handlers.claritalk.mapping:summary_text": "maps Claritalk's data into a Meeting",
    "handlers.claritalk.access:build_client": "builds an API client",
    "handlers.attendee.plugin:build_client": "builds an API client",
    "handlers.otter.plugin:build_client": "builds an API client",
    "handlers.whereby.plugin:build_client": "builds an API client",
    "handlers.claritalk.plugin:build_client": "builds an API client",
    "handlers.digest.render:provider_names": "the descriptors' display names",
}

#: Covered although discovery does not find them (their names say nothing of messages).
NOT_DISCOVERED = {"bot.blockkit:file_title", "handlers.routing.rules:describe"}

_BUILDER_NAME = re.compile(r"^(build_|render_)|_(blocks|text|view|reply|dm)$")
_BUILDER_MODULES = {"blocks", "messages", "render"}


def discovered() -> Iterator[str]:
    for info in pkgutil.walk_packages(handlers.__path__, "handlers."):
        module = importlib.import_module(info.name)
        in_builder_module = info.name.rsplit(".", 1)[-1] in _BUILDER_MODULES
        for name, value in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(value):
                continue
            if value.__module__ != module.__name__ or inspect.iscoroutinefunction(value):
                continue
            if in_builder_module or _BUILDER_NAME.search(name):
                yield f"{info.name}:{name}"


def test_every_builder_is_covered() -> None:
    found = set(discovered())
    missing = sorted(found - RENDERERS.keys() - NOT_MESSAGES.keys())
    assert not missing, f"message builders without hostile-input coverage: {missing}"
    stale = sorted((RENDERERS.keys() | NOT_MESSAGES.keys()) - found - NOT_DISCOVERED)
    assert not stale, f"listed but no longer there: {stale}"


def text_objects(value: Any) -> Iterator[Block]:
    """Every text object (``{"type": "mrkdwn"|"plain_text", "text": …}``) in a payload."""
    if isinstance(value, dict):
        if value.get("type") in ("mrkdwn", "plain_text") and isinstance(value.get("text"), str):
            yield value
        for item in value.values():
            yield from text_objects(item)
    elif isinstance(value, list):
        for item in value:
            yield from text_objects(item)


def urls(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("url", "image_url") and isinstance(item, str):
                yield item
            else:
                yield from urls(item)
    elif isinstance(value, list):
        for item in value:
            yield from urls(item)


def raw_markup(text: str) -> list[str]:
    return [marker for marker in RAW if marker in text]


CASES = [
    pytest.param(name, variant, id=f"{name.split(':')[1]}-{variant.label}")
    for name in RENDERERS
    for variant in VARIANTS
]


@pytest.mark.parametrize(("name", "inputs"), [c for c in CASES if c.values[1].label == "hostile"])
def test_nothing_a_person_or_provider_wrote_is_read_as_markup(name: str, inputs: Inputs) -> None:
    out = RENDERERS[name](inputs)
    found: list[str] = []
    for text in [*out.texts, *out.mrkdwn]:
        found += raw_markup(text)
    for payload in [*out.blocks, *out.views]:
        for obj in text_objects(payload):
            if obj["type"] == "mrkdwn":
                found += raw_markup(obj["text"])
        found += [url for url in urls(payload) if re.search(r"[<>|\s]", url)]
    for title in out.file_titles:
        found += [title] if "<" in title or ">" in title else []
    assert not found, f"{name} lets markup through: {found[:5]}"
    assert any([out.texts, out.mrkdwn, out.blocks, out.views, out.file_titles])


@pytest.mark.parametrize("name, inputs", CASES)
def test_every_block_stays_within_slack_limits(name: str, inputs: Inputs) -> None:
    out = RENDERERS[name](inputs)
    problems = [str(p) for blocks in out.blocks for p in validate_blocks(blocks)]
    problems += [str(p) for view in out.views for p in validate_view(view)]
    problems += [f"text of {len(t)}" for t in out.texts if not t or len(t) > FALLBACK_TEXT]
    problems += [f"mrkdwn of {len(t)}" for t in out.mrkdwn if len(t) > SECTION_TEXT - 100]
    problems += [f"file title of {len(t)}" for t in out.file_titles if len(t) > FILE_TITLE]
    assert not problems, f"{name} with {inputs.label} input: {problems[:5]}"


LONG = VARIANTS[1]


def test_a_long_meeting_url_keeps_the_status_message_and_its_button() -> None:
    blocks = attendee_blocks.build_status_blocks(attendee_row(LONG), describe("joined_recording"))
    assert validate_blocks(blocks) == []
    [actions] = [b for b in blocks if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == [attendee_blocks.ACTION_LEAVE]
    assert "meeting link" in blocks[1]["elements"][0]["text"]


def test_a_long_title_is_cut_with_an_ellipsis_and_the_digest_keeps_its_button() -> None:
    recording = {"type": "button", "action_id": "x.recording", "text": plain("🎬 Recording")}
    parent = render.render_digest(meeting(LONG), actions=[recording]).parent
    header = parent.blocks[0]["text"]["text"]
    assert header.startswith("📝 word word") and header.endswith("…") and len(header) <= 150
    assert [b["elements"] for b in parent.blocks if b["type"] == "actions"] == [[recording]]
    assert parent.text.startswith("Meeting digest: word word") and parent.text.endswith("…")


def test_the_digest_text_fallback_names_the_title_without_pinging() -> None:
    rendered = render.render_digest(meeting(VARIANTS[0]))
    assert rendered.parent.text.startswith("Meeting digest: &lt;!channel&gt; &lt;!here&gt;")
    assert all(part.text.startswith("&lt;!channel&gt;") for part in rendered.thread)
