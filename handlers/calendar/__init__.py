"""The calendar autopilot: notetakers join people's calendar meetings by themselves, following
each person's policy, and the owner stays in charge through DMs."""

from __future__ import annotations

from bot.config import Settings
from handlers import home as app_home
from handlers.calendar import consent, dm_blocks, home, jobs, listeners
from handlers.calendar.settings import calendar_settings
from handlers.wiring import Wiring

#: The Home tab's policy controls, then the buttons of the owner's DMs.
ACTIONS = (*home.ACTIONS, *dm_blocks.ACTIONS)


def register(wiring: Wiring) -> None:
    """Called from Attendee's ``register``: calendars are Attendee's to sync."""
    wiring.commands.add(
        "calendar",
        listeners.USAGE,
        "Your calendar's notetakers: status, policy, connect or disconnect",
        listeners.handle_calendar,
    )
    for action_id in home.ACTIONS:
        wiring.bolt.action(action_id)(home.handle_home_policy)
    app_home.add_section("calendar", home.calendar_section)
    consent.register(wiring)
    # The owner's DMs. Imported here: they use the action items' DM helpers, whose package
    # imports Attendee's tables, and Attendee's package imports this one.
    from handlers.calendar import reminders

    reminders.register(wiring)
    wiring.jobs.add(jobs.JOB_WEBHOOK, jobs.job_calendar_webhook, jobs.CalendarWebhookJob)
    wiring.jobs.add(jobs.JOB_SYNC, jobs.job_sync_calendar, jobs.SyncCalendarJob)
    wiring.jobs.add(jobs.JOB_APPLY, jobs.job_apply_event, jobs.ApplyEventJob)
    wiring.jobs.add(jobs.JOB_REAPPLY, jobs.job_reapply_user, jobs.ReapplyUserJob)
    wiring.jobs.add(
        listeners.JOB_STATUS,
        listeners.job_calendar_status,
        listeners.StatusJob,
        on_dead=listeners.tell_unavailable,
    )
    wiring.jobs.add(
        listeners.JOB_DISCONNECT,
        listeners.job_disconnect,
        listeners.DisconnectJob,
        on_dead=listeners.tell_unavailable,
    )


def schedule(settings: Settings) -> list[tuple[str, float]]:
    """While Attendee is configured: the owners' DMs (a scan every minute) and the catch-up in
    case a webhook was lost (``DEBRIEF_CALENDAR_SYNC_SECONDS``, 0: off)."""
    from handlers.calendar import reminders

    if not settings.secret("attendee_api_key"):
        return []
    seconds = calendar_settings(settings).calendar_sync_seconds
    catch_up = [(jobs.JOB_SYNC, float(seconds))] if seconds else []
    return [*reminders.schedule(settings), *catch_up]
