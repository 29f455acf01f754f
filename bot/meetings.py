"""The provider-neutral meeting every provider maps into, and the digest renders from."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field, field_validator

#: Statuses providers use for a finished action item (compared in lower case).
DONE_STATUSES = frozenset({"done", "completed", "complete", "closed", "resolved", "finished"})
#: A conversational speaking rate (about 150 words a minute), for a turn whose end nobody told.
SECONDS_PER_WORD = 0.4


def speaking_seconds(text: str) -> float:
    """About how long saying ``text`` takes, for a transcript turn without an end time."""
    return len(text.split()) * SECONDS_PER_WORD


class Person(BaseModel):
    """Someone in a meeting, as the provider names them."""

    name: str
    email: str | None = None
    is_host: bool = False
    #: Seconds this person spoke, when the provider's transcript tells.
    talk_seconds: float | None = None


class ActionItem(BaseModel):
    """A to-do the meeting produced, with the assignee the provider suggested."""

    text: str
    assignee_name: str | None = None
    assignee_email: str | None = None
    status: str | None = None
    due: datetime | None = None
    provider_id: str | None = None

    @property
    def is_done(self) -> bool:
        """Whether the provider reports the item as finished."""
        return (self.status or "").strip().lower() in DONE_STATUSES


class Utterance(BaseModel):
    """One stretch of speech in a transcript."""

    speaker: str
    text: str
    start_seconds: float = 0.0
    duration_seconds: float = 0.0


class Insight(BaseModel):
    """An insight or topic the provider drew from the meeting, with its points."""

    topic: str | None = None
    points: list[str] = Field(default_factory=list)


class OutlineSection(BaseModel):
    """A section of the meeting's outline, with its bullet points."""

    title: str
    points: list[str] = Field(default_factory=list)
    start_seconds: float | None = None


class Links(BaseModel):
    """Where to find more: the provider's page, the recording and the transcript."""

    provider_page: str | None = None
    recording: str | None = None
    transcript: str | None = None
    #: The call itself (Zoom, Meet, Teams link), when the provider tells.
    call: str | None = None


class Meeting(BaseModel):
    """A processed meeting, whatever provider it came from."""

    provider: str
    meeting_id: str
    title: str
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration: timedelta | None = None
    owner: Person | None = None
    participants: list[Person] = Field(default_factory=list)
    summary: str | None = None
    #: What the meeting decided, one sentence each (from the understanding engine when the
    #: provider says nothing of it).
    decisions: list[str] = Field(default_factory=list)
    action_items: list[ActionItem] = Field(default_factory=list)
    #: Plain strings are accepted and read as insights without a topic.
    insights: list[Insight] = Field(default_factory=list)
    outline: list[OutlineSection] = Field(default_factory=list)
    transcript: list[Utterance] = Field(default_factory=list)
    links: Links = Field(default_factory=Links)
    #: The provider-side folders the meeting belongs to (its channels there), for routing.
    provider_channels: list[str] = Field(default_factory=list)
    #: Provider-specific details a renderer may show.
    extras: dict[str, Any] = Field(default_factory=dict)

    @field_validator("insights", mode="before")
    @classmethod
    def _plain_insights(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"points": [item]} if isinstance(item, str) else item for item in value]
        return value

    @property
    def length(self) -> timedelta | None:
        """The meeting's duration: the provider's, or its start to its end, but never shorter
        than the transcript it holds (a notetaker that joined late still heard what it heard);
        None when nothing says it lasted at all."""
        told = self.duration
        if told is None and self.started_at and self.ended_at:
            told = self.ended_at - self.started_at
        spoken = timedelta(seconds=self.transcript_span())
        length = max(told, spoken) if told is not None else spoken
        return length if length > timedelta(0) else None

    def transcript_span(self) -> float:
        """Seconds from the transcript's start to the end of its last word."""
        return max(
            (u.start_seconds + max(u.duration_seconds, 0.0) for u in self.transcript), default=0.0
        )

    def transcript_text(self) -> str:
        """The transcript as plain text, one ``[mm:ss] Speaker: words`` line per utterance."""
        lines = []
        for u in self.transcript:
            minutes, seconds = divmod(int(u.start_seconds), 60)
            hours, minutes = divmod(minutes, 60)
            stamp = (
                f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"
            )
            lines.append(f"[{stamp}] {u.speaker}: {u.text}")
        return "\n".join(lines)

    def people(self) -> list[Person]:
        """The owner, then every participant, each once (by email, else by name)."""
        seen: set[str] = set()
        people: list[Person] = []
        for person in ([self.owner] if self.owner else []) + self.participants:
            key = (person.email or person.name).strip().lower()
            if key not in seen:
                seen.add(key)
                people.append(person)
        return people

    def talk_time(self) -> list[tuple[str, float, float]]:
        """(speaker, seconds, share of all talk) from the transcript, most talkative first.

        A speaker's seconds are the time covered by their turns, overlaps counted once, so no
        one talks longer than the meeting lasted.
        """
        turns: dict[str, list[tuple[float, float]]] = {}
        for u in self.transcript:
            start = u.start_seconds
            turns.setdefault(u.speaker, []).append((start, start + max(u.duration_seconds, 0.0)))
        totals = {speaker: _covered(spans) for speaker, spans in turns.items()}
        whole = sum(totals.values())
        return sorted(
            ((name, secs, secs / whole if whole else 0.0) for name, secs in totals.items()),
            key=lambda row: -row[1],
        )


def _covered(spans: list[tuple[float, float]]) -> float:
    """How many seconds the union of ``spans`` covers."""
    covered, reach = 0.0, float("-inf")
    for start, end in sorted(spans):
        if end <= reach:
            continue
        covered += end - max(start, reach)
        reach = end
    return covered
