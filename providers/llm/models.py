"""The parts of OpenAI's chat-completions API that Debrief reads (responses: ``extra="ignore"``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Message(_Response):
    """The assistant's message: its text, or a refusal (OpenAI's structured-outputs refusal)."""

    role: str = "assistant"
    content: str | None = None
    refusal: str | None = None


class Choice(_Response):
    """One completion; Debrief asks for one (``n`` unset) and reads the first."""

    index: int = 0
    message: Message
    #: ``stop`` when the model finished, ``length`` when it ran out of tokens mid-answer.
    finish_reason: str | None = None


class Usage(_Response):
    """Token counts, when the server reports them (llama.cpp and Ollama do, some proxies not)."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None


class ChatCompletion(_Response):
    """The answer to ``POST /chat/completions``."""

    id: str | None = None
    model: str | None = None
    choices: list[Choice] = Field(min_length=1)
    usage: Usage | None = None


class ModelInfo(_Response):
    """One entry of ``GET /models``."""

    id: str
    owned_by: str | None = None


class ModelList(_Response):
    """The answer to ``GET /models``."""

    data: list[ModelInfo] = Field(default_factory=list)
