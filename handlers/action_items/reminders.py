"""The daily reminder: a DM to each person with open action items, at
``DEBRIEF_REMINDER_HOUR`` in their own Slack time zone, overdue and due-today items first.

The scheduler only enqueues the scan; the scan only enqueues one job per person due a reminder
(deduplicated per person and local date); that job claims the (person, local date) row of
``reminders_sent``, whose primary key lets one reminder a day through, whichever process or
restart gets there, and posts under a natural key so that a job re-run after a crash finds
the DM it already sent instead of sending a second.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from pydantic import BaseModel

from bot.config import Settings
from bot.jobs import JobRun
from bot.posting import PostKey
from bot.services import Services
from handlers.action_items import repo
from handlers.action_items.blocks import build_reminder
from handlers.action_items.jobs import DM_PROVIDER, links_for

log = logging.getLogger(__name__)

JOB_SCAN = "action_items.reminders"
JOB_REMIND = "action_items.remind"
#: After an outage a reminder missed at its hour still goes out within this window, never at
#: night.
CATCH_UP = timedelta(hours=3)


class ScanJob(BaseModel):
    pass


class RemindJob(BaseModel):
    """The reminder of ``user_id`` for their ``local_date``."""

    user_id: str
    local_date: date


def schedule(settings: Settings) -> list[tuple[str, float]]:
    """The scan, unless ``DEBRIEF_REMINDER_SCAN_SECONDS`` is 0."""
    if settings.reminder_scan_seconds <= 0:
        return []
    return [(JOB_SCAN, settings.reminder_scan_seconds)]


def due_now(local: datetime, hour: int) -> bool:
    """Whether a local time is within the reminder's window (its hour, plus the catch-up)."""
    start = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    return start <= local < start + CATCH_UP


def remind_key(user: str, local_date: date) -> str:
    return f"{JOB_REMIND}:{user}:{local_date.isoformat()}"


async def job_scan_reminders(services: Services, payload: ScanJob, run: JobRun) -> None:
    """The scheduled scan: see :func:`scan_reminders`."""
    await scan_reminders(services)


async def scan_reminders(services: Services) -> int:
    """Enqueue a reminder for everyone whose local reminder hour has come; how many."""
    now = services.clock()
    hour = services.settings.reminder_hour
    enqueued = 0
    for user in await repo.people_to_remind(services.sessions):
        zone = await services.slack.user_timezone(user)
        local = now.astimezone(zone)
        if not due_now(local, hour):
            continue
        if await repo.reminder_claimed(services.sessions, user, local.date()):
            continue
        enqueued += await services.queue.submit(
            JOB_REMIND,
            RemindJob(user_id=user, local_date=local.date()),
            dedupe_key=remind_key(user, local.date()),
        )
    if enqueued:
        log.info("enqueued %d daily reminder(s)", enqueued)
    return enqueued


async def job_remind(services: Services, payload: RemindJob, run: JobRun) -> None:
    """Send one person's reminder of the day, unless it is already sent or not wanted."""
    user, day = payload.user_id, payload.local_date
    now = services.clock()
    if not await repo.claim_reminder(services.sessions, user, day, run.job_id, now):
        log.info("the reminder of %s for %s is someone else's to send", user, day)
        return
    items = await repo.open_items_of(services.sessions, user)
    if not items or not await repo.reminders_enabled(services.sessions, user):
        await repo.mark_reminded(services.sessions, user, day, 0, now)
        return
    text, blocks = build_reminder(items, day, await links_for(services, items))
    channel = await services.slack.open_dm(user)
    key = PostKey(DM_PROVIDER, f"reminder.{user}.{day.isoformat()}", channel, "reminder")
    await services.posts.upsert(key, text, blocks)
    await repo.mark_reminded(services.sessions, user, day, len(items), services.clock())
