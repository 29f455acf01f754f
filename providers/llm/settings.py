"""The model endpoint's settings, read by ``bot.config.Settings`` as its ``llm`` field."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, PrivateAttr, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: How much a model reads at once when DEBRIEF_LLM_CONTEXT_TOKENS is unset (a small local model).
DEFAULT_CONTEXT_TOKENS = 8192
DEFAULT_REQUESTS_PER_MINUTE = 60.0
DEFAULT_TIMEOUT = 60.0


class LLMSettings(BaseSettings):
    """Where the OpenAI-compatible chat-completions endpoint is, and how to use it.

    Unset ``url`` leaves the model engine off: Debrief uses its embedded engine alone.
    """

    model_config = SettingsConfigDict(
        env_file=None, extra="ignore", case_sensitive=False, populate_by_name=True
    )

    #: The API's base URL, the part before ``/chat/completions`` (``http://127.0.0.1:11434/v1``).
    url: str | None = Field(None, alias="DEBRIEF_LLM_URL")
    model: str | None = Field(None, alias="DEBRIEF_LLM_MODEL", validate_default=True)
    api_key: SecretStr | None = Field(None, alias="DEBRIEF_LLM_API_KEY")
    #: Seconds each request may take, thinking included.
    timeout: float = Field(DEFAULT_TIMEOUT, gt=0, alias="DEBRIEF_LLM_TIMEOUT")
    context_tokens: int = Field(DEFAULT_CONTEXT_TOKENS, ge=512, alias="DEBRIEF_LLM_CONTEXT_TOKENS")
    requests_per_minute: float = Field(
        DEFAULT_REQUESTS_PER_MINUTE, gt=0, alias="DEBRIEF_LLM_REQUESTS_PER_MINUTE"
    )

    #: What could not be read from the environment, as (setting, problem) (see :func:`load`).
    _unreadable: list[tuple[str, str]] = PrivateAttr(default_factory=list)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("is not an http(s) URL (e.g. http://127.0.0.1:11434/v1)")
        return value.strip().rstrip("/")

    @field_validator("model")
    @classmethod
    def _model_with_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        value = value.strip() if value else None
        if info.data.get("url") and not value:
            raise ValueError("must name the model when DEBRIEF_LLM_URL is set (e.g. llama3.1:8b)")
        return value

    @property
    def enabled(self) -> bool:
        """Whether the model engine is configured."""
        return bool(self.url)

    def key(self) -> str | None:
        """The API key in clear, or ``None`` when unset or empty."""
        text = self.api_key.get_secret_value() if self.api_key is not None else ""
        return text or None

    def problems(self) -> list[tuple[str, str, str]]:
        """What stops these settings being used, as ``(setting, problem, fix)``."""
        fix = "correct it, or unset DEBRIEF_LLM_URL to leave the model engine off"
        return [(name, problem, fix) for name, problem in self._unreadable]

    def describe(self) -> str:
        """One line for ``debrief doctor``; never shows the key."""
        if not self.url:
            return "Model engine: off (to turn it on, set DEBRIEF_LLM_URL and DEBRIEF_LLM_MODEL)"
        key = "with DEBRIEF_LLM_API_KEY" if self.key() else "without a key"
        return f"Model engine: on ({self.model} at {self.url}, {key})"


def load() -> LLMSettings:
    """The settings from the environment; when a value cannot be read, the engine stays off
    and :meth:`LLMSettings.problems` says why (``debrief serve`` refuses to start on it,
    ``debrief doctor`` shows it), instead of an exception escaping the settings loader."""
    try:
        return LLMSettings()
    except ValidationError as exc:
        settings = LLMSettings.model_construct()
        settings._unreadable = [(_alias(e["loc"]), _problem(e)) for e in exc.errors()]
        return settings


def _problem(error: Any) -> str:
    if error["type"] == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    shown = "" if _alias(error["loc"]) == "DEBRIEF_LLM_API_KEY" else f" ({error.get('input')!r})"
    return f"cannot be read{shown}: {error['msg']}"


def _alias(loc: tuple[int | str, ...]) -> str:
    where = str(loc[0]) if loc else "url"
    field = LLMSettings.model_fields.get(where)
    return field.alias if field is not None and field.alias else where
