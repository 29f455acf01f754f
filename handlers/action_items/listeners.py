"""Slack listeners for action items: the digest's controls, the Home tab and `/debrief todo`.

Every interaction is checked before anything is written: it must come from this workspace,
name an item that exists where it was clicked, and carry a value Slack's element could have
sent. A refusal is a clear private answer and changes nothing. What passes is written as a job
(keyed by the interaction, so a redelivered click is one job) before Slack gets its ack.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond

from bot.services import Services
from bot.store.db import transaction
from handlers.action_items import repo
from handlers.action_items.jobs import JOB_APPLY, JOB_HOME, JOB_TODO, ApplyJob, HomeJob, TodoJob
from handlers.action_items.repo import ItemState, Kind
from handlers.digest.items import (
    ACTION_ASSIGN,
    ACTION_DONE,
    ACTION_DUE,
    ACTION_REOPEN,
    item_number,
)
from handlers.wiring import (
    CommandContext,
    Reply,
    click_of,
    enqueue_then_ack,
    tell_clicker,
)

KINDS: dict[str, Kind] = {
    ACTION_ASSIGN: "assign",
    ACTION_DONE: "done",
    ACTION_REOPEN: "reopen",
    ACTION_DUE: "due",
}
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ITEM_ID = re.compile(r"^[1-9][0-9]{0,17}$")
#: Due dates Debrief accepts: far enough either way for any real plan.
FIRST_DUE, LAST_DUE = date(2000, 1, 1), date(2099, 12, 31)

OTHER_WORKSPACE = "That came from another Slack workspace than Debrief's, so nothing was changed."
UNKNOWN_DIGEST = (
    "I do not know this message as a digest of mine any more, so nothing was changed. "
    "Your open action items are in Debrief's Home tab."
)
UNKNOWN_ITEM = "That action item does not exist (any more), so nothing was changed."


class Refused(Exception):
    """An interaction Debrief will not act on; the message says why, to the person who clicked."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def clicker(body: dict[str, Any]) -> str:
    """The user who clicked, refused unless it reads as a Slack user id."""
    user = click_of(body).user_id
    if not _USER_ID.match(user):
        raise Refused("I could not tell who you are from that click, so nothing was changed.")
    return user


def check_workspace(body: dict[str, Any], context: AsyncBoltContext) -> str:
    """The payload's team, refused unless it is the workspace Debrief's token belongs to."""
    team = click_of(body).team_id
    result = context.authorize_result
    ours = result.team_id if result is not None else None
    if ours and team != ours:
        raise Refused(OTHER_WORKSPACE)
    return team


def read_value(kind: Kind, action: dict[str, Any]) -> str | None:
    """The value a click carries, as Slack's own element could have sent it."""
    if kind == "assign":
        user = action.get("selected_user")
        if not isinstance(user, str) or not _USER_ID.match(user):
            raise Refused("That is not a person I can assign, so nothing was changed.")
        return user
    if kind == "due":
        text = action.get("selected_date")
        if text is None:
            return None
        try:
            due = date.fromisoformat(text) if isinstance(text, str) and _DATE.match(text) else None
        except ValueError:
            due = None
        if due is None or not FIRST_DUE <= due <= LAST_DUE:
            raise Refused("That is not a due date I can use, so nothing was changed.")
        return due.isoformat()
    return None


def item_id_of(action: dict[str, Any]) -> int:
    value = action.get("value")
    if not isinstance(value, str) or not _ITEM_ID.match(value):
        raise Refused(UNKNOWN_ITEM)
    return int(value)


async def locate(
    services: Services, body: dict[str, Any], action: dict[str, Any], kind: Kind
) -> tuple[ItemState, str | None, str | None]:
    """The item a click is about, and the digest message (channel, ts) it was clicked in, if
    any. Who may change it is not decided here but by the job (``policy``), the same for a
    digest, the Home tab and a DM."""
    container = body.get("container") or {}
    sessions = services.sessions
    in_message = container.get("type") == "message" and not container.get("is_ephemeral")
    channel = str(container.get("channel_id") or "") if in_message else ""
    if in_message and not channel.startswith("D"):
        ts = str(container.get("message_ts") or "")
        post = await repo.digest_post(sessions, channel, ts) if channel and ts else None
        if post is None:
            raise Refused(UNKNOWN_DIGEST)
        number = item_number(str(action.get("block_id") or ""))
        item: ItemState | None
        if kind in ("assign", "due"):
            if number is None:
                raise Refused(UNKNOWN_ITEM)
            item = await repo.item_at(sessions, post.provider, post.meeting_id, number)
        else:
            item = await repo.get_item(sessions, item_id_of(action))
            if item is not None and (
                item.meeting_key != (post.provider, post.meeting_id)
                or (number is not None and item.position != number)
            ):
                item = None  # a button of another meeting's item: forged
        if item is None or item.position is None:
            raise Refused(UNKNOWN_ITEM)
        return item, post.channel_id, post.ts
    # The Home tab, or a DM about an item (whose Done/Reopen name the item by id).
    if (in_message or container.get("type") == "view") and kind in ("done", "reopen"):
        item = await repo.get_item(sessions, item_id_of(action))
        if item is None or item.position is None:
            raise Refused(UNKNOWN_ITEM)
        return item, None, None
    raise Refused("Debrief does not know that control, so nothing was changed.")


async def read_click(
    services: Services, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
) -> ApplyJob:
    """Check a click on an item's control and turn it into the job that applies it."""
    actor = clicker(body)
    team = check_workspace(body, context)
    action_id = str(action.get("action_id") or "")
    kind = KINDS[action_id]
    action_ts = action.get("action_ts")
    if not isinstance(action_ts, str) or not action_ts:
        raise Refused("That click carries no time stamp, so nothing was changed.")
    value = read_value(kind, action)
    item, channel, ts = await locate(services, body, action, kind)
    block = str(action.get("block_id") or "")
    return ApplyJob(
        item_id=item.id,
        kind=kind,
        value=value,
        actor=actor,
        action_key=f"{actor}:{action_ts}:{action_id}:{block}"[:191],
        team_id=team,
        response_url=click_of(body).response_url or None,
        **click_of(body).in_thread(),
        channel=channel,
        ts=ts,
    )


async def refuse(
    ack: AsyncAck, services: Services, body: dict[str, Any], text: str, respond: AsyncRespond
) -> None:
    """Acknowledge a refused click and say why privately to the person who clicked: under the
    message (as :func:`tell_clicker` does), or on their Home tab, which has no response URL."""
    click = click_of(body)
    if click.response_url:
        await tell_clicker(ack, services, body, text)
        return
    await ack()
    user = click.user_id
    if _USER_ID.match(user):
        await services.queue.submit(JOB_HOME, HomeJob(user_id=user, notice=text))


async def handle_item_action(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    context: AsyncBoltContext,
    services: Services,
    respond: AsyncRespond,
) -> None:
    """Assign, Done, Reopen or a due date, in a digest or on the Home tab."""
    try:
        job = await read_click(services, body, action, context)
    except Refused as refusal:
        await refuse(ack, services, body, refusal.message, respond)
        return
    # The same click delivered twice is one job.
    await enqueue_then_ack(
        ack, services, JOB_APPLY, job, dedupe_key=f"{JOB_APPLY}:{job.action_key}"
    )


async def handle_reminders_toggle(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    context: AsyncBoltContext,
    services: Services,
    respond: AsyncRespond,
) -> None:
    """The Home tab's daily-reminder switch."""
    try:
        user = clicker(body)
        check_workspace(body, context)
        value = action.get("value")
        if value not in ("on", "off"):
            raise Refused("That switch sent something I do not understand; nothing was changed.")
    except Refused as refusal:
        await refuse(ack, services, body, refusal.message, respond)
        return
    async with transaction(services.sessions) as session:
        await repo.set_reminders(session, user, value == "on", services.clock())
        await services.queue.enqueue(session, JOB_HOME, HomeJob(user_id=user))
    await ack()


async def handle_open_digest(ack: AsyncAck) -> None:
    """A link button: Slack opens the link; the click only needs an answer."""
    await ack()


async def handle_home_opened(event: dict[str, Any], services: Services) -> None:
    """``app_home_opened``: publish the viewer's Home tab (not for the Messages tab)."""
    user = str(event.get("user") or "")
    if event.get("tab", "home") != "home" or not _USER_ID.match(user):
        return
    await services.queue.submit(JOB_HOME, HomeJob(user_id=user))


async def handle_todo(ctx: CommandContext) -> Reply:
    """`/debrief todo`: answered through ``response_url`` once the links are looked up."""
    await ctx.services.queue.submit(
        JOB_TODO, TodoJob(user_id=ctx.user_id, response_url=ctx.response_url)
    )
    return None  # the job's list is the answer
