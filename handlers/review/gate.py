"""The review gate: nothing external is shared unseen.

Every provider's digest reaches a channel through ``handlers.digest.deliver_digest``, which
asks :func:`review_gate` first. With ``DEBRIEF_REVIEW_EXTERNAL`` on, the digest of a meeting
with someone from outside the workspace (``handlers.routing``'s ``internal_domains`` and
``external_emails``, as for ``external:`` routes) is stored in ``digest_reviews`` instead of
posted, and its owner gets a DM with the digest as it would be posted and *Share*, *Edit
summary*, *Keep private*. *Share* sends it through the same ``deliver_digest`` (the posting
ledger and the digest's lease make a double click or two workers post it once); *Keep private*
never posts it, and stores the meeting for search as its owner's alone. With no owner to ask,
the review message goes to the operators' channel, for route admins to decide.
"""

from __future__ import annotations

import logging
from typing import Literal

from pydantic import BaseModel
from slack_sdk.errors import SlackApiError
from sqlalchemy import ColumnElement, select, update

from bot.jobs import JobRun, PermanentJobError
from bot.meetings import Meeting
from bot.posting import PostKey
from bot.services import Services
from bot.store.db import insert_ignore, transaction
from handlers.action_items.store import lookup_emails
from handlers.digest.deliver import HeldForReview, Resume, deliver_digest
from handlers.digest.render import EXTRA_ACTIONS, render_digest
from handlers.ops import JOB_NOTICE, NoticeJob, operator_channel
from handlers.review.blocks import build_review_blocks
from handlers.review.tables import PENDING, PRIVATE, SHARED, DigestReview
from handlers.routing.publish import internal_domains
from handlers.routing.rules import external_emails
from handlers.search.index import index_meeting
from handlers.search.store import requester_of
from handlers.wiring import InThread

log = logging.getLogger(__name__)

JOB_SHOW = "review.show"
JOB_DECIDE = "review.decide"
#: The review message's part in the posting ledger (its channel is the DM's or the operators').
REVIEW_PART = "review"

Decision = Literal["share", "private"]


class ShowJob(BaseModel):
    """Post or update the review message of ``review_id``."""

    review_id: int


class DecideJob(InThread):
    """A *Share* or *Keep private* click, checked by the listener."""

    review_id: int
    decision: Decision
    user_id: str
    response_url: str = ""


async def review_gate(
    services: Services,
    meeting: Meeting,
    channel: str,
    *,
    thread_ts: str | None = None,
    owner: str | None = None,
    resume: Resume | None = None,
) -> Meeting | HeldForReview:
    """The meeting to deliver to ``channel`` (with the owner's edited summary, once shared), or
    why it is not delivered: held for its owner's review, or kept private.

    A meeting reviewed for another channel is reviewed again for this one: sharing in one
    channel is not sharing everywhere.
    """
    if not services.settings.review_external:
        return meeting
    # An internal meeting (most of them) costs no look at the reviews.
    external = external_emails(meeting, await internal_domains(services))
    if not external:
        return meeting
    row = await _find(services, meeting.provider, meeting.meeting_id, channel)
    if row is not None:
        if row.state == SHARED:
            if row.summary is not None:
                meeting = meeting.model_copy(update={"summary": row.summary})
            return meeting
        return HeldForReview(channel, row.id, row.owner_id, row.state)
    owner = owner or requester_of(meeting) or await _owner_by_email(services, meeting)
    now = services.clock()
    async with transaction(services.sessions) as session:
        fresh = await insert_ignore(
            session,
            DigestReview,
            {
                "provider": meeting.provider,
                "meeting_id": meeting.meeting_id,
                "channel_id": channel,
                "thread_ts": thread_ts,
                "title": meeting.title[:300],
                "meeting": meeting.model_dump(mode="json"),
                "owner_id": owner,
                "external": external,
                "state": PENDING,
                "resume_kind": resume.kind if resume else None,
                "resume_payload": resume.payload.model_dump(mode="json") if resume else None,
                "created_at": now,
            },
        )
        row = (
            await session.execute(select(DigestReview).where(*_review_is(meeting, channel)))
        ).scalar_one()
        if fresh:
            await services.queue.enqueue(
                session, JOB_SHOW, ShowJob(review_id=row.id), dedupe_key=f"{JOB_SHOW}:{row.id}"
            )
        held = HeldForReview(channel, row.id, row.owner_id, row.state)
    if fresh:
        log.info(
            "held the digest of %s %s for %s's review: external (%d outside)",
            meeting.provider,
            meeting.meeting_id,
            owner or "the operators",
            len(external),
        )
    return held


async def _owner_by_email(services: Services, meeting: Meeting) -> str | None:
    """The Slack member whose email is the provider's owner's (the cached lookup)."""
    email = (meeting.owner.email or "").strip().lower() if meeting.owner else ""
    if not email:
        return None
    return (await lookup_emails(services, [email])).get(email)


def _review_is(meeting: Meeting, channel: str) -> list[ColumnElement[bool]]:
    return [
        DigestReview.provider == meeting.provider,
        DigestReview.meeting_id == meeting.meeting_id,
        DigestReview.channel_id == channel,
    ]


async def _find(
    services: Services, provider: str, meeting_id: str, channel: str
) -> DigestReview | None:
    async with services.sessions() as session:
        rows = await session.execute(
            select(DigestReview).where(
                DigestReview.provider == provider,
                DigestReview.meeting_id == meeting_id,
                DigestReview.channel_id == channel,
            )
        )
        return rows.scalar_one_or_none()


async def review_state(services: Services, provider: str, meeting_id: str) -> str | None:
    """How the review of a meeting's digest stands, in whichever channel: ``pending`` while one
    waits, else ``private`` when one was kept private, else ``shared``; None when none was."""
    async with services.sessions() as session:
        rows = await session.execute(
            select(DigestReview.state).where(
                DigestReview.provider == provider, DigestReview.meeting_id == meeting_id
            )
        )
        states = set(rows.scalars())
    return next((s for s in (PENDING, PRIVATE, SHARED) if s in states), None)


async def get_review(services: Services, review_id: int) -> DigestReview | None:
    async with services.sessions() as session:
        return await session.get(DigestReview, review_id)


def stored_meeting(row: DigestReview) -> Meeting:
    """The meeting as it would be posted: the owner's summary, once edited."""
    meeting = Meeting.model_validate(row.meeting)
    if row.summary is not None:
        meeting = meeting.model_copy(update={"summary": row.summary})
    return meeting


async def may_decide(services: Services, row: DigestReview, user: str) -> bool:
    """Only the owner decides; for a review nobody owns, a route admin (the people named in
    ``DEBRIEF_ROUTE_ADMINS``, and workspace admins), as for routes."""
    if row.owner_id is not None:
        return user == row.owner_id
    if user in services.settings.route_admin_list():
        return True
    return bool(await services.membership.is_admin(user))


async def withheld(services: Services, row: DigestReview) -> bool:
    """Whether the review message must not show the digest: nobody owns it, so it is asked in
    the operators' channel, and it was going to a private channel, whose members alone may read
    it (or to one Debrief cannot look at: the safe answer)."""
    if row.owner_id is not None:
        return False
    try:
        info = (await services.slack.client.conversations_info(channel=row.channel_id)).get(
            "channel"
        ) or {}
    except SlackApiError:
        return True
    return bool(info.get("is_private") or info.get("is_im") or info.get("is_mpim"))


async def review_place(services: Services, row: DigestReview) -> str | None:
    """Where the review message lives: the owner's DM, else the operators' channel."""
    if row.owner_id is not None:
        return await services.slack.open_dm(row.owner_id)
    return operator_channel(services)


async def job_show_review(services: Services, payload: ShowJob, run: JobRun) -> None:
    """Post the review message, or update it in place to what the row says now."""
    row = await get_review(services, payload.review_id)
    if row is None:
        raise PermanentJobError(f"review {payload.review_id} no longer exists")
    place = await review_place(services, row)
    if place is None:
        # No DEBRIEF_OPS_CHANNEL and no digest channel: the log is the operators' only notice.
        await services.queue.submit(
            JOB_NOTICE,
            NoticeJob(
                text=(
                    "An external meeting's digest is waiting for review and nobody owns it, "
                    "and there is no operators' channel to ask route admins in."
                )
            ),
            dedupe_key=f"{JOB_NOTICE}:review:{row.id}",
        )
        return
    meeting = stored_meeting(row)
    preview_of = meeting.model_copy(
        update={"extras": {k: v for k, v in meeting.extras.items() if k != EXTRA_ACTIONS}}
    )
    text, blocks = build_review_blocks(
        row.id,
        render_digest(preview_of).parent,
        channel=row.channel_id,
        owner=row.owner_id,
        external=row.external,
        state=row.state,
        decided_by=row.decided_by,
        withheld=await withheld(services, row),
    )
    key = PostKey(row.provider, row.meeting_id, place, f"{REVIEW_PART}.{row.channel_id}")
    await services.posts.upsert(key, text, blocks)


async def job_decide(services: Services, payload: DecideJob, run: JobRun) -> None:
    """Share or keep private: the first decision stands. A Share that won (or is being retried)
    delivers through the common path, which posts each message once whoever else is at it."""
    row = await get_review(services, payload.review_id)
    if row is None:
        raise PermanentJobError(f"review {payload.review_id} no longer exists")
    wanted = SHARED if payload.decision == "share" else PRIVATE
    async with transaction(services.sessions) as session:
        await session.execute(
            update(DigestReview)
            .where(DigestReview.id == row.id, DigestReview.state == PENDING)
            .values(state=wanted, decided_by=payload.user_id, decided_at=services.clock())
        )
    row = await get_review(services, payload.review_id)
    assert row is not None
    if row.state != wanted:
        said = "shared" if row.state == SHARED else "kept private"
        if not payload.response_url:
            return
        await services.slack.respond(
            payload.response_url,
            f"That digest was already {said} by <@{row.decided_by}>; nothing changed.",
            thread=payload.thread,
        )
        return
    meeting = stored_meeting(row)
    if row.state == SHARED:
        await deliver_digest(services, meeting, row.channel_id, thread_ts=row.thread_ts)
        if row.resume_kind and row.resume_payload is not None:
            await services.queue.submit(
                row.resume_kind, row.resume_payload, dedupe_key=f"review.resume:{row.id}"
            )
    else:
        await keep_private(services, row, meeting)
    await job_show_review(services, ShowJob(review_id=row.id), run)


async def keep_private(services: Services, row: DigestReview, meeting: Meeting) -> None:
    """Store the meeting for search as its owner's alone: in no channel, found by them."""
    async with transaction(services.sessions) as session:
        await index_meeting(
            session,
            meeting,
            now=services.clock(),
            requester_id=row.owner_id,
            team_id=str(meeting.extras.get("slack_team_id") or "") or None,
        )
