"""The one renderer from a provider-neutral ``Meeting`` to Slack messages.

A digest is a parent message (title, when and how long, who, the summary, the first action items,
links) and replies in its thread (the remaining action items, the outline, the insights, talk
time and a transcript excerpt). Every message stays within Slack's limits: long content continues
in the next section or message with a "continued" marker, never silently cut.

The meeting of a provider that transcribes but never summarises (an Attendee notetaker) leads
with what it has: talk time and the transcript excerpt take the summary's place in the parent,
and the parent claims nothing about a summary or action items nobody looked for. A caller can add
interactive elements of its own to the parent (Attendee's "Recording" button), and say that it
attaches the whole transcript as a file, which the excerpt's note then points to.

Each action item is a section of its own with a stable ``block_id`` (``digest.item.<n>``, the
item's 1-based position in ``Meeting.action_items``). Given the items' stored states (who it is
for, by when, done or not), the section carries an Assign users select and is followed by an
actions block ``digest.controls.<n>`` (Done / Reopen, due date): two blocks per item, which is
why a message holds at most ``ITEMS_PER_MESSAGE`` items. Without states (a preview) the items
are plain lines. Rendering stays a pure function of the meeting and those states.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

from bot.blockkit import slack_day, slack_time
from bot.meetings import ActionItem, Meeting
from handlers.digest.blocks import format_duration, talk_time_text
from handlers.digest.items import (
    ACTION_ASSIGN,
    ACTION_DONE,
    ACTION_DUE,
    ACTION_REOPEN,
    CONTROLS_BLOCK_PREFIX,
    ITEM_BLOCK_PREFIX,
    ITEMS_IN_PARENT,
    ITEMS_PER_MESSAGE,
    ItemView,
)
from handlers.digest.limits import (
    ACTION_ELEMENTS,
    CONTEXT_TEXT,
    FIELD_TEXT,
    HEADER_TEXT,
    MESSAGE_BLOCKS,
    SECTION_TEXT,
)
from handlers.digest.pack import pack
from handlers.digest.text import (
    CONTINUED,
    escape,
    fallback,
    fit,
    join_names,
    link,
    mrkdwn,
    plain,
    split_text,
)
from handlers.digest.understand import FILLED as EXTRA_FILLED
from handlers.digest.understand import NOTICE as EXTRA_NOTICE

Block = dict[str, Any]

#: Display names of providers wired into an app that are not in the registry (a test's own).
REGISTERED_NAMES: dict[str, str] = {}
#: The stored states of a meeting's items, by 1-based position (``None``: a preview).
Items = Mapping[int, ItemView] | None
#: Sections of summary in the parent; a longer summary continues in the thread.
SUMMARY_SECTIONS_IN_PARENT = 2
#: An action item longer than this (rare: they are sentences) is cut at a word with "…".
ITEM_CHARS = 1000
#: The transcript excerpt: about the first three minutes of talk.
EXCERPT_CHARS = 2800
#: Room a section's text keeps for markup around a chunk of content.
CHUNK = SECTION_TEXT - 100
#: Slack may count an emoji as two characters; the header keeps a little room for that.
HEADER_ROOM = HEADER_TEXT - 4

OUTLINE, INSIGHTS, SUMMARY = "📋 Outline", "💡 Insights", "📄 Summary"
DECISIONS = "🧭 Decisions"
#: Sections of decisions in the parent; more continue in the thread.
DECISION_SECTIONS_IN_PARENT = 1
#: ``Meeting.extras`` keys a caller sets so that every rendering of the digest (a refresh after
#: an item changed included) shows the same: its own interactive elements for the parent, that
#: the whole transcript is attached, and that the provider never summarises.
EXTRA_ACTIONS, EXTRA_ATTACHED, EXTRA_SUMMARISES = (
    "digest_actions",
    "transcript_attached",
    "provider_summarises",
)
#: Why the provider's own summary is missing (Whereby's failed), said above the engine's.
EXTRA_PROVIDER_NOTICE = "provider_notice"
TALK_TIME, TRANSCRIPT = "🗣 Talk time", "💬 Transcript"


@dataclass(frozen=True)
class Part:
    """One Slack message of a digest: its notification text and its blocks."""

    text: str
    blocks: list[Block]


@dataclass(frozen=True)
class RenderedDigest:
    """The parent message and the thread replies, in the order they are posted."""

    parent: Part
    thread: list[Part]


def provider_name(provider: str) -> str:
    """How people are shown a provider: its descriptor's display name."""
    return provider_names().get(provider, provider.title())


def provider_names() -> dict[str, str]:
    """Every known provider's display name, by name: the registry's and any wired since."""
    from handlers.registry import PROVIDERS

    return {**{p.name: p.display_name for p in PROVIDERS}, **REGISTERED_NAMES}


def section(text: str, *, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if block_id is not None:
        block["block_id"] = block_id
    return block


def context(*texts: str) -> Block:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": fit(t, CONTEXT_TEXT)} for t in texts if t],
    }


def item_text(
    item: ActionItem, view: ItemView | None = None, provider: str = "", *, by: str | None = None
) -> str:
    """One action item: a box (ticked when done), the task, who it is for.

    With its stored state, a second line says who owns it and who decided so (the suggestion of
    ``by``, else of the provider, or the person who assigned it), when it is due and who closed
    it.
    """
    suggester = by or provider_name(provider)
    words = mrkdwn(item.text.strip() or "(no text)", ITEM_CHARS)
    done = item.is_done if view is None else view.done
    line = f"✅ ~{words}~" if done else f"◻️ {words}"
    named = item.assignee_name or item.assignee_email
    if view is None:
        return line + (f" — _{mrkdwn(named, 200)}_" if named else "")
    facts: list[str] = []
    if view.assignee:
        facts.append(f"👤 <@{view.assignee}>")
        if view.suggested:
            facts.append(f"_suggested by {suggester}_")
        elif view.assigned_by:
            facts.append(f"_assigned by <@{view.assigned_by}>_")
    else:
        unassigned = "👤 _unassigned_"
        if named:
            unassigned += f" ({suggester}: {mrkdwn(named, 100)})"
        facts.append(unassigned)
    if view.due is not None:
        set_by = f", _set by <@{view.due_set_by}>_" if view.due_set_by else ""
        facts.append(f"📅 due {slack_day(view.due)}{set_by}")
    if view.done:
        facts.append(f"done by <@{view.closed_by}>" if view.closed_by else "done")
    elif view.reopened_by:
        facts.append(f"_reopened by <@{view.reopened_by}>_")
    return f"{line}\n{' · '.join(facts)}"


def item_controls(number: int, view: ItemView) -> Block:
    """The actions block under an item: Done (or Reopen) and the due-date picker."""
    button: Block = {
        "type": "button",
        "action_id": ACTION_REOPEN if view.done else ACTION_DONE,
        "text": {"type": "plain_text", "text": "Reopen" if view.done else "✓ Done"},
        "value": str(view.item_id),
    }
    if not view.done:
        button["style"] = "primary"
    picker: Block = {
        "type": "datepicker",
        "action_id": ACTION_DUE,
        "placeholder": {"type": "plain_text", "text": "Due date"},
    }
    if view.due is not None:
        picker["initial_date"] = view.due.isoformat()
    return {
        "type": "actions",
        "block_id": f"{CONTROLS_BLOCK_PREFIX}{number}",
        "elements": [button, picker],
    }


def _items_by(meeting: Meeting) -> str | None:
    """Who drew the action items from the meeting when its provider gave none: Debrief's
    understanding engine (``handlers.digest.understand``); None for the provider's own."""
    return "Debrief" if "action_items" in meeting.extras.get(EXTRA_FILLED, ()) else None


def item_blocks(meeting: Meeting, index: int, items: Items) -> list[Block]:
    """The ``index``-th (0-based) action item: its section, and its controls when it is stored."""
    number = index + 1
    view = items.get(number) if items is not None else None
    block = section(
        item_text(meeting.action_items[index], view, meeting.provider, by=_items_by(meeting)),
        block_id=f"{ITEM_BLOCK_PREFIX}{number}",
    )
    if view is None:
        return [block]
    select: Block = {
        "type": "users_select",
        "action_id": ACTION_ASSIGN,
        "placeholder": {"type": "plain_text", "text": "Assign"},
    }
    if view.assignee:
        select["initial_user"] = view.assignee
    block["accessory"] = select
    return [block, item_controls(number, view)]


def items_heading(meeting: Meeting, first: int, last: int, items: Items = None) -> str:
    total = len(meeting.action_items)
    done = sum(
        item.is_done if items is None or n not in items else items[n].done
        for n, item in enumerate(meeting.action_items, 1)
    )
    counts = f"{total}" + (f", {done} done" if done else "")
    if first == 1 and last == total:
        return f"*🎯 Action items* ({counts})"
    continued = f" {CONTINUED}" if first > 1 else ""
    return f"*🎯 Action items* {first}–{last} of {counts}{continued}"


def summary_chunks(meeting: Meeting) -> list[str]:
    summary = (meeting.summary or "").strip()
    return split_text(escape(summary), CHUNK) if summary else []


def decision_chunks(meeting: Meeting) -> list[str]:
    lines = [f"• {escape(d.strip())}" for d in meeting.decisions if d.strip()]
    return split_text("\n".join(lines), CHUNK) if lines else []


def understanding_notes(meeting: Meeting) -> list[str]:
    """What the reader is told of the engine's part: that it wrote what the provider did not,
    and its notice when it fell back (the model failed; the embedded engine's result stands)."""
    notes = []
    missing = str(meeting.extras.get(EXTRA_PROVIDER_NOTICE) or "").strip()
    if missing:
        notes.append(f"ℹ️ {mrkdwn(missing, 500)}")
    filled = meeting.extras.get(EXTRA_FILLED) or []
    wrote = [
        name
        for field, name in (
            ("summary", "summary"),
            ("decisions", "decisions"),
            ("action_items", "action items"),
        )
        if field in filled
    ]
    if wrote:
        what = ", ".join(wrote[:-1]) + (" and " if len(wrote) > 1 else "") + wrote[-1]
        notes.append(f"🤖 Written by Debrief from the transcript: {what}.")
    notice = str(meeting.extras.get(EXTRA_NOTICE) or "").strip()
    if notice:
        notes.append(f"⚠️ {mrkdwn(notice, 500)}")
    return notes


def build_fields(meeting: Meeting) -> list[Block]:
    fields: list[tuple[str, str]] = []
    if meeting.started_at is not None:
        fields.append(("When", slack_time(meeting.started_at)))
    if meeting.length is not None:
        fields.append(("Length", format_duration(meeting.length)))
    people = meeting.people()
    if meeting.owner is not None:
        fields.append(("Host", mrkdwn(meeting.owner.name, 200)))
        people = people[1:]
    if people:
        room = FIELD_TEXT - 40
        fields.append(("Participants", join_names([escape(p.name) for p in people], room)))
    return [{"type": "mrkdwn", "text": f"*{name}*\n{value}"} for name, value in fields]


def build_links(meeting: Meeting) -> str:
    links = meeting.links
    found = [
        (links.provider_page, f"Open in {provider_name(meeting.provider)}"),
        (links.recording, "Recording"),
        (links.transcript, "Transcript"),
        (links.call, "Call link"),
    ]
    seen: set[str] = set()
    shown = []
    for url, label in found:
        if url and url not in seen:
            seen.add(url)
            shown.append(link(url, label))
    return "🔗 " + " · ".join(shown) if shown else ""


def leads_with_transcript(meeting: Meeting, summarises: bool) -> bool:
    """Whether the parent shows talk time and the transcript in the summary's place: the
    provider never summarises, and (so) gave no summary."""
    return not summarises and not summary_chunks(meeting)


def actions_block(elements: Sequence[Block]) -> Block:
    """The caller's own interactive elements, in one actions block of the parent.

    Raises:
        ValueError: more elements than an actions block holds (a caller's mistake).
    """
    if len(elements) > ACTION_ELEMENTS:
        raise ValueError(f"{len(elements)} actions; an actions block holds {ACTION_ELEMENTS}")
    return {"type": "actions", "elements": list(elements)}


def build_parent(
    meeting: Meeting,
    has_thread: bool,
    items: Items = None,
    *,
    actions: Sequence[Block] = (),
    transcript_attached: bool = False,
    summarises: bool = True,
) -> Part:
    """The parent message: everything a reader needs at a glance."""
    title = meeting.title.strip() or "Untitled meeting"
    blocks: list[Block] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": plain(f"📝 {title}", HEADER_ROOM)},
        }
    ]
    fields = build_fields(meeting)
    if fields:
        blocks.append({"type": "section", "fields": fields})
    chunks = summary_chunks(meeting)
    transcript_first = leads_with_transcript(meeting, summarises)
    if chunks:
        for index, chunk in enumerate(chunks[:SUMMARY_SECTIONS_IN_PARENT]):
            blocks.append(section(("*📄 Summary*\n" if index == 0 else "") + chunk))
        if len(chunks) > SUMMARY_SECTIONS_IN_PARENT:
            blocks.append(context("_The summary continues in the thread._"))
    elif transcript_first:
        # A few short blocks (two headings, talk time, the excerpt and its note): one message.
        details = transcript_details(meeting, attached=transcript_attached, leading=True)
        blocks.extend(chain.from_iterable(pack(details)))
    else:
        blocks.append(section(f"_{provider_name(meeting.provider)} gave no summary._"))
    decisions = decision_chunks(meeting)
    for index, chunk in enumerate(decisions[:DECISION_SECTIONS_IN_PARENT]):
        blocks.append(section((f"*{DECISIONS}*\n" if index == 0 else "") + chunk))
    if len(decisions) > DECISION_SECTIONS_IN_PARENT:
        blocks.append(context("_The decisions continue in the thread._"))
    notes = understanding_notes(meeting)
    if notes:
        blocks.append(context(*notes))
    total = len(meeting.action_items)
    if total:
        shown = min(total, ITEMS_IN_PARENT)
        blocks.append(section(items_heading(meeting, 1, total, items)))
        for index in range(shown):
            blocks.extend(item_blocks(meeting, index, items))
        if total > shown:
            left = total - shown
            more = f"{left} more action item{'s' if left != 1 else ''}"
            blocks.append(context(f"…and {more} in the thread."))
    elif not transcript_first:
        blocks.append(section("*🎯 Action items*\n_None this time._"))
    if actions:
        blocks.append(actions_block(actions))
    footer = [build_links(meeting)]
    if has_thread:
        footer.append("🧵 Outline, insights and more in the thread")
    footer.append(f"via {provider_name(meeting.provider)}")
    blocks.append(context(*footer))
    text = fallback(f"Meeting digest: {mrkdwn(title, HEADER_TEXT * 2)}")
    return Part(text, blocks)


def outline_blocks(meeting: Meeting) -> Iterator[Block]:
    for part in meeting.outline:
        stamp = ""
        if part.start_seconds is not None:
            minutes, seconds = divmod(int(part.start_seconds), 60)
            stamp = f" `{minutes:02d}:{seconds:02d}`"
        body = "\n".join(f"• {escape(point)}" for point in part.points if point.strip())
        text = f"*{escape(part.title.strip() or 'Untitled section')}*{stamp}"
        for chunk in split_text(f"{text}\n{body}" if body else text, CHUNK):
            yield section(chunk)


def insight_blocks(meeting: Meeting) -> Iterator[Block]:
    for insight in meeting.insights:
        body = "\n".join(f"• {escape(point)}" for point in insight.points if point.strip())
        if insight.topic:
            body = f"*{escape(insight.topic)}*" + (f"\n{body}" if body else "")
        if body:
            for chunk in split_text(body, CHUNK):
                yield section(chunk)


def excerpt(transcript: str, limit: int = EXCERPT_CHARS) -> tuple[str, bool]:
    """The opening of a transcript, whole lines only where possible; and whether it was cut."""
    if len(transcript) <= limit:
        return transcript, False
    cut = transcript.rfind("\n", 0, limit)
    if cut <= 0:
        return fit(transcript, limit), True
    return transcript[:cut], True


def transcript_is_cut(meeting: Meeting) -> bool:
    """Whether the digest shows only the opening of the transcript: a caller that can attach
    the whole of it as a file does so, and renders with ``transcript_attached``."""
    return excerpt(escape(meeting.transcript_text()), EXCERPT_CHARS)[1]


def transcript_blocks(meeting: Meeting, attached: bool = False) -> Iterator[Block]:
    """The transcript excerpt, and where to read the rest when it was cut."""
    whole = meeting.transcript_text()
    if not whole:
        return
    # Escaping can lengthen the text; cut with room to spare for the ``` fence.
    shown, cut = excerpt(escape(whole), EXCERPT_CHARS)
    yield section(f"```{shown}```")
    if cut:
        lines = shown.count("\n") + 1
        total = whole.count("\n") + 1
        note = f"_Excerpt: the first {lines} of {total} lines."
        where = meeting.links.transcript or meeting.links.provider_page
        if attached:
            note += " The full transcript is attached in this thread."
        elif where:
            note += f" The full transcript is in {link(where, provider_name(meeting.provider))}."
        yield context(note + "_")


def transcript_details(
    meeting: Meeting, *, attached: bool = False, leading: bool = False
) -> Iterator[tuple[str, Block]]:
    """Talk time and the transcript excerpt, which travel together: in the thread after the
    other details, or leading the parent, where an empty transcript is worth saying."""
    talk = talk_time_text(meeting)
    if leading and not meeting.transcript:
        talk = "_Nobody spoke, as far as the transcript knows._"
    if talk:
        yield TALK_TIME, section(talk)
    for block in transcript_blocks(meeting, attached):
        yield TRANSCRIPT, block


def build_thread(
    meeting: Meeting,
    items: Items = None,
    *,
    transcript_attached: bool = False,
    summarises: bool = True,
) -> list[Part]:
    """The thread replies: remaining action items, then the details, packed into messages."""
    title = meeting.title.strip() or "Untitled meeting"
    messages: list[list[Block]] = []
    total = len(meeting.action_items)
    for first in range(ITEMS_IN_PARENT, total, ITEMS_PER_MESSAGE):
        last = min(total, first + ITEMS_PER_MESSAGE)
        blocks = [section(items_heading(meeting, first + 1, last, items))]
        for index in range(first, last):
            blocks.extend(item_blocks(meeting, index, items))
        messages.append(blocks)

    def details() -> Iterator[tuple[str, Block]]:
        for chunk in summary_chunks(meeting)[SUMMARY_SECTIONS_IN_PARENT:]:
            yield SUMMARY, section(chunk)
        for chunk in decision_chunks(meeting)[DECISION_SECTIONS_IN_PARENT:]:
            yield DECISIONS, section(chunk)
        for block in outline_blocks(meeting):
            yield OUTLINE, block
        for block in insight_blocks(meeting):
            yield INSIGHTS, block
        if not leads_with_transcript(meeting, summarises):
            yield from transcript_details(meeting, attached=transcript_attached)

    messages.extend(pack(details(), max_blocks=MESSAGE_BLOCKS))
    count = len(messages)
    return [
        Part(fallback(f"{mrkdwn(title, HEADER_TEXT * 2)}: details ({n}/{count})"), blocks)
        for n, blocks in enumerate(messages, 1)
    ]


def render_digest(
    meeting: Meeting,
    items: Items = None,
    *,
    actions: Sequence[Block] = (),
    transcript_attached: bool = False,
    summarises: bool = True,
) -> RenderedDigest:
    """The whole digest of ``meeting``; a pure function of its arguments: the same inputs give
    the same blocks.

    Args:
        meeting: the meeting, from any provider.
        items: the stored states of its action items, by 1-based position; items with one get
            their controls, and without ``items`` none has (a preview).
        actions: interactive elements of the caller's own (buttons), shown in the parent in one
            actions block; at most ``ACTION_ELEMENTS``.
        transcript_attached: the caller attaches the whole transcript as a file in the digest's
            thread (see :func:`transcript_is_cut`); a cut excerpt points there.
        summarises: whether the provider summarises meetings at all; one that only transcribes
            (a notetaker) gets a digest that leads with talk time and the transcript.

    The last three default to what the meeting's ``extras`` say (``EXTRA_ACTIONS``,
    ``EXTRA_ATTACHED``, ``EXTRA_SUMMARISES``), so that a stored meeting renders the same again.
    """
    extras = meeting.extras
    if not actions:
        actions = list(extras.get(EXTRA_ACTIONS) or ())
    transcript_attached = transcript_attached or bool(extras.get(EXTRA_ATTACHED))
    summarises = summarises and extras.get(EXTRA_SUMMARISES) is not False
    thread = build_thread(
        meeting, items, transcript_attached=transcript_attached, summarises=summarises
    )
    parent = build_parent(
        meeting,
        bool(thread),
        items,
        actions=actions,
        transcript_attached=transcript_attached,
        summarises=summarises,
    )
    return RenderedDigest(parent, thread)
