"""The durable work behind Claritalk: webhook deliveries (digest, PDF, status line), the
`/debrief claritalk status` check, and the periodic upkeep (refresh tokens kept alive, reports
of held digests attached). Old states and reports go in the retention purge (handlers/retention.py).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from pydantic import BaseModel

from bot.blockkit import mrkdwn, slack_time
from bot.jobs import JobRun
from bot.posting import PostKey
from bot.services import Services
from handlers.claritalk import store
from handlers.claritalk.connections import keep_alive, lapse, lapse_reason, user_client
from handlers.claritalk.mapping import to_meeting
from handlers.claritalk.messages import RECONNECT, explain
from handlers.claritalk.report import attach_pending, attach_report, digest_thread, keep_report
from handlers.claritalk.settings import claritalk_settings
from handlers.digest import DeliveredDigest
from handlers.routing import publish_digest
from handlers.wiring import InThread
from providers.claritalk import (
    ClaritalkEvent,
    ClaritalkUser,
    ConnectionLapsed,
    MeetingProcessed,
    MeetingStatusChanged,
)
from providers.errors import ProviderError

log = logging.getLogger(__name__)

JOB_WEBHOOK = "claritalk.webhook"
JOB_STATUS = "claritalk.status"
JOB_MAINTAIN = "claritalk.maintain"
STATUS_PART = "claritalk.status"
#: How often the upkeep runs.
MAINTAIN_SECONDS = 600.0
#: A refresh token lapses 7 days after its last use; renewing a day after leaves six in hand.
KEEPALIVE_AFTER = timedelta(days=1)


class WebhookJob(BaseModel):
    """An authenticated, de-duplicated webhook body."""

    body: dict[str, Any]


class StatusJob(InThread):
    """`/debrief claritalk status`: check the connection against Claritalk and answer."""

    user_id: str
    response_url: str


class MaintainJob(BaseModel):
    pass


async def job_handle_webhook(services: Services, payload: WebhookJob, run: JobRun) -> None:
    """Act on one delivery: a digest, a status line, or a log line."""
    event = ClaritalkEvent.model_validate(payload.body)
    data = event.data
    if isinstance(data, MeetingProcessed):
        await publish_processed(services, data)
    elif isinstance(data, MeetingStatusChanged):
        await post_status_line(services, data)
    elif isinstance(data, ClaritalkUser):
        log.info("claritalk: user %s (%s) was created", data.id or "?", data.role or "no role")
    else:
        log.info("claritalk: %s needs nothing from Debrief", event.event[:100])


async def publish_processed(services: Services, data: MeetingProcessed) -> None:
    """The digest where its route says, then the PDF report (or a note) in its thread."""
    owner = await store.connection_of(services.sessions, data.user_id)
    meeting = to_meeting(data, owner)
    # Kept first: a digest held for want of a channel gets its report once it is posted.
    await keep_report(services, data)
    delivered = await publish_digest(
        services, meeting, owner=owner.slack_user_id if owner is not None else None
    )
    if not isinstance(delivered, DeliveredDigest):
        # Held for a route or for its owner's review: the upkeep attaches the report once the
        # digest is posted.
        log.info("claritalk %s: digest held; its report waits for it", data.meeting_id)
        return
    await attach_report(services, data.meeting_id, delivered.channel, delivered.ts, meeting.title)


async def post_status_line(services: Services, data: MeetingStatusChanged) -> None:
    """A short status line in the thread of each digest of the meeting, updated in place."""
    posts = await digest_thread(services, data.meeting_id)
    if not posts:
        log.info(
            "claritalk %s is now %r; no digest to show it on", data.meeting_id, data.status or "?"
        )
        return
    status = mrkdwn(data.status or "unknown", 200)
    text = f":information_source: Claritalk status: *{status}*"
    if data.previous_status and data.previous_status != data.status:
        text += f" (was {mrkdwn(data.previous_status, 200)})"
    moment = data.updated_at
    blocks = [
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": text + (f" · {slack_time(moment)}" if moment else ""),
                }
            ],
        }
    ]
    for post in posts:
        key = PostKey(store.PROVIDER, data.meeting_id, post.channel_id, STATUS_PART)
        await services.posts.upsert(key, text, blocks, thread_ts=post.ts)


async def job_status(services: Services, payload: StatusJob, run: JobRun) -> None:
    """Ask Claritalk who the connection belongs to (refreshing it if due) and say so."""
    user_id = payload.user_id
    try:
        who = await user_client(services, user_id).current_user()
    except ConnectionLapsed as exc:
        await lapse(services, user_id, lapse_reason(exc))
        text = explain(exc)
    except ProviderError as exc:
        text = explain(exc)
    else:
        connection = await store.get_connection(services.sessions, user_id)
        name = f"*{mrkdwn(who.name or who.email or 'an unnamed account', 200)}*"
        if who.name and who.email:
            name += f" ({mrkdwn(who.email, 200)})"
        renewed = (
            f" Debrief last renewed its tokens {slack_time(connection.refreshed_at)}."
            if connection is not None
            else ""
        )
        text = (
            f":white_check_mark: Your Claritalk connection works: you are connected as "
            f"{name}.{renewed} `/debrief claritalk disconnect` forgets it."
        )
    await services.slack.respond(payload.response_url, text, thread=payload.thread)


async def tell_requester(services: Services, payload: StatusJob, error: str) -> None:
    """The check gave up (Claritalk kept failing): say so rather than nothing."""
    await services.slack.respond(
        payload.response_url,
        "Claritalk is unavailable right now; please try `/debrief claritalk status` again in a "
        f"minute. If it persists, reconnect with {RECONNECT}.",
        thread=payload.thread,
    )


async def job_maintain(services: Services, payload: MaintainJob, run: JobRun) -> None:
    """Keep refresh tokens alive and attach reports of released digests."""
    settings = services.settings
    if claritalk_settings(settings).claritalk_client_id and settings.secret(
        "claritalk_client_secret"
    ):
        renewed, lapsed = await keep_alive(services, KEEPALIVE_AFTER)
        if renewed or lapsed:
            log.info("claritalk connections: %d renewed, %d lapsed", renewed, lapsed)
    attached = await attach_pending(services)
    if attached:
        log.info("claritalk: attached %d report(s) to digests posted since", attached)
