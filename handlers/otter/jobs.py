"""The durable work behind Otter digests: webhook deliveries, `/debrief summary`, waiting for
processing to finish, and `/debrief recent`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator
from datetime import datetime, timedelta
from typing import Any, cast

from pydantic import BaseModel, Field

from bot.blockkit import mrkdwn, truncate
from bot.jobs import JobRun, RetryLater
from bot.services import Services
from handlers.access import Belongs, digest_channels, may_see
from handlers.digest import HeldForReview, deliver_digest
from handlers.ops import JOB_NOTICE, NoticeJob
from handlers.otter.blocks import build_recent_blocks
from handlers.otter.mapping import RELATIONSHIPS, is_complete, to_meeting
from handlers.otter.settings import otter_settings
from handlers.routing import publish_digest
from handlers.wiring import InThread
from providers.errors import NotFound
from providers.otter import Conversation, OtterClient, OtterWebhook

log = logging.getLogger(__name__)

JOB_WEBHOOK = "otter.webhook"
JOB_SUMMARY = "otter.summary"
JOB_AWAIT = "otter.await_ready"
JOB_RECENT = "otter.recent"

#: Stop waiting for a conversation Otter has not finished after this long.
READY_GIVE_UP = timedelta(hours=12)
RECENT_COUNT = 10
#: Conversations looked through to find the caller's ten (Otter cannot filter by person).
RECENT_SCAN = 300


class WebhookJob(BaseModel):
    """An authenticated, de-duplicated webhook body."""

    body: dict[str, Any]


class SummaryJob(InThread):
    """`/debrief summary` or a "Post digest here" click: post one conversation's digest."""

    conversation_id: str
    channel_id: str
    user_id: str
    response_url: str


class AwaitJob(InThread):
    """Wait until Otter has processed a conversation, then post its digest.

    With ``channel_id`` it goes there (someone asked in that channel); without, it is routed.
    """

    conversation_id: str
    since: datetime
    channel_id: str | None = None
    channels: list[str] = Field(default_factory=list)
    user_id: str | None = None
    response_url: str | None = None
    #: The listing that found it showed it processed already: skip the status look.
    listed_ready: bool = False


class RecentJob(InThread):
    user_id: str
    response_url: str


def await_key(conversation_id: str, channel_id: str | None) -> str:
    """One waiter per conversation (and channel, when someone asked in one)."""
    return f"{JOB_AWAIT}:{conversation_id}:{channel_id or 'routed'}"


async def job_handle_webhook(services: Services, payload: WebhookJob, run: JobRun) -> None:
    """A completed conversation: its own data when complete, else one fetch; then route it."""
    webhook = OtterWebhook.model_validate(payload.body)
    conversation = webhook.data
    named = [webhook.channel.name] if webhook.channel and webhook.channel.name else []
    if not is_complete(conversation):
        otter = services.require(OtterClient)
        conversation = await otter.get_conversation(conversation.id, RELATIONSHIPS)
        if not conversation.ready:
            log.info("otter %s: announced complete but still processing; waiting", conversation.id)
            await wait_for(
                services,
                AwaitJob(conversation_id=conversation.id, since=services.clock(), channels=named),
            )
            return
    await publish_digest(services, to_meeting(conversation, channels=named))


async def wait_for(services: Services, job: AwaitJob) -> bool:
    """Enqueue a waiter for a conversation still processing; False when one is already waiting."""
    return await services.queue.submit(
        JOB_AWAIT,
        job,
        delay=otter_settings(services.settings).otter_ready_poll_seconds,
        dedupe_key=await_key(job.conversation_id, job.channel_id),
    )


async def job_post_summary(services: Services, payload: SummaryJob, run: JobRun) -> None:
    """Post a conversation's digest in the asking channel, or say it is not ready yet."""
    otter = services.require(OtterClient)
    try:
        conversation = await otter.get_conversation(payload.conversation_id, RELATIONSHIPS)
    except NotFound:
        await services.slack.respond(
            payload.response_url,
            f"I cannot find the Otter.ai conversation `{mrkdwn(payload.conversation_id, 100)}`: it "
            "does not "
            "exist, or this Debrief's Otter.ai account cannot see it (ask its owner to share it).",
            thread=payload.thread,
        )
        return
    refusal = await elsewhere(services, payload, conversation)
    if refusal is not None:
        await services.slack.respond(payload.response_url, refusal, thread=payload.thread)
        return
    if not conversation.ready:
        waiting = await wait_for(
            services,
            AwaitJob(
                conversation_id=conversation.id,
                since=services.clock(),
                channel_id=payload.channel_id,
                user_id=payload.user_id,
                response_url=payload.response_url,
                thread_ts=payload.thread_ts,
                thread_channel=payload.thread_channel,
                thread_user=payload.thread_user,
            ),
        )
        title = mrkdwn(conversation.display_title, 200)
        await services.slack.respond(
            payload.response_url,
            f"⏳ “{title}” is not ready yet: Otter.ai is still processing it. "
            + (
                "I'll post the digest here as soon as it is."
                if waiting
                else "I'm already waiting for it and will post the digest here."
            ),
            thread=payload.thread,
        )
        return
    delivered = await deliver_digest(
        services, to_meeting(conversation), payload.channel_id, owner=payload.user_id
    )
    if isinstance(delivered, HeldForReview):
        await services.slack.respond(
            payload.response_url,
            held_text(conversation, delivered, payload.user_id),
            thread=payload.thread,
        )
        return
    if not delivered.changed:
        await services.slack.respond(
            payload.response_url,
            f"The digest of “{mrkdwn(conversation.display_title, 200)}” is already in this "
            "channel, "
            "up to date.",
            thread=payload.thread,
        )


def held_text(conversation: Conversation, held: HeldForReview, asker: str | None) -> str:
    """What the person who asked is told when the digest waits for review instead."""
    title = mrkdwn(conversation.display_title, 200)
    if held.state == "private":
        return f"The digest of “{title}” was kept private by its owner, so it is not posted."
    who = "you, by DM," if held.owner == asker else "its owner" if held.owner else "the operators"
    return (
        f"“{title}” had people from outside the workspace, so its digest went to {who} to "
        "review first; it is posted here once shared."
    )


async def elsewhere(
    services: Services, payload: SummaryJob, conversation: Conversation
) -> str | None:
    """Why a digest that already belongs to other channels may not be posted here by this
    person (the privacy rule, ``handlers.access``), or None: they are in one of those channels,
    or the conversation is theirs in Otter."""
    channels = await digest_channels(services, "otter", conversation.id)
    if not channels or payload.channel_id in channels:
        return None
    if await may_see(services, payload.user_id, Belongs.of("digest", channels, [], "")):
        return None
    email = await slack_email(services, payload.user_id)
    if email is not None and involves(conversation, email):
        return None
    return (
        "The digest of that conversation is in a channel you are not in, so I will not post it "
        "here; ask someone there to share it with you."
    )


async def job_await_ready(services: Services, payload: AwaitJob, run: JobRun) -> None:
    """Look at the conversation's status (no relationships) until it is processed."""
    otter = services.require(OtterClient)
    try:
        # The cheap look first (no relationships: a transcript can be large), unless the
        # listing that found the conversation already showed it processed.
        if not payload.listed_ready:
            status = await otter.get_conversation(payload.conversation_id, ())
            if not status.ready:
                await _not_ready(services, payload)
                return
        conversation = await otter.get_conversation(payload.conversation_id, RELATIONSHIPS)
    except NotFound:
        await _stop_waiting(services, payload, "it was deleted, or is no longer shared")
        return
    if not conversation.ready:  # the listing was wrong after all: wait like the others
        await _not_ready(services, payload)
        return
    meeting = to_meeting(conversation, channels=payload.channels)
    if payload.channel_id is not None:
        delivered = await deliver_digest(
            services, meeting, payload.channel_id, owner=payload.user_id
        )
        if isinstance(delivered, HeldForReview) and payload.response_url:
            await services.slack.respond(
                payload.response_url,
                held_text(conversation, delivered, payload.user_id),
                thread=payload.thread,
            )
    else:
        await publish_digest(services, meeting)


async def _not_ready(services: Services, payload: AwaitJob) -> None:
    """Look again later, or give up (and say so) once it has taken far too long."""
    if services.clock() - payload.since > READY_GIVE_UP:
        await _stop_waiting(services, payload, "Otter.ai has not finished processing it")
        return
    raise RetryLater(
        otter_settings(services.settings).otter_ready_poll_seconds, "Otter is still processing"
    )


async def _stop_waiting(services: Services, payload: AwaitJob, why: str) -> None:
    shown = mrkdwn(payload.conversation_id, 100)
    text = f"I stopped waiting for the Otter.ai conversation `{shown}`: {why}."
    log.warning("%s", text)
    if payload.response_url:
        await services.slack.respond(payload.response_url, text, thread=payload.thread)
        return
    await services.queue.submit(JOB_NOTICE, NoticeJob(text=f":hourglass: {text}"))


async def slack_email(services: Services, user_id: str) -> str | None:
    """A Slack user's email address (needs ``users:read.email``), if Slack gives it."""
    try:
        person = await services.slack.people.get(user_id)
    except Exception as exc:  # a missing scope or a Slack hiccup: fall back, do not fail
        log.info("no email for %s: %s", user_id, exc)
        return None
    email = person.profile.get("email")
    return str(email).lower() if email else None


def involves(conversation: Conversation, email: str) -> bool:
    """Whether the person with ``email`` owns, was invited to or was shared the conversation."""
    emails = [conversation.owner.email if conversation.owner else None]
    emails += [guest.email for guest in conversation.calendar_guests]
    for share in conversation.shared_emails:
        emails += [share.email, share.user.email if share.user else None]
    return email in {e.lower() for e in emails if e}


async def job_list_recent(services: Services, payload: RecentJob, run: JobRun) -> None:
    """Answer `/debrief recent` with the caller's ten most recent conversations."""
    otter = services.require(OtterClient)
    email = await slack_email(services, payload.user_id)
    found: list[Conversation] = []
    scanned = 0
    conversations = cast(
        AsyncGenerator[Conversation, None],
        otter.iter_conversations(include_shared=True, limit=50),
    )
    async with contextlib.aclosing(conversations):
        async for conversation in conversations:
            scanned += 1
            if email is None or involves(conversation, email):
                found.append(conversation)
            if len(found) >= RECENT_COUNT or scanned >= RECENT_SCAN:
                break
    await services.slack.respond(
        payload.response_url,
        f"{len(found)} recent Otter.ai conversation{'s' if len(found) != 1 else ''}",
        build_recent_blocks(found, everyone=email is None),
        thread=payload.thread,
    )


async def tell_requester(
    services: Services, payload: SummaryJob | RecentJob | AwaitJob, error: str
) -> None:
    """The job gave up: say why, in words, to whoever asked."""
    if not payload.response_url:
        return
    if any(code in error for code in ("channel_not_found", "not_in_channel", "is_archived")):
        text = (
            "I cannot post in this channel. Invite me (`/invite @Debrief`) or ask in a channel "
            "I am in."
        )
    else:
        text = "Otter.ai is unavailable right now; please try again in a minute."
    await services.slack.respond(payload.response_url, truncate(text, 3000), thread=payload.thread)
