"""Block Kit for notetakers: the status message and the `/debrief bots` list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.store.models import AttendeeBot
from handlers.attendee.states import Status
from handlers.digest.text import escape, mrkdwn
from providers.attendee import Bot

Block = dict[str, Any]

ACTION_LEAVE = "attendee.leave"
ACTION_RECORDING = "attendee.recording"


def slack_time(when: datetime, fallback_format: str = "%Y-%m-%d %H:%M UTC") -> str:
    """A time every viewer sees in their own time zone."""
    stamp = int(when.timestamp())
    return f"<!date^{stamp}^{{date_short_pretty}} at {{time}}|{when.strftime(fallback_format)}>"


def build_status_blocks(row: AttendeeBot, status: Status, detail: str | None = None) -> list[Block]:
    """The message a channel watches while its notetaker works."""
    headline = f"{status.emoji} *{escape(status.headline)}*"
    if row.join_at is not None and status.headline.startswith("Notetaker scheduled"):
        headline += f" to join {slack_time(row.join_at)}"
    if detail:
        headline += f"\n{mrkdwn(detail, 500)}"
    context = f"Requested by <@{row.user_id}> · <{row.meeting_url}|meeting link>"
    if row.bot_id:
        context += f" · `{row.bot_id}`"
    blocks: list[Block] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": headline}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
    ]
    if status.active and row.bot_id:
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


def status_text(status: Status) -> str:
    """The plain-text fallback (notifications, screen readers)."""
    return f"{status.emoji} {status.headline}"


def build_bots_blocks(bots: list[Bot], describe_state: Any) -> list[Block]:
    """The ephemeral `/debrief bots` answer: one line and a Leave button per active bot."""
    if not bots:
        return [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "No notetakers are active in this workspace right now.",
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
        who = f" · asked by <@{meta['slack_user_id']}>" if meta.get("slack_user_id") else ""
        where = f" in <#{meta['slack_channel_id']}>" if meta.get("slack_channel_id") else ""
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"{status.emoji} *{escape(status.headline)}*\n"
                    f"<{bot.meeting_url}|{mrkdwn(bot.meeting_url, 60)}>{where}{who}",
                },
                "accessory": {
                    "type": "button",
                    "action_id": ACTION_LEAVE,
                    "text": {"type": "plain_text", "text": "Leave"},
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
