"""Attendee's nouns: bots, their events, transcripts, recordings and webhook envelopes.

Response models ignore fields they do not know, and state / event vocabularies are open: an
Attendee release with a new state must not break parsing, so unknown values stay plain strings.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    RootModel,
    ValidationError,
    field_serializer,
    model_validator,
)


class BotState(StrEnum):
    """A bot's ``state`` as the API spells it."""

    READY = "ready"
    JOINING = "joining"
    JOINED_NOT_RECORDING = "joined_not_recording"
    JOINED_RECORDING = "joined_recording"
    LEAVING = "leaving"
    POST_PROCESSING = "post_processing"
    FATAL_ERROR = "fatal_error"
    WAITING_ROOM = "waiting_room"
    ENDED = "ended"
    DATA_DELETED = "data_deleted"
    SCHEDULED = "scheduled"
    STAGED = "staged"
    JOINED_RECORDING_PAUSED = "joined_recording_paused"
    JOINING_BREAKOUT_ROOM = "joining_breakout_room"
    LEAVING_BREAKOUT_ROOM = "leaving_breakout_room"
    JOINED_RECORDING_PERMISSION_DENIED = "joined_recording_permission_denied"


class BotEventType(StrEnum):
    """An entry of a bot's ``events`` / a state change's ``event_type``."""

    JOIN_REQUESTED = "join_requested"
    PUT_IN_WAITING_ROOM = "put_in_waiting_room"
    JOINED_MEETING = "joined_meeting"
    RECORDING_PERMISSION_GRANTED = "recording_permission_granted"
    RECORDING_PERMISSION_DENIED = "recording_permission_denied"
    RECORDING_PAUSED = "recording_paused"
    RECORDING_RESUMED = "recording_resumed"
    LEAVE_REQUESTED = "leave_requested"
    LEFT_MEETING = "left_meeting"
    MEETING_ENDED = "meeting_ended"
    POST_PROCESSING_COMPLETED = "post_processing_completed"
    COULD_NOT_JOIN_MEETING = "could_not_join_meeting"
    FATAL_ERROR = "fatal_error"
    DATA_DELETED = "data_deleted"
    STAGED = "staged"


class BotEventSubType(StrEnum):
    """The ``sub_type`` values people need explained; Attendee has more."""

    # could_not_join_meeting
    MEETING_NOT_FOUND = "meeting_not_found"
    MEETING_NOT_STARTED_WAITING_FOR_HOST = "meeting_not_started_waiting_for_host"
    REQUEST_TO_JOIN_DENIED = "request_to_join_denied"
    WAITING_ROOM_TIMEOUT_EXCEEDED = "waiting_room_timeout_exceeded"
    LOGIN_REQUIRED = "login_required"
    BOT_NOT_LAUNCHED = "bot_not_launched"
    # leave_requested
    USER_REQUESTED = "user_requested"
    AUTO_LEAVE_SILENCE = "auto_leave_silence"
    AUTO_LEAVE_ONLY_PARTICIPANT_IN_MEETING = "auto_leave_only_participant_in_meeting"
    AUTO_LEAVE_MAX_UPTIME = "auto_leave_max_uptime"
    # fatal_error
    PROCESS_TERMINATED = "process_terminated"
    HEARTBEAT_TIMEOUT = "heartbeat_timeout"


class WebhookTrigger(StrEnum):
    """The ``trigger`` of a webhook delivery (and of a bot-level webhook subscription)."""

    BOT_STATE_CHANGE = "bot.state_change"
    TRANSCRIPT_UPDATE = "transcript.update"
    CHAT_MESSAGES_UPDATE = "chat_messages.update"
    PARTICIPANT_JOIN_LEAVE = "participant_events.join_leave"
    PARTICIPANT_SPEECH_START_STOP = "participant_events.speech_start_stop"
    BOT_LOGS_UPDATE = "bot_logs.update"
    CALENDAR_EVENTS_UPDATE = "calendar.events_update"
    CALENDAR_STATE_CHANGE = "calendar.state_change"
    ASYNC_TRANSCRIPTION_STATE_CHANGE = "async_transcription.state_change"
    ZOOM_OAUTH_CONNECTION_STATE_CHANGE = "zoom_oauth_connection.state_change"


#: States a bot never leaves.
TERMINAL_STATES: frozenset[str] = frozenset(
    {BotState.ENDED, BotState.FATAL_ERROR, BotState.DATA_DELETED}
)
#: Waiting for its ``join_at``; the only states in which ``DELETE /bots/{id}`` works.
PENDING_STATES: frozenset[str] = frozenset({BotState.SCHEDULED, BotState.STAGED})
#: Inside the call (recording or not).
IN_MEETING_STATES: frozenset[str] = frozenset(
    {
        BotState.JOINED_NOT_RECORDING,
        BotState.JOINED_RECORDING,
        BotState.JOINED_RECORDING_PAUSED,
        BotState.JOINED_RECORDING_PERMISSION_DENIED,
        BotState.JOINING_BREAKOUT_ROOM,
        BotState.LEAVING_BREAKOUT_ROOM,
    }
)
#: Where ``POST /bots/{id}/leave`` is accepted (Attendee's own list, from its 400 answer).
LEAVABLE_STATES: frozenset[str] = IN_MEETING_STATES | {BotState.JOINING, BotState.WAITING_ROOM}
#: Working on a meeting: neither waiting for its time nor finished.
ACTIVE_STATES: frozenset[str] = frozenset(set(BotState) - TERMINAL_STATES - PENDING_STATES)


def is_terminal(state: str) -> bool:
    """Whether a bot in ``state`` is done for good."""
    return state in TERMINAL_STATES


#: A state, as :class:`BotState` when known and as the raw string otherwise.
StateValue = Annotated[BotState | str, Field(union_mode="left_to_right")]
EventTypeValue = Annotated[BotEventType | str, Field(union_mode="left_to_right")]


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore")


class BotEvent(_Response):
    """One step in a bot's history; ``sub_type`` is absent for most types."""

    type: EventTypeValue
    sub_type: str | None = None
    created_at: datetime


class Bot(_Response):
    """A meeting bot."""

    id: str
    metadata: dict[str, Any] | None = None
    meeting_url: str
    state: StateValue
    events: list[BotEvent] = Field(default_factory=list)
    transcription_state: str | None = None
    recording_state: str | None = None
    join_at: datetime | None = None
    deduplication_key: str | None = None

    @property
    def is_terminal(self) -> bool:
        """Whether the bot is done for good (ended, failed or data deleted)."""
        return is_terminal(self.state)

    @property
    def last_event(self) -> BotEvent | None:
        """The most recent event, if any."""
        return max(self.events, key=lambda e: e.created_at, default=None)


class BotPage(_Response):
    """One page of ``GET /bots``; ``next`` / ``previous`` are cursor URLs."""

    next: str | None = None
    previous: str | None = None
    results: list[Bot] = Field(default_factory=list)


class Transcription(_Response):
    """The text of an utterance; ``words`` only when the transcriber gives them."""

    transcript: str = ""
    words: list[dict[str, Any]] | None = None


class Utterance(_Response):
    """One speaker's turn; ``transcription`` is null while (or when failing) transcribing."""

    speaker_name: str
    speaker_uuid: str
    speaker_user_uuid: str | None = None
    speaker_is_host: bool = False
    timestamp_ms: int
    duration_ms: int = 0
    transcription: Transcription | None = None

    @property
    def text(self) -> str:
        """The transcript text, empty when there is none."""
        return self.transcription.transcript if self.transcription else ""


class Transcript(RootModel[list[Utterance]]):
    """The body of ``GET /bots/{id}/transcript``."""


class Recording(_Response):
    """A pre-signed recording URL that expires (30 minutes): fetch it just before use."""

    url: str
    start_timestamp_ms: int | None = None


# --- requests -----------------------------------------------------------------------------


class _Request(BaseModel):
    # Attendee rejects unknown fields; refusing them here catches typos before a round trip.
    model_config = ConfigDict(extra="forbid")


class BotWebhook(_Request):
    """A bot-level webhook subscription; Attendee requires ``https://`` and allows two."""

    url: str
    triggers: list[str]


class BotChatMessage(_Request):
    """A chat message the bot sends after joining."""

    message: str
    to: str | None = None
    to_user_uuid: str | None = None


class BotImage(_Request):
    """The bot's picture: ``type`` ``image/png`` and base64 ``data``."""

    type: str
    data: str


class CreateBot(_Request):
    """The body of ``POST /bots``; see :meth:`to_request`.

    A bot for a calendar event gives ``calendar_event_id`` and neither ``meeting_url`` nor
    ``join_at``: Attendee takes both from the event (and refuses either one given as well).
    """

    meeting_url: str | None = None
    bot_name: str
    metadata: dict[str, Any] | None = None
    join_at: AwareDatetime | None = None
    deduplication_key: str | None = None
    webhooks: list[BotWebhook] | None = None
    transcription_settings: dict[str, Any] | None = None
    recording_settings: dict[str, Any] | None = None
    bot_chat_message: BotChatMessage | None = None
    bot_image: BotImage | None = None
    calendar_event_id: str | None = None
    automatic_leave_settings: dict[str, Any] | None = None
    zoom_settings: dict[str, Any] | None = None
    google_meet_settings: dict[str, Any] | None = None
    teams_settings: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _link_or_event(self) -> CreateBot:
        if self.calendar_event_id is None and not self.meeting_url:
            raise ValueError("a bot needs a meeting_url, or a calendar_event_id to take it from")
        if self.calendar_event_id is not None and (self.meeting_url or self.join_at):
            raise ValueError(
                "a calendar event's bot takes meeting_url and join_at from the event: give "
                "neither with calendar_event_id"
            )
        return self

    @field_serializer("join_at")
    def _join_at_in_utc(self, value: datetime | None) -> str | None:
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None

    def to_request(self) -> dict[str, Any]:
        """The JSON body without unset fields (Attendee treats null and absent differently)."""
        return self.model_dump(mode="json", exclude_none=True)


# --- webhooks -----------------------------------------------------------------------------


class StateChange(_Response):
    """``data`` of ``bot.state_change``."""

    event_type: EventTypeValue
    event_sub_type: str | None = None
    event_metadata: dict[str, Any] | None = None
    old_state: StateValue
    new_state: StateValue
    created_at: datetime


class ParticipantEvent(_Response):
    """``data`` of ``participant_events.join_leave``; ``event_type`` is ``join`` or ``leave``."""

    id: str | None = None
    participant_name: str | None = None
    participant_uuid: str | None = None
    participant_user_uuid: str | None = None
    participant_is_host: bool = False
    event_type: str
    event_data: dict[str, Any] | None = None
    timestamp_ms: int


#: The typed view of a webhook's ``data`` for the triggers Debrief understands.
WebhookEvent = StateChange | Utterance | ParticipantEvent

_EVENT_MODELS: dict[str, type[WebhookEvent]] = {
    WebhookTrigger.BOT_STATE_CHANGE: StateChange,
    WebhookTrigger.TRANSCRIPT_UPDATE: Utterance,
    WebhookTrigger.PARTICIPANT_JOIN_LEAVE: ParticipantEvent,
}


def _under_data(error: Any) -> Any:
    line = {"type": error["type"], "loc": ("data", *error["loc"]), "input": error["input"]}
    if "ctx" in error:
        line["ctx"] = error["ctx"]
    return line


class WebhookEnvelope(_Response):
    """One webhook delivery. ``data`` stays the raw object; the typed view is :attr:`event`.

    ``idempotency_key`` is the same on every retry of one delivery: deduplicate on it.
    """

    idempotency_key: str
    bot_id: str | None = None
    bot_metadata: dict[str, Any] | None = None
    trigger: str
    data: dict[str, Any]

    _event: WebhookEvent | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _parse_event(self) -> WebhookEnvelope:
        # Validating the typed view here makes a malformed ``data`` fail the whole envelope, so
        # the receiver can answer 400 instead of failing later in a job.
        model = _EVENT_MODELS.get(self.trigger)
        if model is not None:
            try:
                self._event = model.model_validate(self.data)
            except ValidationError as exc:
                raise ValidationError.from_exception_data(
                    type(self).__name__,
                    [_under_data(error) for error in exc.errors()],
                ) from None
        return self

    @property
    def event(self) -> WebhookEvent | None:
        """``data`` as a model for known triggers; ``None`` for others (use :attr:`data`)."""
        return self._event

    @property
    def state_change(self) -> StateChange | None:
        """The state change, when ``trigger`` is ``bot.state_change``."""
        return self._event if isinstance(self._event, StateChange) else None

    @property
    def utterance(self) -> Utterance | None:
        """The utterance, when ``trigger`` is ``transcript.update``."""
        return self._event if isinstance(self._event, Utterance) else None

    @property
    def participant_event(self) -> ParticipantEvent | None:
        """The join or leave, when ``trigger`` is ``participant_events.join_leave``."""
        return self._event if isinstance(self._event, ParticipantEvent) else None
