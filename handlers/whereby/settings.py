"""Whereby's own settings (``WHEREBY_*``), read from the environment by the core."""

from __future__ import annotations

from pydantic import Field, SecretStr

from bot.config import Settings
from bot.plugins import ProviderSettings


class WherebySettings(ProviderSettings):
    whereby_api_key: SecretStr | None = Field(None, alias="WHEREBY_API_KEY")
    whereby_api_url: str = Field("https://api.whereby.dev/v1", alias="WHEREBY_API_URL")
    whereby_webhook_secret: SecretStr | None = Field(None, alias="WHEREBY_WEBHOOK_SECRET")
    # Whereby's budget is per organisation: 1000 points a minute on Grow, 100 on Build.
    whereby_points_per_minute: float = Field(1000.0, alias="WHEREBY_POINTS_PER_MINUTE")
    # Whereby sends no event when a summary is ready: it is polled, first after this many
    # seconds, then less and less often, until it is ready or the timeout passes.
    whereby_summary_poll_seconds: float = Field(5.0, alias="DEBRIEF_WHEREBY_SUMMARY_POLL_SECONDS")
    whereby_summary_timeout_seconds: float = Field(
        3600.0, alias="DEBRIEF_WHEREBY_SUMMARY_TIMEOUT_SECONDS"
    )
    max_whereby_webhook_bytes: int = Field(
        256 * 1024, gt=0, alias="DEBRIEF_MAX_WHEREBY_WEBHOOK_BYTES"
    )


def whereby_settings(settings: Settings) -> WherebySettings:
    return settings.section(WherebySettings)
