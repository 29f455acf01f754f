"""Otter.ai public API models, named as the API names things.

Otter's reference contradicts itself, so these models accept every shape it shows. The outline
relationship is `outline` in one example and `outlines` in another. `insights[].text` is a list of
strings in one and a list of lists in the other. An action item's `status` is an object or null.
`GET /conversations/{id}` nests relationships under `relationships`, and the webhook description
puts them at the top level of `data`. Either way they end up on the same :class:`Conversation`
fields. Fields that the reference shows in only one example are optional.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cached_property
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)

T = TypeVar("T")

FINISHED = "finished"


def _lenient_datetime(value: Any, handler: ValidatorFunctionWrapHandler) -> datetime | None:
    # A timestamp the provider garbles must not cost the whole digest: keep the rest, drop it.
    try:
        parsed = handler(value)
    except ValidationError:
        return None
    if isinstance(parsed, datetime) and parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed


def _id_text(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _null_as_empty(value: Any) -> Any:
    return [] if value is None else value


def _flatten_paragraphs(value: Any) -> Any:
    # `text` is ["a", "b"] in one reference example and [["a", "b"]] in the other.
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        return value
    flat: list[Any] = []
    stack = list(reversed(value))
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        elif not (isinstance(item, str) and not item.strip()):
            flat.append(item)
    return flat


Timestamp = Annotated[datetime | None, WrapValidator(_lenient_datetime)]
Id = Annotated[str, BeforeValidator(_id_text)]
Paragraphs = Annotated[list[str], BeforeValidator(_flatten_paragraphs)]


class OtterModel(BaseModel):
    """Base of the response models: unknown fields are ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class User(OtterModel):
    """An Otter user (owner, assignee, sharer); calendar guests carry only name and email."""

    id: Annotated[str | None, BeforeValidator(_id_text)] = None
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None

    @property
    def display_name(self) -> str:
        """The best name to show for this person."""
        full = " ".join(p for p in (self.first_name, self.last_name) if p)
        return self.name or full or self.email or self.id or "someone"


class Channel(OtterModel):
    """An Otter channel, which groups conversations."""

    id: Id
    name: str | None = None
    member_count: int | None = None
    owner: User | None = None


class CalendarGuest(OtterModel):
    """A guest on the calendar event the conversation was recorded from."""

    name: str | None = None
    email: str | None = None


class SharedEmail(OtterModel):
    """A person the conversation is shared with."""

    email: str | None = None
    user: User | None = None
    permission: str | None = None


class SharedChannel(OtterModel):
    """A channel the conversation is shared with."""

    channel: Channel | None = None
    permission: str | None = None


class ProcessStatus(OtterModel):
    """Progress of Otter's generated data: null while processing, `"finished"` when done."""

    abstract_summary: str | None = None
    action_item: str | None = None
    outline: str | None = None

    @property
    def ready(self) -> bool:
        """Whether summary, action items and outline are all finished (ready for a digest)."""
        return all(
            (status or "").lower() == FINISHED
            for status in (self.abstract_summary, self.action_item, self.outline)
        )


class ActionItemStatus(OtterModel):
    """Completion of an action item; ``state`` keeps a plain-string status if Otter sends one."""

    completed: bool = False
    created_at: Timestamp = None
    last_modified_at: Timestamp = None
    completed_at: Timestamp = None
    state: str | None = None


_DONE_WORDS = frozenset({"completed", "complete", "done", "finished", "closed", "resolved"})


def _status_object(value: Any) -> Any:
    # The reference shows an object or null; a bare string or boolean is tolerated all the same.
    if isinstance(value, bool):
        return {"completed": value}
    if isinstance(value, str):
        return {"completed": value.strip().lower() in _DONE_WORDS, "state": value}
    return value


class ActionItem(OtterModel):
    """An action item Otter found in the conversation."""

    id: Annotated[str | None, BeforeValidator(_id_text)] = None
    text: str = ""
    assignee: User | None = None
    status: Annotated[ActionItemStatus | None, BeforeValidator(_status_object)] = None

    @property
    def completed(self) -> bool:
        """Whether Otter reports the item as done (an unknown status means open)."""
        return self.status is not None and self.status.completed

    @property
    def assignee_name(self) -> str | None:
        """The assignee's display name, if there is an assignee."""
        return self.assignee.display_name if self.assignee else None

    @property
    def assignee_email(self) -> str | None:
        """The assignee's email, if known."""
        return self.assignee.email if self.assignee else None


class Insight(OtterModel):
    """One insight topic with its paragraphs, flattened whichever shape Otter sent."""

    topic: str | None = None
    text: Paragraphs = Field(default_factory=list)


class OutlineSection(OtterModel):
    """One outline section with its paragraphs."""

    section: str | None = None
    text: Paragraphs = Field(default_factory=list)


class TranscriptSegment(OtterModel):
    """One speaker turn of a transcript; times are seconds from the start of the recording."""

    speaker: str | None = None
    start: float | None = None
    end: float | None = None
    text: str = ""


# A turn header as Otter writes it in the txt format: "Jane Doe 00:07" or "Jane Doe 1:02:03".
_TURN_HEADER = re.compile(r"^(?P<speaker>.*?\S)\s+(?P<time>\d{1,2}(?::\d{2}){1,2})$")


def _seconds(clock: str) -> float:
    total = 0
    for part in clock.split(":"):
        total = total * 60 + int(part)
    return float(total)


def parse_transcript(content: str) -> list[TranscriptSegment]:
    """Split a txt transcript ("Speaker MM:SS" line, then the words) into speaker turns."""
    if "\n" not in content and "\\n" in content:
        # One reference example escapes its newlines twice; read it as its author meant.
        content = content.replace("\\n", "\n")
    turns: list[tuple[str | None, float | None, list[str]]] = []
    for raw in content.splitlines():
        line = raw.strip()
        header = _TURN_HEADER.match(line)
        if header:
            turns.append((header["speaker"], _seconds(header["time"]), []))
        elif line:
            if not turns:
                turns.append((None, None, []))
            turns[-1][2].append(line)
    segments: list[TranscriptSegment] = []
    for index, (speaker, start, lines) in enumerate(turns):
        end = turns[index + 1][1] if index + 1 < len(turns) else None
        segments.append(
            TranscriptSegment(speaker=speaker, start=start, end=end, text=" ".join(lines))
        )
    return segments


class Transcript(OtterModel):
    """The transcript relationship: the whole text in ``format`` (the reference shows `txt`)."""

    content: str = ""
    format: str | None = None

    @cached_property
    def segments(self) -> list[TranscriptSegment]:
        """The transcript split into speaker turns."""
        return parse_transcript(self.content)

    @property
    def speakers(self) -> list[str]:
        """Distinct speakers, in order of first appearance."""
        return list(dict.fromkeys(s.speaker for s in self.segments if s.speaker))


def _transcript_object(value: Any) -> Any:
    return {"content": value, "format": "txt"} if isinstance(value, str) else value


class CustomPrompt(OtterModel):
    """The output of a user-defined prompt run over the conversation."""

    label: str | None = None
    output: str | None = None


_RELATIONSHIPS = "relationships"


class Conversation(BaseModel):
    """A recorded conversation, with whichever relationships were requested.

    A relationship that was not requested (or not sent) is ``None``. An empty list means it was sent
    and is empty. ``extra="allow"`` keeps fields the reference does not document (start and end
    times, duration, speakers, …) in ``model_extra``, because Otter's beta API adds fields without
    notice and the digest may want them.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    id: Id
    title: str | None = Field(default=None, validation_alias=AliasChoices("title", "name"))
    url: str | None = None
    owner: User | None = None
    created_at: Timestamp = None
    process_status: Annotated[ProcessStatus, BeforeValidator(lambda v: {} if v is None else v)] = (
        Field(default_factory=ProcessStatus)
    )
    calendar_guests: Annotated[list[CalendarGuest], BeforeValidator(_null_as_empty)] = Field(
        default_factory=list
    )
    shared_emails: Annotated[list[SharedEmail], BeforeValidator(_null_as_empty)] = Field(
        default_factory=list
    )
    shared_channels: Annotated[list[SharedChannel], BeforeValidator(_null_as_empty)] = Field(
        default_factory=list
    )
    abstract_summary: str | None = None
    conf_join_url: str | None = None
    action_items: list[ActionItem] | None = None
    insights: list[Insight] | None = None
    outline: list[OutlineSection] | None = Field(
        default=None, validation_alias=AliasChoices("outline", "outlines")
    )
    transcript: Annotated[Transcript | None, BeforeValidator(_transcript_object)] = None
    custom_prompt: CustomPrompt | None = None

    @model_validator(mode="before")
    @classmethod
    def _hoist_relationships(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get(_RELATIONSHIPS), dict):
            data = dict(data)
            for key, value in data.pop(_RELATIONSHIPS).items():
                data.setdefault(key, value)
        return data

    @property
    def ready(self) -> bool:
        """Whether Otter has finished the summary, action items and outline."""
        return self.process_status.ready

    @property
    def display_title(self) -> str:
        """The title, or a neutral stand-in for untitled conversations."""
        return (self.title or "").strip() or "Untitled conversation"

    @property
    def speakers(self) -> list[str]:
        """Who spoke, from the transcript, or the calendar guests when there is no transcript."""
        if self.transcript is not None and self.transcript.speakers:
            return self.transcript.speakers
        names = (guest.name or guest.email for guest in self.calendar_guests)
        return [name for name in names if name]

    @property
    def open_action_items(self) -> list[ActionItem]:
        """Action items not reported as completed."""
        return [item for item in self.action_items or [] if not item.completed]


class Meta(OtterModel):
    """Response metadata."""

    retrieved_at: Timestamp = None


class PageMeta(Meta):
    """Paging metadata of a list response."""

    has_more: bool = False
    next_cursor: str | None = None

    @field_validator("has_more", mode="before")
    @classmethod
    def _null_is_false(cls, value: Any) -> Any:
        return False if value is None else value


class Page(OtterModel, Generic[T]):
    """One page of a cursor-paged list."""

    meta: PageMeta = Field(default_factory=PageMeta)
    data: list[T] = Field(default_factory=list)


class Envelope(OtterModel, Generic[T]):
    """A single-object response: ``{"meta": …, "data": …}``."""

    meta: Meta = Field(default_factory=Meta)
    data: T


class Workspace(OtterModel):
    """The authenticated user's workspace."""

    id: Annotated[str | None, BeforeValidator(_id_text)] = None
    name: str | None = None
    owner: User | None = None
    member_count: int | None = None
    handle: str | None = None
    type: str | None = None


class AudioLink(OtterModel):
    """Where to download a conversation's MP3 audio."""

    url: str


class CreateConversationResult(OtterModel):
    """Otter's answer to an import; it names the file but, per the reference, no conversation id."""

    status: str | None = None
    completed_at: Timestamp = None
    file: str | None = None

    @property
    def ok(self) -> bool:
        """Whether Otter reported success."""
        return (self.status or "").lower() == "success"


def normalise_event(name: str | None) -> str:
    """`ConversationCompleted`, `conversation.completed`, … → `conversation_completed`."""
    if not name:
        return ""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip())
    return re.sub(r"[^a-z0-9]+", "_", spaced.lower()).strip("_")


#: Normalised event names that mean "a conversation is processed". Only the first is documented;
#: the others are spellings seen in integrations' descriptions, tolerated because the reference
#: leaves the event vocabulary open.
COMPLETED_EVENTS = frozenset(
    {
        "conversation_completed",
        "conversation_complete",
        "conversation_processed",
        "conversation_finished",
        "conversation_ready",
        "transcript_ready",
        "transcript_completed",
    }
)


class WebhookSource(OtterModel):
    """What the webhook watches: a channel, per the documented body."""

    channel: Channel | None = None


def _user_object(value: Any) -> Any:
    if isinstance(value, str):
        return {"email": value} if "@" in value else {"name": value}
    return value


class WebhookInfo(OtterModel):
    """The webhook configuration that produced a delivery."""

    name: str | None = None
    source_type: str | None = None
    event: str | None = None
    destination_url: str | None = None
    created_by: Annotated[User | None, BeforeValidator(_user_object)] = None
    source: WebhookSource | None = None


class WebhookMeta(Meta):
    """Delivery metadata, naming the webhook and its event."""

    webhook: WebhookInfo | None = None


class OtterWebhook(OtterModel):
    """A workspace webhook delivery: the event's metadata and the conversation it concerns."""

    meta: WebhookMeta = Field(default_factory=WebhookMeta)
    data: Conversation

    @property
    def raw_event(self) -> str | None:
        """The event name exactly as sent."""
        return self.meta.webhook.event if self.meta.webhook else None

    @property
    def event(self) -> str:
        """The normalised event name (`conversation_completed`); empty when none was sent."""
        return normalise_event(self.raw_event)

    @property
    def is_completed(self) -> bool:
        """Whether the event says a conversation finished processing."""
        return self.event in COMPLETED_EVENTS

    @property
    def is_known_event(self) -> bool:
        """Whether Debrief knows what to do with this event (others are acknowledged and logged)."""
        return self.is_completed

    @property
    def channel(self) -> Channel | None:
        """The channel the webhook watches, if it names one."""
        webhook = self.meta.webhook
        return webhook.source.channel if webhook and webhook.source else None

    @property
    def delivery_key(self) -> str:
        """A stable key for de-duplicating re-deliveries (Otter sends no delivery id)."""
        return f"{self.event or 'unknown'}:{self.data.id}"
