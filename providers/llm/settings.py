"""The model endpoint's settings (DEBRIEF_LLM_*), read as a plug-in's section (handlers/model)."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator
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
