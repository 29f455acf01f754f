"""`/debrief search`, `ask` and `forget`, and mentions: checked at once, answered by a job."""

from __future__ import annotations

from typing import Any

from bot.services import Services
from handlers.search.jobs import (
    JOB_ASK,
    JOB_FORGET,
    JOB_MENTION,
    JOB_SEARCH,
    CommandJob,
    MentionJob,
)
from handlers.search.query import parse_meeting_ref, parse_question, parse_search
from handlers.wiring import CommandContext, Reply


def _job(ctx: CommandContext) -> CommandJob:
    return CommandJob(
        user_id=ctx.user_id, channel_id=ctx.channel_id, text=ctx.args, response_url=ctx.response_url
    )


async def handle_search(ctx: CommandContext) -> Reply:
    """`/debrief search <words> [filters]`: the usage line at once when it cannot be read."""
    parse_search(ctx.args)
    await ctx.services.queue.submit(JOB_SEARCH, _job(ctx))
    return None  # the job's results are the answer


async def handle_ask(ctx: CommandContext) -> Reply:
    """`/debrief ask <question>`."""
    parse_question(ctx.args)
    await ctx.services.queue.submit(JOB_ASK, _job(ctx))
    return None


async def handle_forget(ctx: CommandContext) -> Reply:
    """`/debrief forget <meeting>`."""
    parse_meeting_ref(ctx.args)
    await ctx.services.queue.submit(JOB_FORGET, _job(ctx))
    return None


async def handle_app_mention(event: dict[str, Any], services: Services) -> None:
    """A mention of the app: its question is answered in the thread by a job (once, however
    often Slack retries the event)."""
    if event.get("bot_id") or not event.get("user") or not event.get("channel"):
        return
    job = MentionJob(
        user_id=str(event["user"]),
        channel_id=str(event["channel"]),
        text=str(event.get("text") or ""),
        ts=str(event.get("ts") or ""),
        thread_ts=str(event["thread_ts"]) if event.get("thread_ts") else None,
    )
    await services.queue.submit(JOB_MENTION, job, dedupe_key=f"mention:{job.channel_id}:{job.ts}")
