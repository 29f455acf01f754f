"""Block Kit for notetakers: the status message and the `/debrief bots` list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.blockkit import (
    CONTEXT_TEXT,
    SECTION_TEXT,
    channel_mention,
    fallback,
    link,
    mrkdwn,
    slack_time,
    user_mention,
)
from handlers.attendee.states import CANCELLED, Status
from handlers.attendee.tables import AttendeeBot
from providers.attendee import PENDING_STATES, Bot

Block = dict[str, Any]

ACTION_LEAVE = "attendee.leave"
#: A notetaker that is only scheduled is cancelled, not made to leave (it is in no meeting).
ACTION_CANCEL = "attendee.cancel"
ACTION_RECORDING = "attendee.recording"
#: A status line's longest headline (Attendee's reasons are words it chose).
HEADLINE = 500
#: The status of a meeting whose digest a routing rule sent to another channel.
ROUTED_HEADLINE = "Meeting over: the digest is in another channel"


@dataclass(frozen=True)
class DigestPlace:
    """Where a meeting's digest went, when not in the status message's thread."""

    channel: str
    #: Its permalink; None when Slack could not say.
    url: str | None = None


def build_status_blocks(
    row: AttendeeBot,
    status: Status,
    detail: str | None = None,
    *,
    digest: DigestPlace | None = None,
) -> list[Block]:
    """The message a channel watches while its notetaker works; once its digest went to
    another channel (``digest``), a line that says where, with a link to it."""
    # Who cancelled it is part of the headline: it is all there is to say of it.
    by = f" by {user_mention(row.stopped_by)}" if row.state == CANCELLED and row.stopped_by else ""
    headline = f"{status.emoji} *{mrkdwn(status.headline, HEADLINE)}{by}*"
    if row.join_at is not None and status.headline.startswith("Notetaker scheduled"):
        headline += f" to join {slack_time(row.join_at)}"
    if detail:
        headline += f"\n{mrkdwn(detail, 500)}"
    if digest is not None:
        where = channel_mention(digest.channel)
        opened = f" · {link(digest.url, 'Open the digest')}" if digest.url else ""
        headline += f"\n📝 The digest is in {where}{opened}"
    # The meeting link is as long as whoever typed it made it: a URL too long for the block
    # becomes the words "meeting link" alone, so that the block (and the button) stay valid.
    where = link(row.meeting_url, "meeting link", url_limit=CONTEXT_TEXT - 200)
    asked = "From the calendar of" if row.calendar_event_id else "Requested by"
    context = f"{asked} {user_mention(row.user_id)} · {where}"
    if row.bot_id:
        context += f" · `{mrkdwn(row.bot_id, 100)}`"
    if row.stopped_by and row.state != CANCELLED:
        context += f" · 👋 stopped by {user_mention(row.stopped_by)}"
    blocks: list[Block] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": headline}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
    ]
    if status.active and row.bot_id and row.state in PENDING_STATES:
        blocks.append({"type": "actions", "elements": [_cancel_button(row.bot_id)]})
    elif status.active and row.bot_id:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": ACTION_LEAVE,
                        "text": {"type": "plain_text", "text": "Make it leave"},
                        "value": row.bot_id,
                        "confirm": {
                            "title": {"type": "plain_text", "text": "Stop the notetaker?"},
                            "text": {
                                "type": "mrkdwn",
                                "text": "It leaves the meeting now; the "
                                "transcript so far is still posted here.",
                            },
                            "confirm": {"type": "plain_text", "text": "Leave"},
                            "deny": {"type": "plain_text", "text": "Keep it"},
                        },
                    }
                ],
            }
        )
    return blocks


def _cancel_button(bot_id: str) -> Block:
    """*Cancel* for a notetaker that has not joined yet: it will not join at all."""
    return {
        "type": "button",
        "action_id": ACTION_CANCEL,
        "text": {"type": "plain_text", "text": "Cancel"},
        "value": bot_id,
        "confirm": {
            "title": {"type": "plain_text", "text": "Cancel the notetaker?"},
            "text": {"type": "mrkdwn", "text": "It will not join the meeting."},
            "confirm": {"type": "plain_text", "text": "Cancel it"},
            "deny": {"type": "plain_text", "text": "Keep it"},
        },
    }


def status_text(status: Status) -> str:
    """The plain-text fallback (notifications, screen readers)."""
    return fallback(f"{status.emoji} {mrkdwn(status.headline, HEADLINE)}")


def build_bots_blocks(bots: list[Bot], describe_state: Any, *, here: str = "") -> list[Block]:
    """The ephemeral `/debrief bots` answer: one line and a Leave button per active bot.

    ``bots`` are those the caller may see; a meeting link (its password included) is shown only
    for a bot sent from ``here``, the channel the command was typed in, never elsewhere.
    """
    if not bots:
        return [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "No notetakers are active in your channels right now.",
                },
            }
        ]
    blocks: list[Block] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"*{len(bots)} active notetaker{'s' if len(bots) != 1 else ''}*",
            },
        }
    ]
    shown = bots[:20]  # two blocks a bot and Slack's 50-block limit
    for bot in shown:
        status = describe_state(str(bot.state))
        meta = bot.metadata or {}
        # The metadata comes back from Attendee: ids are shown as mentions only when they are ids.
        asker, channel = (
            str(meta.get("slack_user_id") or ""),
            str(meta.get("slack_channel_id") or ""),
        )
        who = f" · asked by {user_mention(asker)}" if asker else ""
        where = f" in {channel_mention(channel)}" if channel else ""
        if here and channel == here:
            meeting = link(bot.meeting_url, bot.meeting_url, label_limit=60)
        else:
            meeting = f"`{mrkdwn(bot.id, 100)}` (its meeting link is shown only in its channel)"
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"{status.emoji} *{mrkdwn(status.headline, HEADLINE)}*\n"
                    f"{meeting}{where}{who}",
                },
                "accessory": {
                    "type": "button",
                    "action_id": ACTION_LEAVE,
                    # One job stops either: a scheduled one is cancelled, any other leaves.
                    "text": {
                        "type": "plain_text",
                        "text": "Cancel" if str(bot.state) in PENDING_STATES else "Leave",
                    },
                    "value": bot.id,
                },
            }
        )
    if len(bots) > len(shown):
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"…and {len(bots) - len(shown)} more."}],
            }
        )
    return blocks


def build_recording_blocks(url: str, expires: datetime) -> list[Block]:
    """The clicker's private answer to *Recording*: a fresh link and when it stops working."""
    # A signed storage URL can be long; one too long for the section leaves the words alone
    # (a click on *Recording* again may get a shorter one).
    opened = link(url, "Open the recording", url_limit=SECTION_TEXT - 200)
    return [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"🎬 {opened} — this link stops working {slack_time(expires)}; click "
                "*Recording* again for a new one.",
            },
        }
    ]
