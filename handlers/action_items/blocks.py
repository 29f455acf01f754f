"""Block Kit for action items outside the digest: the App Home tab, `/debrief todo`, the daily
reminder and the DMs about a change. Pure functions of stored items.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any

from bot.blockkit import button_url, fallback, fit, link, mrkdwn, slack_day, slack_time
from handlers.action_items.repo import ItemState
from handlers.digest.items import ACTION_DONE, ACTION_REOPEN
from handlers.digest.render import provider_name
from handlers.digest.text import split_text

Block = dict[str, Any]
MeetingKey = tuple[str, str]

ACTION_OPEN_DIGEST = "action_items.open_digest"
ACTION_REMINDERS = "action_items.reminders"
#: Views hold at most 100 blocks and messages 50; each keeps room for its frame.
HOME_BLOCKS = 100
HOME_OWN_BLOCKS = 70
HOME_ASSIGNED_ITEMS = 15
MESSAGE_MEETINGS = 40
ITEM_TEXT = 300
SECTION = 2900


def section(text: str, accessory: Block | None = None) -> Block:
    block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if accessory is not None:
        block["accessory"] = accessory
    return block


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def button(
    text: str, action_id: str, *, value: str | None = None, url: str | None = None, **extra: Any
) -> Block:
    block: Block = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": text},
    }
    if value is not None:
        block["value"] = value
    # A link too long for a button leaves the button (its value still names the item).
    target = button_url(url)
    if target is not None:
        block["url"] = target
    block.update(extra)
    return block


def urgency(item: ItemState, today: date) -> tuple[int, date, int]:
    """Sort key: overdue first, then due today, then by due date, undated last."""
    if item.due is None:
        return (3, date.max, item.id)
    rank = 0 if item.due < today else 1 if item.due == today else 2
    return (rank, item.due, item.id)


def when(item: ItemState, today: date) -> str:
    """How urgent an item is, in words: overdue, due today, due on a date, or nothing."""
    if item.due is None:
        return ""
    if item.due < today:
        return f"🔴 *overdue* (was due {slack_day(item.due)})"
    if item.due == today:
        return "🟡 *due today*"
    return f"📅 due {slack_day(item.due)}"


def by_meeting(items: Sequence[ItemState], today: date) -> list[list[ItemState]]:
    """Items grouped by meeting, most urgent first, and the meetings in the same order."""
    groups: dict[MeetingKey, list[ItemState]] = {}
    for item in sorted(items, key=lambda i: urgency(i, today)):
        groups.setdefault(item.meeting_key, []).append(item)
    return list(groups.values())


def counts(items: Sequence[ItemState], today: date) -> str:
    overdue = sum(1 for i in items if i.due is not None and i.due < today)
    due_today = sum(1 for i in items if i.due == today)
    parts = [f"{overdue} overdue"] if overdue else []
    if due_today:
        parts.append(f"{due_today} due today")
    return f" ({', '.join(parts)})" if parts else ""


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def meeting_title(item: ItemState, url: str | None) -> str:
    shown = link(url, item.meeting_title.strip() or "Untitled meeting", label_limit=150)
    return f"*{shown}* · {provider_name(item.provider)}"


def item_line(item: ItemState, today: date, *, owner: bool = False, url: str | None = None) -> str:
    words = mrkdwn(item.text.strip() or "(no text)", ITEM_TEXT)
    facts = [f"<@{item.assignee}>"] if owner and item.assignee else []
    urgent = when(item, today)
    if urgent:
        facts.append(urgent)
    if url:
        facts.append(link(url, "open in the digest"))
    return words + (f" — {' · '.join(facts)}" if facts else "")


def build_home_view(
    *,
    today: date,
    own: Sequence[ItemState],
    assigned: Sequence[ItemState],
    links: Mapping[MeetingKey, str | None],
    reminders_on: bool,
    reminder_hour: int,
    notice: str | None = None,
    item_links: Mapping[int, str | None] | None = None,
    zone: tzinfo = UTC,
) -> Block:
    """The App Home tab: the viewer's open items by meeting (overdue first), each with Done and
    a link to the digest message showing it (``item_links`` by item id; the meeting's digest
    has an Open digest button too); the items they assigned to others; the reminder switch,
    its hour in the viewer's own clock format (``zone`` is their Slack time zone)."""
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": "🎯 Your action items"}}
    ]
    if notice:
        # A notice is Debrief's own sentence (it may mention people), not someone's input.
        blocks.append(section(f"⚠️ {fit(notice, 500)}"))
    if own:
        blocks.append(context(f"{plural(len(own), 'open item')}{counts(own, today)}"))
    else:
        blocks.append(section("_Nothing open on your list. Enjoy the quiet._"))
    shown = 0
    for group in by_meeting(own, today):
        if len(blocks) + 2 > HOME_OWN_BLOCKS:
            break
        url = links.get(group[0].meeting_key)
        open_button = (
            button("Open digest", ACTION_OPEN_DIGEST, url=url, value=str(group[0].id))
            if url
            else None
        )
        blocks.append(section(meeting_title(group[0], None), open_button))
        for item in group[: HOME_OWN_BLOCKS - len(blocks)]:
            done = button("✓ Done", ACTION_DONE, value=str(item.id), style="primary")
            url = (item_links or {}).get(item.id)
            blocks.append(section(item_line(item, today, url=url), done))
            shown += 1
    if shown < len(own):
        left = plural(len(own) - shown, "more item")
        blocks.append(context(f"…and {left}: `/debrief todo` lists them all."))
    blocks.append({"type": "divider"})
    blocks.append(section("*Assigned by you to others*"))
    if assigned:
        ordered = sorted(assigned, key=lambda i: urgency(i, today))
        for item in ordered[:HOME_ASSIGNED_ITEMS]:
            url = links.get(item.meeting_key)
            where = link(url, "digest") if url else mrkdwn(item.meeting_title, 80)
            blocks.append(section(f"{item_line(item, today, owner=True)} · {where}"))
        if len(ordered) > HOME_ASSIGNED_ITEMS:
            blocks.append(context(f"…and {len(ordered) - HOME_ASSIGNED_ITEMS} more."))
    else:
        blocks.append(context("Items you assign to someone from a digest show up here."))
    blocks.append({"type": "divider"})
    state = "on" if reminders_on else "off"
    hour = datetime.combine(today, time(reminder_hour), zone)
    at = slack_time(hour, "{time}", f"{reminder_hour}:00 your time")
    toggle = button(
        "Turn off" if reminders_on else "Turn on",
        ACTION_REMINDERS,
        value="off" if reminders_on else "on",
    )
    blocks.append(
        section(
            f"*Daily reminder* is {state}: a DM at {at} listing your open items, overdue first.",
            toggle,
        )
    )
    return {"type": "home", "blocks": blocks[:HOME_BLOCKS]}


def build_items_blocks(
    items: Sequence[ItemState], today: date, links: Mapping[MeetingKey, str | None]
) -> list[Block]:
    """A person's open items as sections, one or more per meeting (for messages)."""
    blocks: list[Block] = []
    groups = by_meeting(items, today)
    for number, group in enumerate(groups):
        if number == MESSAGE_MEETINGS:
            left = sum(len(g) for g in groups[number:])
            blocks.append(context(f"…and {plural(left, 'more item')} in Debrief's Home tab."))
            break
        lines = [meeting_title(group[0], links.get(group[0].meeting_key))]
        lines += [f"• {item_line(item, today)}" for item in group]
        blocks.extend(section(chunk) for chunk in split_text("\n".join(lines), SECTION))
    return blocks


def build_todo_reply(
    items: Sequence[ItemState], today: date, links: Mapping[MeetingKey, str | None]
) -> tuple[str, list[Block]]:
    """`/debrief todo`: the caller's open items."""
    if not items:
        text = "You have no open action items. 🎉"
        return text, [section(text)]
    text = f"You have {plural(len(items), 'open action item')}{counts(items, today)}"
    blocks = [section(f"*{text}*"), *build_items_blocks(items, today, links)]
    blocks.append(context("Mark them done in the digest or in Debrief's Home tab."))
    return text, blocks[:50]


def build_reminder(
    items: Sequence[ItemState], today: date, links: Mapping[MeetingKey, str | None]
) -> tuple[str, list[Block]]:
    """The daily reminder DM: overdue and due-today items first."""
    text = f"Good morning! You have {plural(len(items), 'open action item')}{counts(items, today)}"
    blocks = [section(f"☀️ *{text}*"), *build_items_blocks(items, today, links)]
    blocks.append(
        context(
            "Done with one? Mark it in the digest or in Debrief's Home tab, where you can "
            "also turn this reminder off."
        )
    )
    return text, blocks[:50]


#: What someone did to a person's item, said to that person; ``{meeting}`` is where it is from.
CHANGE_WORDS = {
    "assigned": "👋 <@{actor}> assigned you an action item from {meeting}",
    "reassigned": "↪️ <@{actor}> reassigned your action item from {meeting} to <@{after}>, "
    "so it is no longer on your list",
    "done": "✅ <@{actor}> marked your action item from {meeting} done",
    "reopen": "↩️ <@{actor}> reopened your action item from {meeting}",
    "due": "📅 <@{actor}> set the due date of your action item from {meeting} to {after}",
    "undue": "📅 <@{actor}> removed the due date of your action item from {meeting}",
}


def build_change_dm(
    change: str, item: ItemState, *, actor: str, after: str | None, url: str | None
) -> tuple[str, list[Block]]:
    """The DM telling someone what another person did to their item."""
    shown_after = after or ""
    if change == "due" and after:
        shown_after = slack_day(date.fromisoformat(after))
    words = mrkdwn(item.text.strip() or "(no text)", 1500)
    meeting = f"*{mrkdwn(item.meeting_title.strip() or 'Untitled meeting', 150)}*"
    headline = CHANGE_WORDS[change].format(actor=actor, after=shown_after, meeting=meeting)
    text = fallback(f"{headline}: {mrkdwn(item.text, 150)}")
    body = f"{headline} ({provider_name(item.provider)}):\n>{words}"
    blocks = [section(body)]
    if url:
        blocks[0]["accessory"] = button(
            "Open digest", ACTION_OPEN_DIGEST, url=url, value=str(item.id)
        )
    if change == "assigned" and item.due is not None:
        blocks.append(context(f"📅 Due {slack_day(item.due)}"))
    if change != "reassigned" and item.position is not None:
        # Still theirs: close it (or reopen it) from here, under the same rule as the digest.
        toggle = (
            button("↩️ Reopen", ACTION_REOPEN, value=str(item.id))
            if item.done
            else button("✓ Done", ACTION_DONE, value=str(item.id), style="primary")
        )
        blocks.append({"type": "actions", "block_id": "action_items.dm", "elements": [toggle]})
    blocks.append(context("Your open action items are in Debrief's Home tab."))
    return text, blocks
