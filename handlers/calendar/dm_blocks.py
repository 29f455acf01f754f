"""The owner's calendar DMs, as Block Kit: the morning list of the day's meetings and the DM a few
minutes before a notetaker joins, each meeting with what will happen and the buttons that
change it (*Skip this one*, *Record*, *Never this series*).

Pure: what a meeting shows is read from its record and the owner's never-series list, so that a
DM drawn again after a click says what is true now. What the owner did, and when, rides in the
message itself as a note block whose ``block_id`` carries it (:func:`note_block_id`), since a
redraw must keep the notes of earlier clicks and the records do not keep who clicked when.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from bot.blockkit import (
    MESSAGE_BLOCKS,
    SECTION_TEXT,
    fallback,
    fit,
    mrkdwn,
    plain,
    slack_time,
    user_mention,
)
from handlers.calendar.tables import CalendarEventRecord

Block = dict[str, Any]

ACTION_SKIP = "calendar.skip"
ACTION_RECORD = "calendar.record"
ACTION_NEVER_SERIES = "calendar.never_series"
ACTIONS = (ACTION_SKIP, ACTION_RECORD, ACTION_NEVER_SERIES)
#: What each button does, in the words of its note.
CHOICES = {ACTION_SKIP: "skip", ACTION_RECORD: "record", ACTION_NEVER_SERIES: "never"}

EVENT_BLOCK = "calendar.event."
NOTE_BLOCK = "calendar.note."
#: Meetings one morning DM names (three blocks each, within a message's 50).
MORNING_EVENTS = 15
TITLE_LIMIT = 200

#: Why a meeting is left out, by decision, when its record gives no reason of its own.
LEFT_OUT = {
    "policy": "your calendar policy leaves it out",
    "no_link": "it has no meeting link",
    "cancelled": "it was cancelled",
    "past": "it is over",
    "skipped": "you skipped it",
    "refused": "Attendee refused the notetaker",
}
NOTE_WORDS = {
    "skip": "⏭ Skipped by {who} {when}: no notetaker for this one.",
    "record": "🎥 {who} asked for a notetaker {when}.",
    "never": "🚫 {who} said never to record this series {when}.",
}


@dataclass(frozen=True)
class Note:
    """What the owner did to one meeting of a DM: ``choice`` (``skip``, ``record``, ``never``),
    who clicked and when."""

    event_id: str
    choice: str
    user_id: str
    at: datetime


def note_block_id(note: Note) -> str:
    """The note's ``block_id``: everything a redraw needs to show it again."""
    return f"{NOTE_BLOCK}{note.choice}.{note.user_id}.{int(note.at.timestamp())}.{note.event_id}"


def notes_in(blocks: Sequence[Block] | None) -> list[Note]:
    """The notes a message already shows (from a click's copy of it); malformed ones are left
    out, since a block_id is all they are."""
    found: list[Note] = []
    for block in blocks or ():
        block_id = str(block.get("block_id") or "")
        if not block_id.startswith(NOTE_BLOCK):
            continue
        parts = block_id[len(NOTE_BLOCK) :].split(".", 3)
        if len(parts) != 4 or parts[0] not in NOTE_WORDS or not parts[2].isdigit():
            continue
        choice, user, seconds, event_id = parts
        found.append(Note(event_id, choice, user, datetime.fromtimestamp(int(seconds), UTC)))
    return found


def will_join(record: CalendarEventRecord) -> bool:
    """Whether a notetaker is (or is about to be) sent to the meeting, the owner's word first."""
    if record.owner_choice == "skip":
        return False
    return record.owner_choice == "record" or record.decision == "scheduled"


def outcome_text(record: CalendarEventRecord, never_series: Collection[str]) -> str:
    """What will happen to a meeting, in a sentence."""
    if record.owner_choice == "skip":
        return "⏭ No notetaker: you skipped this one."
    if will_join(record):
        asked = " (you asked for it)" if record.decision != "scheduled" else ""
        return f"🎥 A notetaker will join{asked}."
    if record.series and record.series in never_series:
        return "🚫 Left out: you never record this series."
    why = mrkdwn(record.reason, 500) if record.reason else None
    return f"⏸ Left out: {why or LEFT_OUT.get(record.decision, 'it is left out')}"


def _button(text: str, action_id: str, event_id: str, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": plain(text, 75)},
        "value": event_id,
    }
    if style:
        button["style"] = style
    return button


def buttons(record: CalendarEventRecord, never_series: Collection[str]) -> list[Block]:
    """*Skip this one* on a meeting a notetaker joins, *Record* on one left out that has a
    link, *Never this series* on a recurring one not already never recorded."""
    found: list[Block] = []
    if will_join(record):
        found.append(_button("Skip this one", ACTION_SKIP, record.event_id))
    elif record.meeting_url and record.decision not in ("cancelled", "past"):
        found.append(_button("Record", ACTION_RECORD, record.event_id, "primary"))
    if record.series and record.series not in never_series:
        found.append(_button("Never this series", ACTION_NEVER_SERIES, record.event_id))
    return found


def _when(record: CalendarEventRecord, zone: tzinfo) -> str:
    local = record.start_time.astimezone(zone)
    return slack_time(record.start_time, "{time}", f"{local:%H:%M}")


def _note_block(note: Note) -> Block:
    words = NOTE_WORDS[note.choice].format(
        who=user_mention(note.user_id), when=slack_time(note.at, "at {time}")
    )
    return {
        "type": "context",
        "block_id": note_block_id(note),
        "elements": [{"type": "mrkdwn", "text": words}],
    }


def _event_blocks(
    record: CalendarEventRecord,
    never_series: Collection[str],
    zone: tzinfo,
    note: Note | None,
) -> list[Block]:
    title = mrkdwn(record.title or "Untitled meeting", TITLE_LIMIT)
    text = f"*{title}* · {_when(record, zone)}\n{outcome_text(record, never_series)}"
    blocks: list[Block] = [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": fit(text, SECTION_TEXT)},
        }
    ]
    actions = buttons(record, never_series)
    if actions:
        blocks.append(
            {"type": "actions", "block_id": f"{EVENT_BLOCK}{record.event_id}", "elements": actions}
        )
    if note is not None:
        blocks.append(_note_block(note))
    return blocks


def _latest(notes: Sequence[Note]) -> dict[str, Note]:
    latest: dict[str, Note] = {}
    for note in notes:
        if note.event_id not in latest or note.at >= latest[note.event_id].at:
            latest[note.event_id] = note
    return latest


def build_morning_dm(
    records: Sequence[CalendarEventRecord],
    never_series: Collection[str],
    zone: tzinfo,
    notes: Sequence[Note] = (),
) -> tuple[str, list[Block]]:
    """The morning DM: each of today's meetings (by start), what will happen and its buttons."""
    joining = sum(1 for r in records if will_join(r))
    left_out = len(records) - joining
    text = (
        f"Your meetings today: {joining} with a notetaker, {left_out} without"
        if records
        else "No calendar meetings today"
    )
    blocks: list[Block] = [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "*☀️ Your calendar today*"},
        }
    ]
    by_event = _latest(notes)
    shown = list(records)[:MORNING_EVENTS]
    for record in shown:
        blocks += _event_blocks(record, never_series, zone, by_event.get(record.event_id))
    if len(records) > len(shown):
        more = len(records) - len(shown)
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": f"…and {more} more: `/debrief calendar` lists them"}
                ],
            }
        )
    return fallback(text), blocks[:MESSAGE_BLOCKS]


def build_reminder_dm(
    record: CalendarEventRecord,
    never_series: Collection[str],
    zone: tzinfo,
    minutes: int,
    notes: Sequence[Note] = (),
) -> tuple[str, list[Block]]:
    """The DM a few minutes before a notetaker joins a meeting."""
    title = mrkdwn(record.title or "Untitled meeting", TITLE_LIMIT)
    text = (
        f"In {minutes} minutes a notetaker joins {title}"
        if will_join(record)
        else f"No notetaker joins {title}"
    )
    note = _latest(notes).get(record.event_id)
    heading = f"*⏰ In {minutes} minutes*" if will_join(record) else "*⏰ Coming up*"
    blocks: list[Block] = [{"type": "section", "text": {"type": "mrkdwn", "text": heading}}]
    return fallback(text), blocks + _event_blocks(record, never_series, zone, note)
