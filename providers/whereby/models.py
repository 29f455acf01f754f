"""Pydantic models in Whereby's own nouns: meetings, recordings, transcriptions, summaries,
insights, pages and webhook events.

Python attributes are snake_case; the camelCase names Whereby uses are aliases, and both are
accepted on input (``populate_by_name``). Response models ignore unknown fields; the webhook
``data`` object keeps them (``model_extra``), because Whereby adds fields without a version bump.

Assumptions, from Whereby's public OpenAPI document and webhook reference:

- Identifiers are strings, but numbers are accepted and turned into strings.
- ``roomName`` is written with a leading ``/`` (``/4b3bd908-…``) in the API and in webhooks; use
  :func:`normalize_room_name` before comparing names from different places.
- A transcription's ``state`` is documented as ``ready | failed | in_progress`` while the example
  shows ``completed``; a summary's ``state`` is not enumerated at all. Both are kept as plain
  strings, with ``is_ready`` / ``is_failed`` that accept either spelling of "done".
- ``AccessLink.expires`` is a unix timestamp in milliseconds.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

T = TypeVar("T")

RoomMode = Literal["normal", "group"]
RoomNamePattern = Literal["uuid", "human-short"]
MeetingField = Literal["hostRoomUrl", "viewerRoomUrl"]
SummaryTemplate = Literal[
    "General Narrative",
    "General Bulleted",
    "SOAP",
    "Extended SOAP",
    "Educational Lecture",
    "Educational Tutoring",
]

_DONE_STATES = frozenset({"ready", "completed", "done"})
_PREFIX = re.compile(r"[a-z0-9-]*")


def normalize_room_name(room_name: str) -> str:
    """A room name without its leading ``/``, so names from URLs, API and webhooks compare."""
    return room_name.strip().lstrip("/")


class _Response(BaseModel):
    """Base of the models Whereby answers with: tolerant of extra and numeric-id fields."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        coerce_numbers_to_str=True,
    )


class _Request(BaseModel):
    """Base of the bodies Debrief sends: unknown fields are a bug on our side."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    def to_json(self) -> dict[str, Any]:
        """The body as Whereby expects it: camelCase, only what was set (an explicit ``None``
        is sent as ``null``, which Whereby reads as "inherit the organisation's setting")."""
        return self.model_dump(by_alias=True, exclude_unset=True, mode="json")


# --- meetings -------------------------------------------------------------------------------


class Meeting(_Response):
    """A transient room, alive until one hour after ``end_date``."""

    meeting_id: str
    room_name: str | None = None
    room_url: str
    start_date: datetime | None = None
    end_date: datetime | None = None
    host_room_url: str | None = None
    viewer_room_url: str | None = None


class RecordingDestination(_Request):
    """Where a cloud recording is stored."""

    provider: Literal["s3", "whereby"]
    bucket: str | None = None
    access_key_id: str | None = None
    access_key_secret: str | None = None
    file_format: Literal["mkv", "mp4"] | None = None


class RecordingOptions(_Request):
    """How a meeting is recorded; ``destination=None`` inherits the organisation's setting."""

    type: Literal["none", "local", "cloud"]
    destination: RecordingDestination | None
    start_trigger: Literal["none", "prompt", "automatic", "automatic-2nd-participant"] | None


class LiveTranscriptionOptions(_Request):
    """Session (live) transcription settings for a meeting."""

    start_trigger: Literal["none", "automatic", "automatic-2nd-participant"] | None
    language: str | None = None


class CreateMeeting(_Request):
    """The body of ``POST /meetings``; only ``end_date`` is required."""

    end_date: datetime
    is_locked: bool | None = None
    room_mode: RoomMode | None = None
    room_name_prefix: str | None = None
    room_name_pattern: RoomNamePattern | None = None
    template_type: Literal["viewerMode"] | None = None
    recording: RecordingOptions | None = None
    live_transcription: LiveTranscriptionOptions | None = None
    fields: list[MeetingField] | None = None

    @field_validator("end_date")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        # Whereby reads a date without an offset as UTC; say so explicitly on the wire.
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)

    @field_validator("room_name_prefix")
    @classmethod
    def _prefix(cls, value: str | None) -> str | None:
        if value is None:
            return None
        # Whereby drops spaces itself; anything else that is not lowercase is refused there.
        value = value.replace(" ", "")
        if len(value) > 39:
            raise ValueError("roomNamePrefix is at most 39 characters")
        if not _PREFIX.fullmatch(value):
            raise ValueError("roomNamePrefix must be lowercase letters, digits and '-'")
        return value


# --- recordings, transcriptions, summaries --------------------------------------------------


class Recording(_Response):
    """A cloud recording's metadata."""

    recording_id: str
    room_session_id: str | None = None
    room_name: str | None = None
    filename: str | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    size_in_mega_bytes: float | None = None


class AccessLink(_Response):
    """A time-limited download link; ``expires`` is unix milliseconds."""

    access_link: str
    expires: int | None = None

    @property
    def expires_at(self) -> datetime | None:
        """``expires`` as an aware datetime."""
        return None if self.expires is None else datetime.fromtimestamp(self.expires / 1000, UTC)


class Transcription(_Response):
    """A transcription of a recording or of a live session."""

    transcription_id: str
    room_session_id: str | None = None
    room_name: str | None = None
    filename: str | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    state: str = "in_progress"
    type: str | None = None
    created_at: datetime | None = None

    @property
    def is_ready(self) -> bool:
        """Whether the transcript can be downloaded."""
        return self.state in _DONE_STATES

    @property
    def is_failed(self) -> bool:
        """Whether Whereby gave up on it."""
        return self.state == "failed"


class SummaryContent(_Response):
    """The generated text; templates other than the general ones may add sections (kept)."""

    model_config = ConfigDict(extra="allow")

    summary: str | None = None


class Summary(_Response):
    """An AI summary of a transcription (Whereby beta); poll until ``is_ready``."""

    summary_id: str
    transcription_id: str | None = None
    summary: SummaryContent | None = None
    state: str = "in_progress"
    room_name: str | None = None
    room_session_id: str | None = None
    template: str | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    created_at: datetime | None = None
    modified_at: datetime | None = None

    @property
    def is_ready(self) -> bool:
        """Whether the summary text is final."""
        return self.state in _DONE_STATES

    @property
    def is_failed(self) -> bool:
        """Whether Whereby gave up on it."""
        return self.state == "failed"

    @property
    def text(self) -> str | None:
        """The summary text, when there is one."""
        return self.summary.summary if self.summary is not None else None


# --- insights -------------------------------------------------------------------------------


class _UsageTotals(_Response):
    """The minute and head counts Whereby reports alike for a room and for one session of it."""

    total_participant_minutes: int | None = None
    total_recorder_minutes: int | None = None
    total_streamer_minutes: int | None = None
    total_unique_participants: int | None = None
    total_unique_recorders: int | None = None
    total_unique_streamers: int | None = None


class RoomInsight(_UsageTotals):
    """Usage totals of one room."""

    room_name: str | None = None
    created_at: datetime | None = None
    end_at: datetime | None = None
    first_session_started_at: datetime | None = None
    last_session_started_at: datetime | None = None
    total_sessions: int | None = None


class RoomSessionInsight(_UsageTotals):
    """Usage totals of one session of a room."""

    room_session_id: str | None = None
    room_name: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None


class ParticipantInsight(_Response):
    """One participant's attendance in a session."""

    room_session_id: str | None = None
    participant_id: str | None = None
    device_id: str | None = None
    user_id: str | None = None
    role_name: str | None = None
    display_name: str | None = None
    joined_at: datetime | None = None
    left_at: datetime | None = None
    external_id: str | None = None


class Page(_Response, Generic[T]):
    """One page of a list; ``cursor`` is ``None`` on the last page."""

    results: list[T] = Field(default_factory=list)
    cursor: str | None = None


# --- webhooks -------------------------------------------------------------------------------


class WherebyEventType(StrEnum):
    """The webhook event types Whereby documents."""

    CLIENT_JOINED = "room.client.joined"
    CLIENT_LEFT = "room.client.left"
    CLIENT_KNOCKED = "room.client.knocked"
    CLIENT_KNOCK_CANCELLED = "room.client.knockCancelled"
    SESSION_STARTED = "room.session.started"
    SESSION_ENDED = "room.session.ended"
    TRANSCRIPTION_STARTED = "transcription.started"
    TRANSCRIPTION_FINISHED = "transcription.finished"
    TRANSCRIPTION_FAILED = "transcription.failed"
    RECORDING_FINISHED = "recording.finished"
    ASSISTANT_REQUESTED = "assistant.requested"


class WherebyEventData(_Response):
    """An event's ``data``; which fields are present depends on the type, extras are kept.

    ``recording.finished`` carries no ``meeting_id``: map it back through ``room_name``. The
    transcription events document only ``transcription_id`` (plus ``recording_id`` and
    ``duration_in_seconds`` when finished, ``error`` when failed): fetch the transcription for
    its room.
    """

    model_config = ConfigDict(extra="allow")

    room_name: str | None = None
    meeting_id: str | None = None
    room_session_id: str | None = None
    transcription_id: str | None = None
    recording_id: str | None = None
    participant_id: str | None = None
    display_name: str | None = None
    role_name: str | None = None
    external_id: str | None = None
    metadata: str | None = None
    num_clients: int | None = None
    num_clients_by_role_name: dict[str, int] | None = None
    filename: str | None = None
    status: str | None = None
    duration_in_seconds: float | None = None
    error: str | None = None


class WherebyEvent(_Response):
    """The webhook envelope; ``id`` is unique per event (deliveries may repeat it)."""

    id: str
    api_version: str | None = None
    created_at: datetime | None = None
    type: str
    data: WherebyEventData = Field(default_factory=WherebyEventData)

    @property
    def known_type(self) -> WherebyEventType | None:
        """``type`` as a :class:`WherebyEventType`, or ``None`` for a type added since."""
        try:
            return WherebyEventType(self.type)
        except ValueError:
            return None
