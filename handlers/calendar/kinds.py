"""The calendar autopilot's job kinds and payloads (re-exported by ``handlers.calendar.jobs``),
apart from the jobs themselves so that every module of the feature can enqueue them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

JOB_WEBHOOK = "calendar.webhook"
JOB_SYNC = "calendar.sync"
JOB_APPLY = "calendar.apply"
JOB_REAPPLY = "calendar.reapply_user"


class CalendarWebhookJob(BaseModel):
    """A verified, deduplicated ``calendar.*`` Attendee delivery, as received."""

    envelope: dict[str, Any]


class SyncCalendarJob(BaseModel):
    """Fetch one calendar's changes since its ``events_cursor``; empty (the periodic run):
    every connected calendar's, each in a job of its own."""

    calendar_id: str = ""


class ApplyEventJob(BaseModel):
    """Re-decide one event (honouring ``owner_choice``) and make Attendee and Slack match."""

    event_id: str


class ReapplyUserJob(BaseModel):
    """Re-decide the owner's future events (their policy changed)."""

    user_id: str
