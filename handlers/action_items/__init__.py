"""Action items people own: every provider's items, stored per meeting when the digest is
delivered, assigned, closed and dated from the digest's controls, listed on the App Home tab
and in `/debrief todo`, and recalled by a daily reminder in each person's time zone.

The controls themselves are drawn by the digest (``handlers.digest``) from the stored states;
this feature stores the items (``store``), applies what people do (``listeners`` → ``jobs``)
and tells the people concerned.
"""

from __future__ import annotations

from bot.config import Settings
from handlers.action_items import jobs, listeners, reminders
from handlers.action_items.blocks import ACTION_OPEN_DIGEST, ACTION_REMINDERS
from handlers.action_items.store import sync_items
from handlers.digest.items import ACTION_ASSIGN, ACTION_DONE, ACTION_DUE, ACTION_REOPEN
from handlers.wiring import Wiring

__all__ = ["ACTIONS", "EVENTS", "register", "schedule", "sync_items"]

ITEM_ACTIONS = (ACTION_ASSIGN, ACTION_DONE, ACTION_REOPEN, ACTION_DUE)
ACTIONS = (*ITEM_ACTIONS, ACTION_REMINDERS, ACTION_OPEN_DIGEST)
EVENTS = ("app_home_opened",)


def register(wiring: Wiring) -> None:
    wiring.commands.add("todo", "todo", "List your open action items", listeners.handle_todo)
    for action_id in ITEM_ACTIONS:
        wiring.bolt.action(action_id)(listeners.handle_item_action)
    wiring.bolt.action(ACTION_REMINDERS)(listeners.handle_reminders_toggle)
    wiring.bolt.action(ACTION_OPEN_DIGEST)(listeners.handle_open_digest)
    wiring.bolt.event("app_home_opened")(listeners.handle_home_opened)

    wiring.jobs.add(jobs.JOB_APPLY, jobs.job_apply, jobs.ApplyJob, on_dead=jobs.tell_requester)
    wiring.jobs.add(jobs.JOB_NOTIFY, jobs.job_notify, jobs.NotifyJob)
    wiring.jobs.add(jobs.JOB_HOME, jobs.job_publish_home, jobs.HomeJob, max_attempts=3)
    wiring.jobs.add(jobs.JOB_TODO, jobs.job_todo, jobs.TodoJob, on_dead=jobs.tell_requester)
    # Few attempts: the next scan, minutes later, looks again anyway.
    wiring.jobs.add(
        reminders.JOB_SCAN, reminders.job_scan_reminders, reminders.ScanJob, max_attempts=2
    )
    wiring.jobs.add(reminders.JOB_REMIND, reminders.job_remind, reminders.RemindJob)


def schedule(settings: Settings) -> list[tuple[str, float]]:
    """The daily reminders' scan."""
    return reminders.schedule(settings)
