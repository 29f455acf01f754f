"""Block Kit for Whereby rooms: the room message, its buttons, notices and private links."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.blockkit import SECTION_TEXT, button_url, fallback, link, mrkdwn, slack_time
from handlers.digest.blocks import format_duration
from handlers.whereby import repo
from handlers.whereby.tables import WherebyRoom

Block = dict[str, Any]

ACTION_JOIN = "whereby.join"
ACTION_END = "whereby.end"
ACTION_RECORDING = "whereby.recording"
ACTION_TRANSCRIPT = "whereby.transcript"
#: Separates the room id from the recording or transcription id in a button's value.
VALUE_SEPARATOR = "|"
#: A room's title as shown (people name rooms in a few words).
TITLE = 150


def button_value(room_id: str, item_id: str | None = None) -> str:
    return f"{room_id}{VALUE_SEPARATOR}{item_id}" if item_id else room_id


def read_value(value: str) -> tuple[str, str | None]:
    """(room id, item id) from a button's value."""
    room_id, _, item_id = value.partition(VALUE_SEPARATOR)
    return room_id, item_id or None


def people_count(n: int) -> str:
    return f"{n} {'person' if n == 1 else 'people'}"


def room_status(row: WherebyRoom) -> str:
    """The one line that says what the room is doing now."""
    state = repo.session_state(row)
    lasted = f" · lasted {format_duration(state.length)}" if state.length is not None else ""
    if row.status == repo.FAILED:
        detail = f": {mrkdwn(row.status_detail, 300)}" if row.status_detail else ""
        return f"❌ *The room could not be created*{detail}"
    if row.status == repo.CREATING:
        return "⏳ *Creating the room…*"
    if row.status == repo.CLOSED:
        who = f" by <@{row.closed_by}>" if row.closed_by else ""
        return f"⏹️ *Room ended*{who}{lasted}"
    if row.status == repo.EXPIRED:
        return f"⌛ *Room expired*{lasted}"
    if state.live:
        since = f" · since {slack_time(state.started_at)}" if state.started_at else ""
        return f"🔴 *In progress* · {people_count(state.participants)}{since}"
    if state.ended:
        return f"✅ *Session ended*{lasted}"
    if state.participants > 0:
        return f"👋 *{people_count(state.participants)} in the room*, waiting for the others"
    return "🟢 *Open* · nobody has joined yet"


def room_text(row: WherebyRoom) -> str:
    """The plain-text fallback of the room message."""
    return fallback(f"Whereby room: {mrkdwn(row.title or 'untitled', TITLE)}")


def _digest_note(row: WherebyRoom) -> str | None:
    if row.digest_state == "summarising":
        return "📝 Whereby is summarising the transcript…"
    if row.digest_state == "posted":
        return "📝 The summary is in the thread."
    if row.digest_state == "failed":
        return "⚠️ No summary this time: see the thread."
    return None


def build_room_blocks(row: WherebyRoom) -> list[Block]:
    """The message a channel watches while its room is open, and keeps afterwards."""
    title = row.title or "Whereby room"
    open_ = row.status == repo.OPEN
    shown = link(row.room_url if open_ else None, title, label_limit=TITLE)
    heading = f"🎥 *{shown}*"
    blocks: list[Block] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"{heading}\n{room_status(row)}"}}
    ]
    facts = [f"Opened by <@{row.creator_id}>"]
    if row.end_at is not None and open_:
        facts.append(f"ends {slack_time(row.end_at)}")
    people = repo.people(row)
    if people:
        facts.append("joined: " + mrkdwn(", ".join(people), 500))
    note = _digest_note(row)
    elements = [{"type": "mrkdwn", "text": " · ".join(facts)}]
    if note:
        elements.append({"type": "mrkdwn", "text": note})
    blocks.append({"type": "context", "elements": elements})
    buttons: list[Block] = []
    join_url = button_url(row.room_url) if open_ else None
    if join_url:
        buttons.append(
            {
                "type": "button",
                "action_id": ACTION_JOIN,
                "text": {"type": "plain_text", "text": "Join room"},
                "url": join_url,
                "style": "primary",
            }
        )
    if row.recording_id:
        buttons.append(recording_button(row))
    if open_:
        buttons.append(
            {
                "type": "button",
                "action_id": ACTION_END,
                "text": {"type": "plain_text", "text": "End room"},
                "value": row.id,
                "style": "danger",
                "confirm": {
                    "title": {"type": "plain_text", "text": "End this room?"},
                    "text": {
                        "type": "mrkdwn",
                        "text": "Whereby deletes the room: nobody can join it any more.",
                    },
                    "confirm": {"type": "plain_text", "text": "End room"},
                    "deny": {"type": "plain_text", "text": "Keep it"},
                },
            }
        )
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    return blocks


def recording_button(row: WherebyRoom) -> Block:
    return {
        "type": "button",
        "action_id": ACTION_RECORDING,
        "text": {"type": "plain_text", "text": "🎬 Recording"},
        "value": button_value(row.id, row.recording_id),
    }


def transcript_button(room_id: str, transcription_id: str) -> Block:
    return {
        "type": "button",
        "action_id": ACTION_TRANSCRIPT,
        "text": {"type": "plain_text", "text": "📄 Transcript"},
        "value": button_value(room_id, transcription_id),
    }


def build_notice_blocks(text: str, buttons: list[Block] | None = None) -> list[Block]:
    """A short notice in the room's thread (something did not work out), with its buttons."""
    blocks: list[Block] = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    return blocks


def build_link_blocks(what: str, url: str, expires: datetime | None) -> list[Block]:
    """A private answer carrying a fresh, short-lived download link."""
    until = f" It works until {slack_time(expires)};" if expires is not None else ""
    opened = link(url, f"Open the {what}", url_limit=SECTION_TEXT - 300)
    return [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"{opened}.{until} click the button again for a new link.",
            },
        }
    ]


def build_host_blocks(row: WherebyRoom, host_url: str | None, *, posted: bool) -> list[Block]:
    """The caller's private answer: the host link, and the room link when it could not be
    posted in the channel."""
    lines = []
    if not posted and row.room_url:
        lines.append(
            "I could not post in this channel (invite me with `/invite @Debrief`), so here is "
            f"the room for you to share: {link(row.room_url, row.room_url, label_limit=100)}"
        )
    if host_url:
        lines.append(
            f"🔑 Your host link: {link(host_url, 'join as host')}. It carries host rights: "
            "keep it to yourself."
        )
    else:
        lines.append("Whereby gave no host link for this room.")
    return [{"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}}]
