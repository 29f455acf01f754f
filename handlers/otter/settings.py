"""Otter.ai's own settings (``OTTER_*``), read from the environment by the core."""

from __future__ import annotations

from pydantic import Field, SecretStr

from bot.config import Settings
from bot.plugins import ProviderSettings


class OtterSettings(ProviderSettings):
    otter_api_key: SecretStr | None = Field(None, alias="OTTER_API_KEY")
    otter_api_url: str = Field("https://api.otter.ai/v1", alias="OTTER_API_URL")
    otter_webhook_secret: SecretStr | None = Field(None, alias="OTTER_WEBHOOK_SECRET")
    # The polling fallback for plans without webhooks; 0 turns it off. Ignored (off) whenever
    # OTTER_WEBHOOK_SECRET is set, since then webhooks bring the digests.
    otter_poll_seconds: float = Field(300.0, alias="DEBRIEF_OTTER_POLL_SECONDS")
    # How often to look again at a conversation Otter is still processing.
    otter_ready_poll_seconds: float = Field(60.0, alias="DEBRIEF_OTTER_READY_POLL_SECONDS")
    max_otter_webhook_bytes: int = Field(1024 * 1024, gt=0, alias="DEBRIEF_MAX_OTTER_WEBHOOK_BYTES")

    @property
    def otter_polling(self) -> bool:
        """Whether the Otter polling fallback runs: a key, no webhook secret, an interval."""
        return (
            self.otter_api_key is not None
            and bool(self.otter_api_key.get_secret_value())
            and not (self.otter_webhook_secret and self.otter_webhook_secret.get_secret_value())
            and self.otter_poll_seconds > 0
        )


def otter_settings(settings: Settings) -> OtterSettings:
    return settings.section(OtterSettings)
