"""Slack listeners for Otter: thin, fast, every Otter call left to a job."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond

from bot.errors import UserFacingError
from bot.services import Services
from handlers.otter import jobs
from handlers.wiring import CommandContext, Reply, click_of, tell_clicker
from providers.otter import OtterClient, conversation_id_from

SUMMARY_USAGE = "summary <otter-url-or-id>"


async def enqueue_summary(
    services: Services,
    conversation_id: str,
    channel_id: str,
    user_id: str,
    response_url: str,
    in_thread: dict[str, str | None] | None = None,
) -> None:
    await services.queue.submit(
        jobs.JOB_SUMMARY,
        jobs.SummaryJob(
            conversation_id=conversation_id,
            channel_id=channel_id,
            user_id=user_id,
            response_url=response_url,
            **(in_thread or {}),
        ),
    )


async def handle_summary(ctx: CommandContext) -> Reply:
    """`/debrief summary <otter-url-or-id>`."""
    ctx.services.require(OtterClient)
    text = ctx.args.strip()
    if not text:
        raise UserFacingError(
            f"Usage: `/debrief {SUMMARY_USAGE}` — paste the conversation's link "
            "(https://otter.ai/u/…) or its id. `/debrief recent` lists yours."
        )
    try:
        conversation_id = conversation_id_from(text)
    except ValueError as exc:
        raise UserFacingError(f"{exc}.") from None
    await enqueue_summary(
        ctx.services, conversation_id, ctx.channel_id, ctx.user_id, ctx.response_url
    )
    return None  # the job answers: the digest itself, or why not


async def handle_recent(ctx: CommandContext) -> Reply:
    """`/debrief recent`: answered through ``response_url`` once Otter has been asked."""
    ctx.services.require(OtterClient)
    await ctx.services.queue.submit(
        jobs.JOB_RECENT,
        jobs.RecentJob(user_id=ctx.user_id, response_url=ctx.response_url),
    )
    return None  # the job's list is the answer


async def handle_post_digest_button(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    services: Services,
    respond: AsyncRespond,
) -> None:
    """The "Post digest here" button under a conversation of `/debrief recent`."""
    try:
        conversation_id = conversation_id_from(str(action.get("value", "")))
    except ValueError:
        await tell_clicker(
            ack, services, body, "That button no longer works; run `/debrief recent` again."
        )
        return
    click = click_of(body)
    # The job is durable before Slack hears back: a crash right after the ack loses no click.
    # The job answers (the digest, or why not): no placeholder besides it.
    await enqueue_summary(
        services,
        conversation_id,
        click.channel_id,
        click.user_id,
        click.response_url,
        click.in_thread(),
    )
    await ack()
