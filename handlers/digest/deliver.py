"""Delivering a digest: every message upserted under the meeting's natural key.

The key is (provider, meeting id, channel); the parent message is part ``digest`` and the thread
replies ``digest.1`` … ``digest.N`` in posting order. Delivering the same meeting again updates
each message in place (identical ones are not touched), posts replies it now needs, and deletes
replies an earlier, longer version had. A lease on the ``digests`` row keeps two deliveries of
one digest from interleaving (a webhook and a `/debrief summary` at the same moment); it is held
by the job delivering (``bot/leases.py``), so after a crash it is free as soon as that job's own
lease runs out and the job, claimed again, carries on at once.

:func:`post_parts` is that posting on its own, for a digest that lives in the thread of a
provider's own message (Attendee's status message) rather than in a ``digests`` row.

The digest is rendered from the meeting and its action items' stored states, read under that
lease: delivering stores new items first (``handlers.action_items.store``), and after someone
changes an item :func:`refresh_digests` updates the meeting's messages in place, in every
channel, without ever posting one again.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from pydantic import BaseModel
from slack_sdk.errors import SlackApiError
from sqlalchemy import ColumnElement, delete, select

from bot.jobs import JobRun, RetryLater
from bot.leases import LeaseHolder, RowLease, current_holder
from bot.meetings import Meeting
from bot.posting import Posted, PostKey, content_hash
from bot.services import Services
from bot.slack import slack_error
from bot.store.db import insert_ignore, transaction
from bot.store.models import SlackPost
from handlers.action_items.store import sync_items
from handlers.digest.items import PARENT_PART, RefreshJob, item_views, thread_part
from handlers.digest.render import Part, RenderedDigest, render_digest
from handlers.digest.tables import Digest
from handlers.digest.understand import understand_meeting
from handlers.search.store import store_delivered

log = logging.getLogger(__name__)

JOB_DELIVER = "digest.deliver"
_THREAD_PART = re.compile(r"^digest\.(\d+)$")
LEASE = RowLease(Digest)
BUSY_RETRY_SECONDS = 5.0
#: A refresh waits less: it is a person's click, and the delivery holding the lease is short.
REFRESH_RETRY_SECONDS = 0.5
#: Answers of chat.delete meaning the message is not there to delete (any more).
_GONE = ("message_not_found", "channel_not_found", "cant_delete_message")
#: Answers of chat.update meaning the message is gone (deleted, or its channel).
_UPDATE_GONE = ("message_not_found", "cant_update_message", "channel_not_found", "is_archived")


class DeliverJob(BaseModel):
    """Deliver ``meeting`` (a ``Meeting`` as JSON) to ``channel``."""

    meeting: dict[str, object]
    channel: str


@dataclass(frozen=True)
class DeliveredDigest:
    """Where a digest now lives and whether this delivery changed anything in Slack."""

    channel: str
    ts: str
    thread_parts: int
    changed: bool


@dataclass(frozen=True)
class HeldForReview:
    """A digest not posted: it waits for (or was kept private by) its owner's review
    (``handlers.review``)."""

    channel: str
    review_id: int
    #: Who decides: the owner, or None when the operators were asked.
    owner: str | None
    #: ``pending`` or ``private``.
    state: str


@dataclass(frozen=True)
class Resume:
    """A job of the caller's to run again once a held digest is shared (its work after the
    delivery: Attendee's transcript upload and status message)."""

    kind: str
    payload: BaseModel


@dataclass(frozen=True)
class PostedParts:
    """A rendered digest's messages as they now are in Slack."""

    parent: Posted
    replies: int
    #: Whether any message was posted, updated or deleted.
    changed: bool

    @property
    def thread_ts(self) -> str:
        """The thread of the replies: the parent's own, or the one the parent is a reply in."""
        return self.parent.thread_ts or self.parent.ts


async def deliver_digest(
    services: Services,
    meeting: Meeting,
    channel: str,
    *,
    thread_ts: str | None = None,
    owner: str | None = None,
    resume: Resume | None = None,
) -> DeliveredDigest | HeldForReview:
    """Post or update the digest of ``meeting`` in ``channel``; never posts a twin.

    What the provider left out is filled in first (``handlers.digest.understand``; a meeting
    filled already is left as it is). With ``thread_ts``, the digest is a reply in that thread
    (Attendee's status message) rather than a message of its own.

    The digest of a meeting with people from outside the workspace goes to its owner first
    (``handlers.review``): then nothing is posted and the answer is :class:`HeldForReview`.
    ``owner`` is the Slack user who sent the notetaker or asked for the digest, when the caller
    knows (else the meeting's requester, else its provider-side owner matched by email);
    ``resume`` is a job of the caller's to run again once it is shared.

    Raises:
        RetryLater: another delivery of the same digest is under way.
        SlackApiError: Slack refused (``channel_not_found``, ``not_in_channel`` … are permanent).
    """
    from handlers.review.gate import review_gate  # the gate reads routing, which imports this

    meeting = await understand_meeting(services, meeting)
    gated = await review_gate(
        services, meeting, channel, thread_ts=thread_ts, owner=owner, resume=resume
    )
    if isinstance(gated, HeldForReview):
        return gated
    meeting = gated
    key = (meeting.provider, meeting.meeting_id, channel)
    holder = current_holder()
    await _take_lease(services, key, meeting.title, holder)
    try:
        await sync_items(services, meeting)
        items = await item_views(services.sessions, meeting.provider, meeting.meeting_id)
        posted = await post_parts(services, key, render_digest(meeting, items), thread_ts=thread_ts)
    except BaseException:
        await _release_lease(services, key, holder)
        raise
    await _release_lease(services, key, holder, meeting=meeting, thread_parts=posted.replies)
    parent = posted.parent
    # Stored for search in the same job: a retry delivers again and replaces what it stored.
    await store_delivered(services, meeting, parent.channel, parent.ts)
    return DeliveredDigest(parent.channel, parent.ts, posted.replies, posted.changed)


async def post_parts(
    services: Services,
    key: tuple[str, str, str],
    rendered: RenderedDigest,
    *,
    thread_ts: str | None = None,
) -> PostedParts:
    """Post or update every message of a rendered digest under ``key`` (provider, meeting id,
    channel); never posts a twin, and leaves identical messages alone.

    The parent is part ``digest``: a top-level message, or a reply in ``thread_ts`` (the digest
    of a meeting that has a message of its own). The replies, parts ``digest.1`` …, go in the
    parent's thread (which is ``thread_ts`` when given: Slack threads are one level deep), and
    replies an earlier, longer version had are deleted.

    Raises:
        SlackApiError: Slack refused (``channel_not_found``, ``not_in_channel`` … are permanent).
    """
    posts = services.posts
    parent = await _upsert_parent(
        services, PostKey(*key, PARENT_PART), rendered.parent, thread_ts=thread_ts
    )
    thread = parent.thread_ts or parent.ts
    changed = parent.changed
    for number, part in enumerate(rendered.thread, 1):
        part_key = PostKey(*key, thread_part(number))
        earlier = await posts.find(part_key)
        if earlier is not None and earlier.thread_ts != thread:
            # The parent was deleted in Slack and posted again: this reply is in the old
            # thread, so it goes, and a new one is posted under the new parent.
            await remove_post(services, earlier)
        posted = await posts.upsert(part_key, part.text, part.blocks, thread_ts=thread)
        changed = changed or posted.changed
    removed = await _remove_surplus(services, key, len(rendered.thread))
    return PostedParts(parent, len(rendered.thread), changed or removed > 0)


async def _upsert_parent(
    services: Services, key: PostKey, part: Part, *, thread_ts: str | None = None
) -> Posted:
    try:
        return await services.posts.upsert(key, part.text, part.blocks, thread_ts=thread_ts)
    except SlackApiError as exc:
        # A parent deleted in Slack while it had replies stays as a tombstone that cannot be
        # updated: forget it, and the digest is posted anew (its replies follow it).
        if slack_error(exc) != "cant_update_message":
            raise
        stale = await services.posts.find(key)
        if stale is not None:
            await forget_post(services, stale)
        return await services.posts.upsert(key, part.text, part.blocks, thread_ts=thread_ts)


async def remove_post(services: Services, post: SlackPost) -> None:
    """Delete a message Debrief posted, and forget it; one already gone is simply forgotten."""
    try:
        await services.slack.client.chat_delete(channel=post.channel_id, ts=post.ts)
    except SlackApiError as exc:
        if slack_error(exc) not in _GONE:
            raise
    await forget_post(services, post)


async def forget_post(services: Services, post: SlackPost) -> None:
    """Drop the record of a message, leaving Slack alone."""
    async with transaction(services.sessions) as session:
        await session.execute(
            delete(SlackPost).where(
                SlackPost.provider == post.provider,
                SlackPost.meeting_id == post.meeting_id,
                SlackPost.channel_id == post.channel_id,
                SlackPost.part == post.part,
            )
        )


async def _remove_surplus(services: Services, key: tuple[str, str, str], keep: int) -> int:
    removed = 0
    for post in await services.posts.parts(*key):
        match = _THREAD_PART.match(post.part)
        if match and int(match[1]) > keep:
            await remove_post(services, post)
            removed += 1
    return removed


async def refresh_digests(services: Services, provider: str, meeting_id: str) -> list[SlackPost]:
    """Update every message of a meeting's digests in place from what is stored now.

    Only messages that changed are updated; one deleted in Slack is not posted again (it is
    returned, so the person who clicked in it can be told). Under each digest's lease, so that
    the last refresh to run shows the latest state.

    Raises:
        RetryLater: a delivery of one of the digests is under way.
    """
    async with services.sessions() as session:
        rows = await session.execute(
            select(Digest).where(
                Digest.provider == provider,
                Digest.meeting_id == meeting_id,
                Digest.meeting.is_not(None),
            )
        )
        digests = list(rows.scalars())
    gone: list[SlackPost] = []
    holder = current_holder()
    for digest in digests:
        key = (provider, meeting_id, digest.channel_id)
        await _take_lease(services, key, digest.title, holder, retry=REFRESH_RETRY_SECONDS)
        try:
            meeting = Meeting.model_validate(digest.meeting)
            rendered = render_digest(
                meeting, await item_views(services.sessions, provider, meeting_id)
            )
            parts = [(PARENT_PART, rendered.parent)]
            parts += [(thread_part(n), part) for n, part in enumerate(rendered.thread, 1)]
            for name, part in parts:
                post = await services.posts.find(PostKey(*key, name))
                if post is not None and not await _update_in_place(services, post, part):
                    gone.append(post)
        finally:
            await _release_lease(services, key, holder)
    return gone


async def _update_in_place(services: Services, post: SlackPost, part: Part) -> bool:
    """``chat.update`` one stored message if its content changed; False when it is gone."""
    digest = content_hash(part.text, part.blocks)
    if post.content_hash == digest:
        return True
    try:
        await services.slack.update(post.channel_id, post.ts, part.text, part.blocks)
    except SlackApiError as exc:
        if slack_error(exc) not in _UPDATE_GONE:
            raise
        log.info("digest message %s in %s is gone; not updating it", post.ts, post.channel_id)
        return False
    key = PostKey(post.provider, post.meeting_id, post.channel_id, post.part)
    await services.posts.remember(key, post.ts, post.thread_ts, digest)
    return True


async def job_refresh_digest(services: Services, payload: RefreshJob, run: JobRun) -> None:
    """Re-render a meeting's digests after an item changed; tell the clicker if theirs is gone."""
    gone = await refresh_digests(services, payload.provider, payload.meeting_id)
    clicked = any(p.channel_id == payload.channel and p.ts == payload.ts for p in gone)
    if clicked and payload.response_url and payload.gone_text:
        await services.slack.respond(payload.response_url, payload.gone_text)


async def _take_lease(
    services: Services,
    key: tuple[str, str, str],
    title: str,
    holder: LeaseHolder,
    *,
    retry: float = BUSY_RETRY_SECONDS,
) -> None:
    provider, meeting_id, channel = key
    now = services.clock()
    async with transaction(services.sessions) as session:
        await insert_ignore(
            session,
            Digest,
            {
                "provider": provider,
                "meeting_id": meeting_id,
                "channel_id": channel,
                "title": title[:300],
                "thread_parts": 0,
                "created_at": now,
            },
        )
        taken = await LEASE.take(session, _digest_is(key), holder, now)
    if not taken:
        raise RetryLater(retry, f"the digest of {provider} {meeting_id} is being sent")


async def _release_lease(
    services: Services,
    key: tuple[str, str, str],
    holder: LeaseHolder,
    *,
    meeting: Meeting | None = None,
    thread_parts: int | None = None,
) -> None:
    """Give the row back, recording what was delivered; nothing when the lease was lost (the
    delivery that took it over records its own)."""
    values: dict[str, object] = {}
    if meeting is not None:
        values.update(
            title=meeting.title[:300],
            meeting=meeting.model_dump(mode="json"),
            thread_parts=thread_parts or 0,
            delivered_at=services.clock(),
        )
    async with transaction(services.sessions) as session:
        await LEASE.release(session, _digest_is(key), holder, **values)


def _digest_is(key: tuple[str, str, str]) -> list[ColumnElement[bool]]:
    provider, meeting_id, channel = key
    return [
        Digest.provider == provider,
        Digest.meeting_id == meeting_id,
        Digest.channel_id == channel,
    ]


async def job_deliver_digest(services: Services, payload: DeliverJob, run: JobRun) -> None:
    """Deliver a digest that was decided on earlier (a held one released by a new route)."""
    meeting = Meeting.model_validate(payload.meeting)
    delivered = await deliver_digest(services, meeting, payload.channel)
    if isinstance(delivered, HeldForReview):
        return
    log.info(
        "digest of %s %s in %s: %s",
        meeting.provider,
        meeting.meeting_id,
        payload.channel,
        "updated" if delivered.changed else "unchanged",
    )
