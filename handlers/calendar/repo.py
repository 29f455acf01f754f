"""The calendar autopilot's rows. Only what connecting a calendar needs is here in this branch
(cal-connect): cal-core's repo.py, with the same ``link_calendar``, replaces it at merge."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.db import transaction
from handlers.calendar.tables import CalendarLink
from providers.attendee.calendars import Calendar


async def link_calendar(
    sessions: async_sessionmaker[AsyncSession],
    calendar: Calendar,
    *,
    team_id: str,
    user_id: str,
    now: datetime,
) -> CalendarLink:
    """Upsert the owner's calendar from Attendee's answer (its id, platform, state)."""
    async with transaction(sessions) as session:
        row = await session.get(CalendarLink, calendar.id)
        if row is None:
            row = CalendarLink(calendar_id=calendar.id, created_at=now)
            session.add(row)
        row.team_id = team_id
        row.user_id = user_id
        row.platform = calendar.platform
        row.deduplication_key = calendar.deduplication_key
        row.state = calendar.state
        row.state_detail = calendar.failure
        row.last_synced_at = calendar.last_successful_sync_at
        row.updated_at = now
    return row
