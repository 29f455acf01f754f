"""Slack listeners for notetakers: thin, fast, and every provider call left to a job."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond

from bot import limits
from bot.blockkit import mrkdwn
from bot.errors import UserFacingError
from bot.limits import PersonalLimit
from bot.services import Services
from bot.store.db import transaction
from bot.urls import host_is_public
from handlers.attendee import jobs, repo
from handlers.attendee.parsing import deduplication_key, parse_join
from handlers.wiring import (
    CommandContext,
    Reply,
    click_of,
    enqueue_then_ack,
    tell_clicker,
)
from providers.attendee import AttendeeClient

BOT_ID_USAGE = "leave <bot-id>"


def notetaker_limit(services: Services) -> PersonalLimit:
    """How many notetakers one person may send an hour."""
    per_hour = services.settings.limit_notetakers_per_hour
    return PersonalLimit("notetakers", per_hour, things="notetakers", verb="send")


async def handle_join(ctx: CommandContext) -> Reply:
    """`/debrief join <meeting-url> [at <time>] [as "<title>"]`."""
    services = ctx.services
    services.require(AttendeeClient)
    request = parse_join(ctx.args)
    if not services.settings.allow_private_meeting_hosts and not await host_is_public(
        request.link.host
    ):
        raise UserFacingError(
            f"`{request.link.host}` points at a private or local address, so no notetaker "
            "can join it. Use the meeting's public link."
        )
    if request.when is not None:
        request.when.resolve(services.clock(), UTC)  # syntax and range; the job uses your zone
    key = deduplication_key(ctx.team_id, ctx.channel_id, request.link.meeting, request.when)
    row = repo.new_request(
        team_id=ctx.team_id,
        channel_id=ctx.channel_id,
        user_id=ctx.user_id,
        meeting_url=request.link.url,
        dedup_key=key,
    )
    async with transaction(services.sessions) as session:
        earlier = await repo.add_request(session, row)
        if earlier is None:
            # A twin is not counted: it sends nobody. A refusal rolls the request back.
            await limits.count(
                session, services, notetaker_limit(services), ctx.team_id, ctx.user_id
            )
            await services.queue.enqueue(
                session,
                jobs.JOB_CREATE,
                jobs.CreateBotJob(
                    request_id=row.id,
                    when=request.when.text if request.when else None,
                    title=request.title,
                ),
            )
    if earlier is not None:
        return (
            f"A notetaker is already on its way to that meeting from this channel "
            f"(asked by <@{earlier.user_id}>); its status is in the channel."
        )
    # The job reads the time in the caller's Slack zone; here it can only be echoed as typed.
    when = f" ({mrkdwn(request.when.text, 100)}, your time)" if request.when else ""
    return (
        f"Sending a notetaker to your {request.link.platform} meeting{when}. "
        "I'll post its status in this channel and the meeting's digest in the thread."
    )


async def handle_bots(ctx: CommandContext) -> Reply:
    """`/debrief bots`: answered through ``response_url`` once Attendee has been asked."""
    ctx.services.require(AttendeeClient)
    await ctx.services.queue.submit(
        jobs.JOB_LIST,
        jobs.ListJob(
            team_id=ctx.team_id,
            user_id=ctx.user_id,
            response_url=ctx.response_url,
            channel_id=ctx.channel_id,
        ),
    )
    return None  # the job's list is the answer: a placeholder would only add a second one


async def handle_leave_command(ctx: CommandContext) -> Reply:
    """`/debrief leave <bot-id>`."""
    ctx.services.require(AttendeeClient)
    bot_id = ctx.args.strip()
    if not bot_id or " " in bot_id:
        raise UserFacingError(
            f"Usage: `/debrief {BOT_ID_USAGE}` — the id is in "
            "`/debrief bots` and under each status message."
        )
    await enqueue_leave(ctx.services, bot_id, ctx.team_id, ctx.user_id, ctx.response_url)
    return None  # the job says what happened, refusal included


async def enqueue_leave(
    services: Services,
    bot_id: str,
    team_id: str,
    user_id: str,
    response_url: str,
    in_thread: dict[str, str | None] | None = None,
) -> None:
    await services.queue.submit(
        jobs.JOB_LEAVE,
        jobs.LeaveJob(
            bot_id=bot_id,
            team_id=team_id,
            user_id=user_id,
            response_url=response_url,
            **(in_thread or {}),
        ),
    )


async def handle_leave_button(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    services: Services,
) -> None:
    # The job is written before the click is acknowledged: once Slack sees the ack, the work
    # exists (a database write is milliseconds, well inside Slack's three seconds).
    click = click_of(body)
    await enqueue_leave(
        services,
        str(action.get("value", "")),
        click.team_id,
        click.user_id,
        click.response_url,
        click.in_thread(),
    )
    await ack()


async def handle_recording_button(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    services: Services,
    respond: AsyncRespond,
) -> None:
    request_id = str(action.get("value", ""))
    row = await repo.get(services.sessions, request_id)
    click = click_of(body)
    if row is None or row.team_id != click.team_id:
        await tell_clicker(ack, services, body, "I do not know that meeting.")
        return
    await enqueue_then_ack(
        ack,
        services,
        jobs.JOB_RECORDING,
        jobs.RecordingJob(
            request_id=request_id,
            user_id=click.user_id,
            response_url=click.response_url,
            **click.in_thread(),
        ),
    )
