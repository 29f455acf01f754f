"""The calendar autopilot's durable work: a ``calendar.*`` delivery, a calendar's catch-up, one
event's decision, and an owner's events after their policy changed."""

from __future__ import annotations

import logging

from bot.jobs import JobRun
from bot.services import Services
from bot.store.db import transaction
from handlers.calendar import repo
from handlers.calendar.apply import apply_event, cancel_calendar_bots
from handlers.calendar.kinds import (
    JOB_APPLY,
    JOB_REAPPLY,
    JOB_SYNC,
    JOB_WEBHOOK,
    ApplyEventJob,
    CalendarWebhookJob,
    ReapplyUserJob,
    SyncCalendarJob,
)
from handlers.calendar.sync import adopt_calendar, is_disconnected, sync_events, tell_disconnected
from handlers.calendar.tables import CalendarLink
from providers.attendee import WebhookTrigger
from providers.attendee.calendars import CalendarWebhook

__all__ = [
    "JOB_APPLY",
    "JOB_REAPPLY",
    "JOB_SYNC",
    "JOB_WEBHOOK",
    "ApplyEventJob",
    "CalendarWebhookJob",
    "ReapplyUserJob",
    "SyncCalendarJob",
    "job_apply_event",
    "job_calendar_webhook",
    "job_reapply_user",
    "job_sync_calendar",
]

log = logging.getLogger(__name__)


async def job_calendar_webhook(
    services: Services, payload: CalendarWebhookJob, run: JobRun
) -> None:
    """Adopt the calendar when its metadata names a Slack user, then follow its events or its
    state."""
    envelope = CalendarWebhook.model_validate(payload.envelope)
    before, link = await adopt_calendar(services, envelope.calendar_id)
    if link is None:
        return
    if envelope.trigger == WebhookTrigger.CALENDAR_EVENTS_UPDATE:
        await sync_events(services, link)
    elif envelope.trigger == WebhookTrigger.CALENDAR_STATE_CHANGE:
        await on_state_change(services, envelope, before, link)


async def on_state_change(
    services: Services,
    envelope: CalendarWebhook,
    before: CalendarLink | None,
    link: CalendarLink,
) -> None:
    """Disconnected: Attendee deleted the calendar's scheduled bots; record that and DM the
    owner, once per change. Connected again: re-decide the owner's events (they may need
    their notetakers back)."""
    if is_disconnected(link):
        reason = "Your calendar was disconnected."
        await cancel_calendar_bots(services, link, reason, delete=False)
        failure = envelope.data.get("connection_failure_data") or {}
        change = str(failure.get("timestamp") or envelope.idempotency_key)
        await tell_disconnected(services, link, change)
    elif is_disconnected(before):
        await services.queue.submit(JOB_REAPPLY, ReapplyUserJob(user_id=link.user_id))


async def job_sync_calendar(services: Services, payload: SyncCalendarJob, run: JobRun) -> None:
    """One calendar's changes since the last look; the periodic run (no id) fans out."""
    if not payload.calendar_id:
        async with transaction(services.sessions) as session:
            for each in await repo.connected_links(services.sessions):
                job = SyncCalendarJob(calendar_id=each.calendar_id)
                await services.queue.enqueue(session, JOB_SYNC, job)
        return
    _, link = await adopt_calendar(services, payload.calendar_id)
    if link is not None:
        await sync_events(services, link)


async def job_apply_event(services: Services, payload: ApplyEventJob, run: JobRun) -> None:
    verdict = await apply_event(services, payload.event_id)
    log.info("calendar event %s: %s", payload.event_id, verdict.decision if verdict else "gone")


async def job_reapply_user(services: Services, payload: ReapplyUserJob, run: JobRun) -> None:
    """Each future event of the owner re-decided in a job of its own."""
    records = await repo.future_events(services.sessions, payload.user_id, services.clock())
    async with transaction(services.sessions) as session:
        for record in records:
            await services.queue.enqueue(
                session, JOB_APPLY, ApplyEventJob(event_id=record.event_id)
            )
