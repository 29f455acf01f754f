"""A Whereby room's summary as the provider-neutral ``Meeting`` the digest renders."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import timedelta

from bot.meetings import Links, Meeting, Person, Utterance, speaking_seconds
from handlers.whereby import repo
from handlers.whereby.tables import WherebyRoom
from providers.whereby import Summary

PROVIDER = "whereby"


#: A transcript line: an optional time (``[00:01:02]``, ``00:12``), the speaker (``**Name**:``,
#: ``**Name:**`` or ``Name:``), and what they said.
_LINE = re.compile(
    r"^\s*(?:\[?(?P<time>(?:\d{1,2}:)?\d{1,2}:\d{2})\]?\s*)?"
    r"(?:\*\*(?P<bold>[^*\n]{1,80}?):?\*\*:?|(?P<plain>[^:*\n]{1,60}):)\s*(?P<text>\S.*)$"
)


def parse_transcript(text: str) -> list[Utterance]:
    """Whereby's transcript file (Markdown: one ``**Speaker**: words`` paragraph a turn) as
    utterances; a line without a speaker continues the turn before it. Times are read when the
    file gives them, else counted from the words spoken."""
    turns: list[Utterance] = []
    clock = 0.0
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        found = _LINE.match(line)
        if found is None:
            if turns:
                turns[-1].text += " " + line
                turns[-1].duration_seconds = speaking_seconds(turns[-1].text)
            continue
        speaker = (found["bold"] or found["plain"] or "").strip() or "Speaker"
        words = found["text"].strip()
        if found["time"]:
            clock = float(
                sum(int(part) * 60**n for n, part in enumerate(reversed(found["time"].split(":"))))
            )
        turns.append(
            Utterance(
                speaker=speaker,
                text=words,
                start_seconds=clock,
                duration_seconds=speaking_seconds(words),
            )
        )
        clock += speaking_seconds(words)
    return turns


def short_id(value: str) -> str:
    """An id short enough for a post's key (Whereby's are 36-character UUIDs)."""
    return value if len(value) <= 40 else hashlib.sha256(value.encode()).hexdigest()[:32]


def to_meeting(
    row: WherebyRoom,
    summary: Summary | None,
    *,
    transcription_id: str | None = None,
    transcript: Sequence[Utterance] = (),
) -> Meeting:
    """The digest of one session of ``row``: summarised (``summary``), or not (None: its
    summary failed, and the understanding engine fills it in from ``transcript``).

    Times come from the summary (the transcribed stretch), else from the session events; the
    participants are the names people joined the room with, and whoever else spoke.
    """
    started = (summary.start_date if summary else None) or row.session_started_at
    ended = (summary.end_date if summary else None) or row.session_ended_at
    duration = None
    if started is not None and ended is not None and ended > started:
        duration = ended - started
    elif row.session_started_at and row.session_ended_at:
        duration = max(row.session_ended_at - row.session_started_at, timedelta(0))
    people = list(repo.people(row))
    known = {name.lower() for name in people}
    for turn in transcript:
        if turn.speaker.lower() not in known:
            known.add(turn.speaker.lower())
            people.append(turn.speaker)
    return Meeting(
        provider=PROVIDER,
        # One meeting per session (a room holds many): the transcription's id stands in.
        meeting_id=short_id(transcription_id) if transcription_id else row.meeting_id or row.id,
        title=row.title or "Whereby room",
        started_at=started,
        ended_at=ended,
        duration=duration,
        participants=[Person(name=name) for name in people],
        summary=((summary.text if summary else None) or "").strip() or None,
        transcript=list(transcript),
        links=Links(call=row.room_url if row.status == repo.OPEN else None),
        extras={
            "whereby_room_name": row.room_name,
            "whereby_transcription_id": summary.transcription_id if summary else transcription_id,
            "whereby_summary_id": summary.summary_id if summary else None,
        },
    )
