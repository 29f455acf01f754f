"""`/debrief claritalk connect|status|disconnect`: quick answers; Claritalk calls go to a job."""

from __future__ import annotations

from bot.blockkit import SECTION_TEXT, link, mrkdwn
from bot.errors import UserFacingError
from bot.store.db import transaction
from handlers.claritalk import access, store
from handlers.claritalk.connections import LINK_TTL, connect_link
from handlers.claritalk.jobs import JOB_STATUS, StatusJob
from handlers.claritalk.messages import RECONNECT
from handlers.wiring import CommandContext, Reply

USAGE = "claritalk connect|status|disconnect"


async def handle_claritalk(ctx: CommandContext) -> Reply:
    """`/debrief claritalk <connect|status|disconnect>`."""
    words = ctx.args.split()
    action = words[0].lower() if words else ""
    if action == "connect":
        return await connect(ctx)
    if action == "status":
        return await status(ctx)
    if action == "disconnect":
        return await disconnect(ctx)
    raise UserFacingError(
        f"Usage: `/debrief {USAGE}`: `connect` links your Claritalk account to Debrief, "
        "`status` checks that link, `disconnect` makes Debrief forget it."
    )


def _who(connection: object) -> str:
    name = getattr(connection, "claritalk_name", None) or getattr(connection, "claritalk_email", "")
    return f" as *{mrkdwn(name, 200)}*" if name else ""


async def connect(ctx: CommandContext) -> Reply:
    services = ctx.services
    problem = access.connect_problem(services.settings)
    if problem is not None:
        raise UserFacingError(problem)
    url = connect_link(services, ctx.team_id, ctx.user_id, LINK_TTL)
    minutes = int(LINK_TTL.total_seconds() // 60)
    opened = link(url, "Connect your Claritalk account", url_limit=SECTION_TEXT - 300)
    text = (
        f":link: {opened}. The link is for you alone: it works for {minutes} minutes, once. "
        "Do not forward it."
    )
    existing = await store.get_connection(services.sessions, ctx.user_id)
    if existing is not None and existing.status == store.CONNECTED:
        text += f" You are already connected{_who(existing)}; connecting again replaces that."
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


async def status(ctx: CommandContext) -> Reply:
    services = ctx.services
    connection = await store.get_connection(services.sessions, ctx.user_id)
    if connection is None:
        return f"You have not connected a Claritalk account. {RECONNECT} does."
    if connection.status != store.CONNECTED:
        lapsed = connection.lapsed_reason
        reason = f" ({mrkdwn(lapsed, 300)})" if lapsed else ""
        return f"Your Claritalk connection has lapsed{reason}. Connect again with {RECONNECT}."
    await services.queue.submit(
        JOB_STATUS, StatusJob(user_id=ctx.user_id, response_url=ctx.response_url)
    )
    return None  # the job's check is the answer, failure included


async def disconnect(ctx: CommandContext) -> Reply:
    async with transaction(ctx.services.sessions) as session:
        found = await store.forget(session, ctx.user_id)
    if not found:
        return "You have no Claritalk connection; there was nothing to forget."
    return (
        "Done: Debrief deleted your Claritalk tokens and no longer acts for your account. "
        f"{RECONNECT} links it again."
    )
