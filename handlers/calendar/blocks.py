"""What the calendar autopilot says in Slack: `/debrief calendar`'s answer and the DM after a
calendar disconnected. Pure builders: every string Attendee or a calendar wrote goes through
``bot.blockkit``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.blockkit import SECTION_TEXT, fit, mrkdwn, slack_time
from bot.slack import Block
from handlers.calendar.policy import SCOPES

RECONNECT = "`/debrief calendar connect google` (or `microsoft`)"
#: The most upcoming notetakers and refusals `/debrief calendar` lists.
LISTED = 8


@dataclass(frozen=True)
class CalendarLine:
    platform: str
    state: str
    detail: str | None
    last_synced_at: datetime | None


@dataclass(frozen=True)
class EventLine:
    title: str
    start: datetime
    reason: str | None = None


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": fit(text, SECTION_TEXT)}}


def calendar_line(line: CalendarLine) -> str:
    name = mrkdwn(line.platform.capitalize() or "Calendar", 20)
    synced = f" Last synced {slack_time(line.last_synced_at)}." if line.last_synced_at else ""
    if line.state == "connected":
        return f":white_check_mark: *{name}* calendar connected.{synced}"
    why = f" ({mrkdwn(line.detail, 300)})" if line.detail else ""
    return (
        f":warning: *{name}* calendar disconnected{why}: no notetaker joins from it."
        f"{synced} Connect it again with {RECONNECT}."
    )


def build_calendar_status_blocks(
    calendars: list[CalendarLine],
    scope: str,
    never_words: list[str],
    upcoming: list[EventLine],
    refused: list[EventLine],
) -> tuple[str, list[Block]]:
    """`/debrief calendar`: state, last sync, policy, the next notetakers and what Attendee
    refused."""
    if not calendars:
        text = f"You have no calendar connected. {RECONNECT} connects one."
        return text, [_section(text)]
    blocks = [_section("\n".join(calendar_line(c) for c in calendars))]
    words = ", ".join(f"“{mrkdwn(w, 60)}”" for w in never_words[:20])
    policy = f"*Policy:* {SCOPES.get(scope) or mrkdwn(scope, 40)}"
    policy += f"; never when the title has {words}." if words else "."
    policy += " Change it with `/debrief calendar policy …`."
    blocks.append(_section(policy))
    if upcoming:
        lines = [
            f"• {slack_time(e.start)}: {mrkdwn(e.title or 'Untitled', 150)}"
            for e in upcoming[:LISTED]
        ]
        blocks.append(_section("*Next notetakers*\n" + "\n".join(lines)))
    else:
        blocks.append(_section("No notetaker is scheduled from your calendar."))
    if refused:
        lines = [
            f"• {slack_time(e.start)}: {mrkdwn(e.title or 'Untitled', 150)}: "
            f"{mrkdwn(e.reason or 'refused', 300)}"
            for e in refused[:LISTED]
        ]
        blocks.append(_section("*Not scheduled (Attendee refused)*\n" + "\n".join(lines)))
    state = "connected" if all(c.state == "connected" for c in calendars) else "needs attention"
    return f"Your calendar: {state}", blocks


def build_disconnected_dm(platform: str, detail: str | None) -> tuple[str, list[Block]]:
    """The DM to the owner when Attendee can no longer read their calendar."""
    reason = f" Attendee says: {mrkdwn(detail, 400)}." if detail else ""
    text = (
        f":warning: Debrief can no longer read your {mrkdwn(platform or 'calendar', 20)} "
        f"calendar, so no notetaker joins your meetings from it.{reason} "
        f"Connect it again with {RECONNECT}."
    )
    return fit(text, SECTION_TEXT), [_section(text)]


def build_calendar_home_blocks(
    calendars: list[CalendarLine],
    scope: str,
    never_words: list[str],
    policy_action: str,
    never_action: str,
) -> list[Block]:
    """The owner's Home tab section: the calendars' state, the policy select and the
    never-record words (Enter saves them; ``-`` clears them)."""
    options = [
        {"text": {"type": "plain_text", "text": label}, "value": value}
        for value, label in SCOPES.items()
    ]
    select: Block = {"type": "static_select", "action_id": policy_action, "options": options}
    chosen = next((o for o in options if o["value"] == scope), None)
    if chosen is not None:
        select["initial_option"] = chosen
    words: Block = {
        "type": "plain_text_input",
        "action_id": never_action,
        "max_length": 1000,
        "dispatch_action_config": {"trigger_actions_on": ["on_enter_pressed"]},
        "placeholder": {"type": "plain_text", "text": "e.g. 1:1 interview private"},
    }
    if never_words:
        words["initial_value"] = " ".join(never_words)[:1000]
    return [
        {"type": "header", "text": {"type": "plain_text", "text": "🗓️ Calendar"}},
        _section("\n".join(calendar_line(c) for c in calendars)),
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "*Which meetings get a notetaker*"},
            "accessory": select,
        },
        {
            "type": "input",
            "dispatch_action": True,
            "block_id": "calendar.never",
            "label": {"type": "plain_text", "text": "Never record meetings whose title has"},
            "element": words,
            "optional": True,
        },
    ]
