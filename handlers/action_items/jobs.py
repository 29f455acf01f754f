"""The durable work behind action items: applying a click, telling the people it concerns,
publishing the Home tab and answering `/debrief todo`.

A click is applied in one transaction together with everything that must follow it (the digests
re-rendered, the DMs, the Home tabs), so that none of it is lost or done for a change that did
not happen.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date

from pydantic import BaseModel
from slack_sdk.errors import SlackApiError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.jobs import JobRun
from bot.posting import PostKey
from bot.services import Services
from bot.slack import slack_error
from bot.store.db import transaction
from handlers import home
from handlers.access import may_change
from handlers.action_items import repo
from handlers.action_items.blocks import (
    HOME_BLOCKS,
    build_change_dm,
    build_home_view,
    build_todo_reply,
)
from handlers.action_items.links import item_link, meeting_link
from handlers.action_items.policy import VERBS, item_belongs
from handlers.action_items.repo import Applied, ItemState, Kind
from handlers.digest.items import JOB_REFRESH, RefreshJob
from handlers.wiring import InThread

log = logging.getLogger(__name__)

JOB_APPLY = "action_items.apply"
JOB_NOTIFY = "action_items.notify"
JOB_HOME = home.PUBLISH_JOB
JOB_TODO = "action_items.todo"
#: The natural key DMs are posted under (a retried job never sends a second one).
DM_PROVIDER = "action_items"
#: Conflicting changes to one item are retried this often at once, then by the queue.
CONFLICT_ATTEMPTS = 8
GONE_TEXT = (
    "Saved. The digest message you used has been deleted, so it cannot show the change; "
    "your open action items are in Debrief's Home tab."
)
MISSING_TEXT = "That action item no longer exists, so nothing was changed."


class ApplyJob(InThread):
    """One person's change to one item, from a digest message (``channel``/``ts``) or the Home
    tab (neither), with the interaction's key so that it applies once."""

    item_id: int
    kind: Kind
    value: str | None = None
    actor: str
    action_key: str
    team_id: str = ""
    response_url: str | None = None
    channel: str | None = None
    ts: str | None = None


class NotifyJob(BaseModel):
    """Tell ``recipient`` by DM what event ``event_id`` did to their item."""

    event_id: int
    recipient: str
    change: str
    channel: str | None = None


class HomeJob(BaseModel):
    """Publish ``user_id``'s Home tab, with a ``notice`` on top when something went wrong."""

    user_id: str
    notice: str | None = None


class TodoJob(InThread):
    user_id: str
    response_url: str


async def job_apply(services: Services, payload: ApplyJob, run: JobRun) -> None:
    """Check and apply a change, then hand the follow-ups to their own jobs.

    Who may change the item is decided here, the same whether the click came from the digest,
    the Home tab or a DM (``policy``): it may need to ask Slack who is in which channel.
    """
    item = await repo.get_item(services.sessions, payload.item_id)
    if item is None:
        await tell(services, payload, MISSING_TEXT)
        return
    verdict = await may_change(
        services, payload.actor, await item_belongs(services, item), VERBS[payload.kind]
    )
    if not verdict.allowed:
        await tell(services, payload, verdict.why)
        return
    if payload.kind == "assign":
        problem = await assignee_problem(services, payload.value or "", payload.team_id)
        if problem is not None:
            await tell(services, payload, problem)
            return
    applied = await apply(services, payload)
    if applied is None:
        await tell(services, payload, MISSING_TEXT)
    elif applied.changed:
        log.info(
            "action item %s: %s by %s (version %d)",
            payload.item_id,
            payload.kind,
            payload.actor,
            applied.after.version,
        )


async def apply(services: Services, payload: ApplyJob) -> Applied | None:
    """Apply ``payload`` with its follow-ups, reading the item again after a conflict."""
    for attempt in range(1, CONFLICT_ATTEMPTS + 1):
        try:
            async with transaction(services.sessions) as session:
                applied = await repo.apply_change(
                    session,
                    payload.item_id,
                    payload.kind,
                    payload.value,
                    actor=payload.actor,
                    action_key=payload.action_key,
                    now=services.clock(),
                )
                if applied is not None and not applied.duplicate:
                    await follow_up(services, session, payload, applied)
                return applied
        except repo.Conflict:
            log.info("action item %s changed meanwhile (try %d)", payload.item_id, attempt)
    raise RuntimeError(f"action item {payload.item_id} kept changing; trying again later")


async def follow_up(
    services: Services, session: AsyncSession, payload: ApplyJob, applied: Applied
) -> None:
    """Enqueue, in the change's own transaction, what the change means for everyone."""
    queue = services.queue
    item = applied.after
    if payload.channel is not None:
        # Re-rendered from the database even when nothing changed: the clicked message was
        # then out of date, and now matches again.
        await queue.enqueue(
            session,
            JOB_REFRESH,
            RefreshJob(
                provider=item.provider,
                meeting_id=item.meeting_id,
                response_url=payload.response_url if applied.changed else None,
                channel=payload.channel,
                ts=payload.ts,
                gone_text=GONE_TEXT,
            ),
        )
    if not applied.changed:
        if payload.channel is None:
            await queue.enqueue(session, JOB_HOME, HomeJob(user_id=payload.actor))
        return
    if payload.channel is None:
        await queue.enqueue(
            session, JOB_REFRESH, RefreshJob(provider=item.provider, meeting_id=item.meeting_id)
        )
    assert applied.event_id is not None
    for recipient, change in recipients(payload.kind, applied, payload.actor):
        await queue.enqueue(
            session,
            JOB_NOTIFY,
            NotifyJob(
                event_id=applied.event_id,
                recipient=recipient,
                change=change,
                channel=payload.channel,
            ),
            dedupe_key=f"{JOB_NOTIFY}:{applied.event_id}:{recipient}",
        )
    for user in concerned(applied, payload.actor):
        await queue.enqueue(session, JOB_HOME, HomeJob(user_id=user))


def recipients(kind: Kind, applied: Applied, actor: str) -> list[tuple[str, str]]:
    """Who hears of a change by DM, and as what; nobody is told what they did themselves."""
    before, after = applied.before, applied.after
    told: list[tuple[str, str]] = []
    if kind == "assign":
        if after.assignee and after.assignee != actor:
            told.append((after.assignee, "assigned"))
        if before.assignee and before.assignee not in (after.assignee, actor):
            told.append((before.assignee, "reassigned"))
    elif after.assignee and after.assignee != actor:
        change = kind if kind != "due" or after.due is not None else "undue"
        told.append((after.assignee, change))
    return told


def concerned(applied: Applied, actor: str) -> list[str]:
    """Whose Home tab lists the item (before or after the change)."""
    people: Iterable[str | None] = (
        actor,
        applied.before.assignee,
        applied.after.assignee,
        applied.before.assigned_by,
        applied.after.assigned_by,
    )
    return sorted({p for p in people if p})


async def assignee_problem(services: Services, user: str, team_id: str) -> str | None:
    """Why ``user`` cannot be given an action item (``users.info``), or None."""
    try:
        member = (await services.slack.people.get(user)).user
    except SlackApiError as exc:
        if slack_error(exc) in ("user_not_found", "users_not_found"):
            return "I cannot find that person in this workspace, so nothing was changed."
        raise
    if member.get("is_bot") or member.get("is_app_user") or user == "USLACKBOT":
        return "Action items go to people, not apps: pick a person. Nothing was changed."
    if member.get("deleted"):
        return f"<@{user}> is no longer in this workspace: pick someone else. Nothing was changed."
    if team_id and member.get("team_id") not in (None, "", team_id):
        return f"<@{user}> is not a member of this workspace, so nothing was changed."
    return None


async def tell(services: Services, payload: ApplyJob, text: str) -> None:
    """Answer the person who clicked: privately under the message, or on their Home tab."""
    if payload.response_url:
        await services.slack.respond(payload.response_url, text, thread=payload.thread)
        return
    await services.queue.submit(JOB_HOME, HomeJob(user_id=payload.actor, notice=text))


async def job_notify(services: Services, payload: NotifyJob, run: JobRun) -> None:
    """DM one person about a change to their item, with a link to the digest."""
    found = await repo.get_event(services.sessions, payload.event_id)
    if found is None:
        return
    event, item = found
    url = await item_link(services, item, channel=payload.channel)
    text, blocks = build_change_dm(
        payload.change, item, actor=event.actor or "someone", after=event.after, url=url
    )
    channel = await services.slack.open_dm(payload.recipient)
    key = PostKey(DM_PROVIDER, f"event.{payload.event_id}", channel, f"dm.{payload.recipient}")
    await services.posts.upsert(key, text, blocks)


async def local_today(services: Services, user: str) -> date:
    """Today's date where ``user`` is (their Slack time zone)."""
    zone = await services.slack.user_timezone(user)
    return services.clock().astimezone(zone).date()


async def links_for(
    services: Services, items: Iterable[ItemState]
) -> dict[tuple[str, str], str | None]:
    """A link to each meeting's digest, for the items' meetings."""
    links: dict[tuple[str, str], str | None] = {}
    for item in items:
        if item.meeting_key not in links:
            links[item.meeting_key] = await meeting_link(services, *item.meeting_key)
    return links


async def links_to_items(services: Services, items: Iterable[ItemState]) -> dict[int, str | None]:
    """A link to the digest message that shows each item."""
    return {item.id: await item_link(services, item) for item in items}


async def job_publish_home(services: Services, payload: HomeJob, run: JobRun) -> None:
    """Publish a person's Home tab from what is stored now."""
    user = payload.user_id
    zone = await services.slack.user_timezone(user)
    today = services.clock().astimezone(zone).date()
    own = await repo.open_items_of(services.sessions, user)
    assigned = await repo.open_items_assigned_by(services.sessions, user)
    view = build_home_view(
        today=today,
        own=own,
        assigned=assigned,
        links=await links_for(services, [*own, *assigned]),
        reminders_on=await repo.reminders_enabled(services.sessions, user),
        reminder_hour=services.settings.reminder_hour,
        notice=payload.notice,
        item_links=await links_to_items(services, own),
        zone=zone,
    )
    # Other features' sections (``handlers.home``) follow, as far as Slack's limit allows.
    extra = await home.sections(services, user)
    room = HOME_BLOCKS - len(view["blocks"])
    if extra and room > 1:
        view["blocks"] = [*view["blocks"], {"type": "divider"}, *extra[: room - 1]]
    await services.slack.client.views_publish(user_id=user, view=view)


async def job_todo(services: Services, payload: TodoJob, run: JobRun) -> None:
    """`/debrief todo`: the caller's open items, answered privately."""
    today = await local_today(services, payload.user_id)
    items = await repo.open_items_of(services.sessions, payload.user_id)
    text, blocks = build_todo_reply(items, today, await links_for(services, items))
    await services.slack.respond(payload.response_url, text, blocks, thread=payload.thread)


async def tell_requester(services: Services, payload: ApplyJob | TodoJob, error: str) -> None:
    """A click or `/debrief todo` that failed for good: say so instead of staying silent."""
    if payload.response_url:
        await services.slack.respond(
            payload.response_url,
            "Sorry, I could not do that (Slack kept failing); please try again in a minute.",
            thread=payload.thread,
        )
