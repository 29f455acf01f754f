"""Claritalk's webhook payloads, API objects and OAuth tokens as typed models.

The seed documents the envelope and the top level of ``meeting.processed``, but shows themes,
todos and discussion topics only as ``[...]``. Those elements are parsed tolerantly: each may be a
plain string or an object using any of the usual field names, and both normalise to one typed
shape; fields we do not know are kept (``extra="allow"``) rather than dropped.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails

MEETING_PROCESSED = "meeting.processed"
MEETING_STATUS_CHANGED = "meeting.status.changed"
USERS_CREATED = "users.created"
EVENTS: tuple[str, ...] = (MEETING_PROCESSED, MEETING_STATUS_CHANGED, USERS_CREATED)

#: Documented lifetime of a refresh token since its last use.
REFRESH_TOKEN_LIFETIME = 7 * 24 * 3600.0


def _text(value: object) -> str | None:
    """A non-empty string from a scalar, or None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _pick(data: Mapping[str, Any], keys: Iterable[str]) -> tuple[str | None, str | None]:
    """The first key of ``keys`` holding a non-empty scalar, and that value as text."""
    for key in keys:
        text = _text(data.get(key))
        if text is not None:
            return key, text
    return None, None


def _usable(item: object) -> bool:
    if isinstance(item, Mapping):
        return True
    return _text(item) is not None


def _as_list(value: object) -> list[Any]:
    """A list from a list, a single element or nothing; entries that are neither text nor an
    object (null, nested lists) are dropped rather than failing the whole payload."""
    items = list(value) if isinstance(value, list | tuple) else [value]
    return [item for item in items if _usable(item)]


def _as_float(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def _as_datetime(value: object) -> datetime | None:
    """ISO 8601, ``YYYY-MM-DD HH:MM:SS`` or unix seconds/milliseconds; None if unreadable.

    Claritalk writes ``createdAt`` without a zone; the envelope's ``timestamp`` (UTC, ``Z``)
    matches ``updatedAt`` in the seed, so zone-less values are taken as UTC.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, int | float):
        seconds = value / 1000 if value > 1e12 else value
        try:
            parsed = datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    elif isinstance(value, str) and value.strip():
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


LenientDatetime = Annotated[datetime | None, BeforeValidator(_as_datetime)]
# A value of an unexpected type (an object where text was expected) becomes None rather than
# refusing the whole meeting: a digest with one field missing beats no digest.
LenientStr = Annotated[str | None, BeforeValidator(_text)]
LenientFloat = Annotated[float | None, BeforeValidator(_as_float)]
LenientList = BeforeValidator(_as_list)


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, coerce_numbers_to_str=True)


class Person(_Lenient):
    """Someone named in a meeting: an assignee or a participant."""

    name: LenientStr = None
    email: LenientStr = None

    _ANGLE: ClassVar[re.Pattern[str]] = re.compile(r"^\s*(.*?)\s*<([^<>@\s]+@[^<>\s]+)>\s*$")

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, value: Any) -> Any:
        text = None if isinstance(value, Mapping) else _text(value)
        if text is not None:
            match = cls._ANGLE.match(text)
            if match:
                return {"name": match.group(1).strip("\"' ") or None, "email": match.group(2)}
            if "@" in text and " " not in text:
                return {"email": text}
            return {"name": text}
        if isinstance(value, Mapping):
            data = dict(value)
            if _text(data.get("name")) is None:
                first, last = _text(data.get("firstName")), _text(data.get("lastName"))
                _, name = _pick(
                    data, ("fullName", "full_name", "displayName", "display_name", "username")
                )
                data["name"] = name or (" ".join(p for p in (first, last) if p) or None)
            if _text(data.get("email")) is None:
                _, data["email"] = _pick(data, ("mail", "emailAddress", "email_address"))
            return data
        return value

    @property
    def label(self) -> str:
        """The name, else the email address, else an empty string."""
        return self.name or self.email or ""


def _as_person(value: object) -> object:
    """A person from text or an object; the first of a list; None for anything else."""
    if isinstance(value, list | tuple):
        value = next((item for item in value if _usable(item)), None)
    return value if _usable(value) else None


LenientPerson = Annotated[Person | None, BeforeValidator(_as_person)]


class _Element(_Lenient):
    """An element the seed leaves as ``[...]``: a bare string or an object."""

    #: Field that a bare string fills, and the keys that may carry it in an object.
    _MAIN: ClassVar[str] = "title"
    _MAIN_KEYS: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, value: Any) -> Any:
        text = _text(value)
        if text is not None:
            return {cls._MAIN: text}
        if not isinstance(value, Mapping):
            return value
        data = dict(value)
        if _text(data.get(cls._MAIN)) is None:
            key, found = _pick(data, cls._MAIN_KEYS)
            data[cls._MAIN] = found or ""
            if key is not None:
                # The value now lives under the main field; keeping the alias would show it twice.
                data.pop(key)
        return cls._normalise_more(data)

    @classmethod
    def _normalise_more(cls, data: dict[str, Any]) -> dict[str, Any]:
        return data


def _move(data: dict[str, Any], field: str, keys: Iterable[str]) -> None:
    """Fill ``field`` from the first alias holding text, unless it already has text."""
    if _text(data.get(field)) is not None:
        return
    key, found = _pick(data, keys)
    if key is not None:
        data.pop(key)
        data[field] = found


class Question(_Element):
    """A question raised under a theme, with its answer when Claritalk found one."""

    _MAIN = "text"
    _MAIN_KEYS = ("question", "title", "content", "name", "label")

    text: str = ""
    answer: LenientStr = None

    @classmethod
    def _normalise_more(cls, data: dict[str, Any]) -> dict[str, Any]:
        _move(data, "answer", ("response", "reply", "summary"))
        return data


class Theme(_Element):
    """A theme of the meeting and the questions raised under it."""

    _MAIN_KEYS = ("name", "theme", "text", "label", "topic", "subject")

    title: str = ""
    description: LenientStr = None
    questions: Annotated[list[Question], LenientList] = []

    @classmethod
    def _normalise_more(cls, data: dict[str, Any]) -> dict[str, Any]:
        _move(data, "description", ("summary", "content", "body"))
        if "questions" not in data:
            for key in ("items", "questionList", "question_list"):
                if key in data:
                    data["questions"] = data.pop(key)
                    break
        return data


class Todo(_Element):
    """An action item: what, who and by when."""

    _MAIN = "text"
    _MAIN_KEYS = ("title", "task", "todo", "name", "description", "content", "action")

    text: str = ""
    description: LenientStr = None
    assignee: LenientPerson = None
    due: LenientStr = None
    done: bool = False

    #: Where an object may name its assignee when it has no ``assignee`` field.
    _ASSIGNEE_ALIASES: ClassVar[tuple[str, ...]] = (
        "owner",
        "assignedTo",
        "assigned_to",
        "responsible",
        "user",
        "person",
    )
    _DONE_STATUSES: ClassVar[frozenset[str]] = frozenset(
        {"done", "completed", "closed", "finished"}
    )

    @classmethod
    def _normalise_more(cls, data: dict[str, Any]) -> dict[str, Any]:
        _move(data, "description", ("details", "content", "body", "note"))
        if data.get("description") == data.get("text"):
            data["description"] = None
        if data.get("assignee") in (None, "", {}):
            data["assignee"] = cls._assignee(data)
        _move(data, "due", ("dueDate", "due_date", "deadline", "dueAt", "due_at", "date"))
        if not isinstance(data.get("done"), bool):
            data["done"] = cls._is_done(data)
        return data

    @classmethod
    def _assignee(cls, data: dict[str, Any]) -> Any:
        for key in cls._ASSIGNEE_ALIASES:
            if data.get(key) not in (None, "", {}):
                return data.pop(key)
        for prefix in ("assignee", "owner", "assignedTo"):
            name, email = _text(data.get(f"{prefix}Name")), _text(data.get(f"{prefix}Email"))
            if name or email:
                return {"name": name, "email": email}
        return None

    @classmethod
    def _is_done(cls, data: dict[str, Any]) -> bool:
        for key in ("completed", "isCompleted", "is_completed", "isDone", "is_done", "checked"):
            if isinstance(data.get(key), bool):
                return bool(data[key])
        status = data.get("status")
        return isinstance(status, str) and status.strip().lower() in cls._DONE_STATUSES

    @property
    def due_date(self) -> date | None:
        """The due date when ``due`` is a readable date or timestamp."""
        if not self.due:
            return None
        try:
            return date.fromisoformat(self.due)
        except ValueError:
            parsed = _as_datetime(self.due)
            return parsed.date() if parsed else None


def _point(value: object) -> str | None:
    text = _text(value)
    if text is None and isinstance(value, Mapping):
        _, text = _pick(value, ("text", "title", "point", "content", "summary", "name"))
    return text


class DiscussionTopic(_Element):
    """A topic the meeting discussed, with its summary and key points."""

    _MAIN_KEYS = ("topic", "name", "subject", "text", "label", "heading")

    title: str = ""
    summary: LenientStr = None
    points: list[str] = []

    @classmethod
    def _normalise_more(cls, data: dict[str, Any]) -> dict[str, Any]:
        _move(data, "summary", ("description", "content", "body", "details"))
        if "points" not in data:
            for key in ("keyPoints", "key_points", "bullets", "items", "subtopics", "notes"):
                if key in data:
                    data["points"] = data.pop(key)
                    break
        points = (_point(p) for p in _as_list(data.get("points")))
        data["points"] = [p for p in points if p]
        return data


class SummarySection(_Lenient):
    """One kind of summary (``general`` in the seed) and its text."""

    type: LenientStr = None
    content: Annotated[str, BeforeValidator(lambda v: _text(v) or "")] = ""

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, value: Any) -> Any:
        text = _text(value)
        if text is not None:
            return {"content": text}
        if isinstance(value, Mapping) and _text(value.get("content")) is None:
            data = dict(value)
            _move(data, "content", ("text", "summary", "body", "value"))
            data.setdefault("content", "")
            return data
        return value


class Summary(_Lenient):
    """The meeting's summaries by kind; ``general`` is the one the seed documents."""

    general: SummarySection | None = None

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, value: Any) -> Any:
        text = _text(value)
        if text is not None:
            return {"general": {"type": "general", "content": text}}
        if value is None:
            return {}
        return value

    def sections(self) -> dict[str, SummarySection]:
        """Every summary section, ``general`` first; unreadable extras are skipped."""
        found: dict[str, SummarySection] = {}
        if self.general is not None:
            found["general"] = self.general
        for key, raw in (self.model_extra or {}).items():
            try:
                found[key] = SummarySection.model_validate(raw)
            except ValidationError:
                continue
        return found


class MeetingMetadata(_Lenient):
    """What Claritalk knows about the meeting itself: title, times, participants."""

    title: LenientStr = None
    started_at: LenientDatetime = Field(
        None,
        validation_alias=AliasChoices(
            "startedAt", "started_at", "startDate", "start_date", "startTime", "start", "date"
        ),
    )
    ended_at: LenientDatetime = Field(
        None,
        validation_alias=AliasChoices(
            "endedAt", "ended_at", "endDate", "end_date", "endTime", "end"
        ),
    )
    duration: LenientFloat = Field(
        None, validation_alias=AliasChoices("duration", "durationSeconds", "duration_seconds")
    )
    participants: Annotated[list[Person], LenientList] = Field(
        [], validation_alias=AliasChoices("participants", "attendees", "speakers")
    )

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, value: Any) -> Any:
        if value is None or value == [] or value == "":
            return {}
        return value


class ReportFile(_Lenient):
    """A file attached to a processed meeting: the PDF summary report, base64-encoded."""

    filename: LenientStr = Field(
        None, validation_alias=AliasChoices("filename", "name", "fileName")
    )
    content: LenientStr = Field(None, validation_alias=AliasChoices("content", "data", "base64"))


class Meeting(_Lenient):
    """A Claritalk meeting as ``meeting.status.changed`` and the meeting endpoints send it."""

    meeting_id: str = Field(validation_alias=AliasChoices("meetingId", "meeting_id", "id", "uuid"))
    user_id: LenientStr = Field(None, validation_alias=AliasChoices("userId", "user_id"))
    title: LenientStr = None
    status: LenientStr = None
    created_at: LenientDatetime = Field(
        None, validation_alias=AliasChoices("createdAt", "created_at")
    )
    updated_at: LenientDatetime = Field(
        None, validation_alias=AliasChoices("updatedAt", "updated_at")
    )
    locale: LenientStr = None


class MeetingStatusChanged(Meeting):
    """Data of ``meeting.status.changed``: the meeting, with its previous status if sent."""

    previous_status: LenientStr = Field(
        None,
        validation_alias=AliasChoices(
            "previousStatus", "previous_status", "oldStatus", "old_status", "fromStatus"
        ),
    )


class MeetingProcessed(Meeting):
    """Data of ``meeting.processed``: the full meeting once all AI processing is complete."""

    summary_quality_flag: bool | None = Field(
        None, validation_alias=AliasChoices("summaryQualityFlag", "summary_quality_flag")
    )
    summary: Summary = Summary()
    themes: Annotated[list[Theme], LenientList] = []
    todos: Annotated[list[Todo], LenientList] = Field(
        [], validation_alias=AliasChoices("todos", "actionItems", "action_items")
    )
    discussion_topics: Annotated[list[DiscussionTopic], LenientList] = Field(
        [], validation_alias=AliasChoices("discussionTopics", "discussion_topics", "topics")
    )
    metadata: MeetingMetadata = MeetingMetadata()
    files: Annotated[list[ReportFile], LenientList] = []

    @property
    def general_summary(self) -> str | None:
        """The general summary's text, if any."""
        section = self.summary.general
        return section.content if section and section.content else None

    @property
    def display_title(self) -> str:
        """The meeting's title from wherever Claritalk put it."""
        return self.title or self.metadata.title or "Untitled meeting"


class ClaritalkUser(_Lenient):
    """A Claritalk user: data of ``users.created`` and the current-user endpoint."""

    id: LenientStr = Field(None, validation_alias=AliasChoices("id", "userId", "user_id", "uuid"))
    name: LenientStr = None
    email: LenientStr = None
    role: LenientStr = None

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, value: Any) -> Any:
        if isinstance(value, Mapping) and _text(value.get("name")) is None:
            data = dict(value)
            data["name"] = Person.model_validate(data).name
            return data
        return value


UserCreated = ClaritalkUser

EventData = dict[str, Any] | MeetingProcessed | MeetingStatusChanged | ClaritalkUser
_DATA_MODELS: dict[str, type[BaseModel]] = {
    MEETING_PROCESSED: MeetingProcessed,
    MEETING_STATUS_CHANGED: MeetingStatusChanged,
    USERS_CREATED: ClaritalkUser,
}


class EventMeta(_Lenient):
    """The envelope's ``meta``: who sent it and in which payload version."""

    source: LenientStr = None
    version: LenientStr = None


class ClaritalkEvent(_Lenient):
    """A webhook delivery: ``data`` is typed for the known events and a plain dict otherwise."""

    event: str
    timestamp: LenientDatetime = None
    # Known events arrive here already typed (see _typed_data); dict first keeps unknown
    # events' data as sent instead of coercing it into whichever model happens to fit.
    data: Annotated[EventData, Field(union_mode="left_to_right")] = Field(default_factory=dict)
    meta: EventMeta = EventMeta()

    @model_validator(mode="before")
    @classmethod
    def _typed_data(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        model = _DATA_MODELS.get(str(value.get("event")))
        data = value.get("data")
        if model is None or not isinstance(data, Mapping):
            return value
        try:
            typed = model.model_validate(data)
        except ValidationError as exc:
            # Re-raised with the path from the envelope, so a 400 says "data.todos.0…".
            details: list[InitErrorDetails] = [
                {
                    "type": err["type"],
                    "loc": ("data", *err["loc"]),
                    "input": err["input"],
                    **({"ctx": err["ctx"]} if "ctx" in err else {}),  # type: ignore[typeddict-item]
                }
                for err in exc.errors()
            ]
            raise ValidationError.from_exception_data(cls.__name__, details) from None
        return {**value, "data": typed}

    @property
    def subject_id(self) -> str | None:
        """The meeting or user the event is about."""
        data = self.data
        if isinstance(data, Meeting):
            return data.meeting_id
        if isinstance(data, ClaritalkUser):
            return data.id
        for key in ("meetingId", "meeting_id", "userId", "id"):
            text = _text(data.get(key))
            if text:
                return text
        return None

    @property
    def idempotency_key(self) -> str:
        """A key for the inbox: the envelope carries no event id, so one is derived.

        A meeting's ``updatedAt`` is preferred to the envelope ``timestamp`` on the guess that
        a retried delivery repeats the meeting but may be re-stamped; with neither, a digest of
        the data stands in, so distinct deliveries are never merged.
        """
        data = self.data
        parts = [self.event, self.subject_id or "-"]
        if isinstance(data, Meeting):
            parts.append(data.status or "-")
        moment = (data.updated_at if isinstance(data, Meeting) else None) or self.timestamp
        if moment is not None:
            parts.append(moment.isoformat())
        else:
            dumped = data if isinstance(data, dict) else data.model_dump(mode="json")
            canonical = json.dumps(dumped, sort_keys=True, default=str).encode()
            parts.append(hashlib.sha256(canonical).hexdigest()[:16])
        return ":".join(parts)


class Token(BaseModel):
    """An OAuth token answer, stamped with when it was obtained (unix seconds)."""

    model_config = ConfigDict(extra="ignore")

    # Kept out of repr so a logged token does not leak its secrets.
    access_token: str = Field(repr=False)
    token_type: str = "Bearer"
    expires_in: int | None = None
    refresh_token: str | None = Field(None, repr=False)
    scope: str | None = None
    #: Set by Debrief on receipt, so a stored token knows when it and its refresh token lapse.
    obtained_at: float | None = None

    def stamped(self, now: float) -> Token:
        """A copy recording that it was obtained at ``now``."""
        return self.model_copy(update={"obtained_at": now})

    @property
    def expires_at(self) -> float | None:
        """When the access token lapses, if both lifetime and receipt time are known."""
        if self.expires_in is None or self.obtained_at is None:
            return None
        return self.obtained_at + self.expires_in

    @property
    def refresh_expires_at(self) -> float | None:
        """When the refresh token lapses unless used (7 days after it was issued)."""
        if self.refresh_token is None or self.obtained_at is None:
            return None
        return self.obtained_at + REFRESH_TOKEN_LIFETIME

    def expires_within(self, seconds: float, now: float) -> bool:
        """Whether the access token lapses within ``seconds`` of ``now`` (unknown: no)."""
        expires_at = self.expires_at
        return expires_at is not None and expires_at - seconds <= now


@dataclass(frozen=True)
class DecodedPdf:
    """The PDF report of a processed meeting, or why there is none."""

    content: bytes | None
    filename: str | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.content is not None


PDF_MAGIC = b"%PDF-"
_DATA_URI = re.compile(r"^data:[^,]*;base64,", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")


def _pdf_file(files: object) -> ReportFile | None:
    if isinstance(files, ReportFile):
        return files
    if isinstance(files, Mapping):
        try:
            return ReportFile.model_validate(files)
        except ValidationError:
            return None
    if isinstance(files, Sequence) and not isinstance(files, str | bytes):
        candidates = [f for f in (_pdf_file(item) for item in files) if f is not None]
        for candidate in candidates:
            if (candidate.filename or "").lower().endswith(".pdf"):
                return candidate
        return candidates[0] if candidates else None
    return None


def decode_pdf(files: ReportFile | Sequence[ReportFile] | Mapping[str, Any] | None) -> DecodedPdf:
    """Decode the base64 PDF report of ``meeting.processed``; never raises.

    Missing, empty, non-base64, non-PDF and truncated content each yield ``content=None``
    and a ``reason`` fit to show a person.
    """
    report = _pdf_file(files)
    if report is None:
        return DecodedPdf(None, None, "the meeting has no PDF report")
    name = report.filename
    if not report.content or not report.content.strip():
        return DecodedPdf(None, name, "the PDF report is empty")
    text = _WHITESPACE.sub("", _DATA_URI.sub("", report.content.strip()))
    if len(text) % 4 == 1:
        return DecodedPdf(None, name, "the PDF report is truncated (incomplete base64)")
    padded = text + "=" * (-len(text) % 4)
    raw: bytes | None = None
    for altchars in (None, b"-_"):
        try:
            raw = base64.b64decode(padded, altchars=altchars, validate=True)
            break
        except (binascii.Error, ValueError):
            continue
    if raw is None:
        return DecodedPdf(None, name, "the PDF report is not valid base64")
    if not raw.startswith(PDF_MAGIC):
        return DecodedPdf(None, name, "the report is not a PDF file")
    # Every PDF, including incrementally updated ones, ends with %%EOF (maybe plus a newline).
    if b"%%EOF" not in raw[-1024:]:
        return DecodedPdf(None, name, "the PDF report is truncated")
    return DecodedPdf(raw, name, None)
