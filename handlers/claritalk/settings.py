"""Claritalk's own settings (``CLARITALK_*``), read from the environment by the core."""

from __future__ import annotations

from pydantic import Field, SecretStr

from bot.config import Settings
from bot.plugins import ProviderSettings


class ClaritalkSettings(ProviderSettings):
    claritalk_api_url: str = Field("https://app.claritalk.com", alias="CLARITALK_API_URL")
    claritalk_client_id: str | None = Field(None, alias="CLARITALK_CLIENT_ID")
    claritalk_client_secret: SecretStr | None = Field(None, alias="CLARITALK_CLIENT_SECRET")
    claritalk_token: SecretStr | None = Field(None, alias="CLARITALK_TOKEN")
    claritalk_webhook_secret: SecretStr | None = Field(None, alias="CLARITALK_WEBHOOK_SECRET")
    # Claritalk publishes no signing scheme; should it sign deliveries, this HMAC key is accepted
    # as well as the URL token.
    claritalk_webhook_hmac_secret: SecretStr | None = Field(
        None, alias="CLARITALK_WEBHOOK_HMAC_SECRET"
    )
    # meeting.processed carries a base64 PDF: the one big delivery of all the providers.
    max_claritalk_webhook_bytes: int = Field(
        25 * 1024 * 1024, gt=0, alias="DEBRIEF_MAX_CLARITALK_WEBHOOK_BYTES"
    )


def claritalk_settings(settings: Settings) -> ClaritalkSettings:
    return settings.section(ClaritalkSettings)
