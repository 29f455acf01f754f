"""The understanding component's input and output: the one contract both engines keep."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field


class Turn(BaseModel):
    """One speaker turn: who spoke, what they said, when (seconds from the start)."""

    speaker: str
    text: str
    start: float | None = None


class ActionItem(BaseModel):
    """Something someone is to do: the commitment, the request or the assignment, as a to-do."""

    text: str
    #: The speaker who commits, the person asked, or the person named; None when nobody is clear.
    owner: str | None = None
    #: Parsed relative to the meeting's date ("by Friday" in a meeting on Mon 7 Dec -> 2026-12-11).
    due: date | None = None


class Topic(BaseModel):
    """A stretch of the meeting about one thing, and where it starts (seconds), when known."""

    title: str
    start: float | None = None


class Understanding(BaseModel):
    """What a meeting was about. ``debrief summarize`` prints the first five fields as JSON."""

    title: str
    summary: str
    decisions: list[str] = Field(default_factory=list)
    action_items: list[ActionItem] = Field(default_factory=list)
    topics: list[Topic] = Field(default_factory=list)
    #: Which engine produced this: "embedded" or "model".
    engine: Literal["embedded", "model"] = "embedded"
    #: Set when the model engine failed and the embedded engine's result stands in (the digest
    #: says so).
    notice: str | None = None

    def public(self) -> dict[str, Any]:
        """What `debrief summarize` prints: title, summary, decisions, items, topics."""
        fields = {"title", "summary", "decisions", "action_items", "topics"}
        return self.model_dump(mode="json", include=fields)


class ChatModel(Protocol):
    """An OpenAI-compatible chat-completions endpoint, as the model engine needs it.

    ``complete_json`` sends ``messages`` with ``response_format = {"type": "json_schema",
    "json_schema": {"name": name, "schema": schema, "strict": True}}`` and returns the text of the
    first choice's message. It raises on transport errors, timeouts and non-2xx answers (the
    implementation in ``providers/`` decides retryability); ``context_tokens`` is how much the
    model reads at once, so callers can split long transcripts.
    """

    context_tokens: int

    async def complete_json(
        self, messages: list[dict[str, str]], *, name: str, schema: dict[str, Any]
    ) -> str: ...


class Engine(Protocol):
    """One interface, two engines: ``understanding.embedded.EmbeddedEngine`` (default) and
    ``understanding.model.ModelEngine`` (falls back to the embedded one and says so in ``notice``).

    ``meeting_date`` anchors relative due dates ("tomorrow", "by Friday"); ``words`` is the
    summary's length budget.
    """

    name: str

    async def understand(
        self, turns: list[Turn], *, meeting_date: date | None = None, words: int = 110
    ) -> Understanding: ...


class Passage(BaseModel):
    """A stretch of a stored meeting that search found: what ``/debrief ask`` answers from."""

    #: Opaque to this package: the caller's handle for citing it (a meeting and a moment).
    ref: str
    text: str
    speaker: str | None = None
    start: float | None = None
    #: The meeting's title, for a citation a person reads.
    meeting_title: str | None = None
    #: The full-text engine's score, higher is better (0 when unknown).
    score: float = 0.0


class Answer(BaseModel):
    """An answer grounded in passages: the text, and the refs of the passages it rests on."""

    text: str
    citations: list[str] = Field(default_factory=list)
    #: False when nothing in the passages answers the question: say so rather than guess.
    found: bool = True
    engine: Literal["embedded", "model"] = "embedded"
