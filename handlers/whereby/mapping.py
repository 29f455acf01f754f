"""A Whereby room's summary as the provider-neutral ``Meeting`` the digest renders."""

from __future__ import annotations

from datetime import timedelta

from bot.meetings import Links, Meeting, Person
from handlers.whereby import repo
from handlers.whereby.tables import WherebyRoom
from providers.whereby import Summary

PROVIDER = "whereby"


def to_meeting(row: WherebyRoom, summary: Summary) -> Meeting:
    """The digest of one summarised session of ``row``.

    Times come from the summary (the transcribed stretch), else from the session events; the
    participants are the names people joined the room with.
    """
    started = summary.start_date or row.session_started_at
    ended = summary.end_date or row.session_ended_at
    duration = None
    if started is not None and ended is not None and ended > started:
        duration = ended - started
    elif row.session_started_at and row.session_ended_at:
        duration = max(row.session_ended_at - row.session_started_at, timedelta(0))
    return Meeting(
        provider=PROVIDER,
        meeting_id=row.meeting_id or row.id,
        title=row.title or "Whereby room",
        started_at=started,
        ended_at=ended,
        duration=duration,
        participants=[Person(name=name) for name in repo.people(row)],
        summary=(summary.text or "").strip() or None,
        links=Links(call=row.room_url if row.status == repo.OPEN else None),
        extras={
            "whereby_room_name": row.room_name,
            "whereby_transcription_id": summary.transcription_id,
            "whereby_summary_id": summary.summary_id,
        },
    )
