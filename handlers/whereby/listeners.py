"""Slack listeners for Whereby rooms: thin and fast, every Whereby call left to a job."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond

from bot import limits
from bot.limits import PersonalLimit
from bot.services import Services
from bot.store.db import transaction
from handlers.whereby import repo, rooms
from handlers.whereby.blocks import read_value
from handlers.whereby.naming import channel_name, parse_room_args, room_prefix
from handlers.wiring import CommandContext, Reply, click_of, enqueue_then_ack, tell_clicker
from providers.whereby import WherebyClient


def room_limit(services: Services) -> PersonalLimit:
    """How many Whereby rooms one person may open an hour."""
    per_hour = services.settings.limit_rooms_per_hour
    return PersonalLimit("rooms", per_hour, things="Whereby rooms", verb="open")


async def handle_room(ctx: CommandContext) -> Reply:
    """`/debrief room [<minutes>] [<name>]`: the room is created by a job, answered at once."""
    services = ctx.services
    services.require(WherebyClient)
    request = parse_room_args(ctx.args)
    slack_name = str(ctx.body.get("channel_name") or "")
    named = channel_name(slack_name)
    title = request.name or (f"#{named}" if named else "")
    row = repo.new_room(
        team_id=ctx.team_id,
        channel_id=ctx.channel_id,
        creator_id=ctx.user_id,
        minutes=request.minutes,
        title=title,
        # Without a usable name here (a private channel), the job asks Slack for one.
        name_prefix=room_prefix(request.name) or room_prefix(named),
        now=services.clock(),
    )
    async with transaction(services.sessions) as session:
        await limits.count(session, services, room_limit(services), ctx.team_id, ctx.user_id)
        session.add(row)
        await services.queue.enqueue(
            session,
            rooms.JOB_CREATE,
            rooms.CreateRoomJob(
                room_id=row.id, response_url=ctx.response_url, channel_name=slack_name or None
            ),
        )
    return None  # the job answers: the host link, or why the room could not be opened


async def handle_end_button(
    ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], services: Services
) -> None:
    """ "End room": who may end it is checked by the job (it may need to ask Slack)."""
    click = click_of(body)
    room_id, _ = read_value(str(action.get("value", "")))
    await enqueue_then_ack(
        ack,
        services,
        rooms.JOB_END,
        rooms.EndRoomJob(
            room_id=room_id,
            team_id=click.team_id,
            user_id=click.user_id,
            response_url=click.response_url,
            **click.in_thread(),
        ),
    )


async def _link_click(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    services: Services,
    respond: AsyncRespond,
    kind: str,
) -> None:
    click = click_of(body)
    room_id, item_id = read_value(str(action.get("value", "")))
    if item_id is None:
        await tell_clicker(ack, services, body, "That button no longer works.")
        return
    await enqueue_then_ack(
        ack,
        services,
        rooms.JOB_LINK,
        rooms.LinkJob(
            room_id=room_id,
            kind="recording" if kind == "recording" else "transcript",
            item_id=item_id,
            team_id=click.team_id,
            response_url=click.response_url,
            **click.in_thread(),
            user_id=click.user_id,
        ),
    )


async def handle_recording_button(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    services: Services,
    respond: AsyncRespond,
) -> None:
    """ "Recording": a fresh access link, fetched for the clicker."""
    await _link_click(ack, body, action, services, respond, "recording")


async def handle_transcript_button(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    services: Services,
    respond: AsyncRespond,
) -> None:
    """ "Transcript": a fresh access link, fetched for the clicker."""
    await _link_click(ack, body, action, services, respond, "transcript")


async def handle_join_button(ack: AsyncAck) -> None:
    """ "Join room" opens its URL in the browser; Slack still expects the click acknowledged."""
    await ack()
