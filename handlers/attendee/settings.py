"""Attendee's own settings (``ATTENDEE_*``), read from the environment by the core."""

from __future__ import annotations

from pydantic import Field, SecretStr

from bot.config import Settings
from bot.plugins import ProviderSettings
from handlers.calendar.settings import CalendarSettings


class AttendeeSettings(CalendarSettings, ProviderSettings):
    """Attendee's own settings, and its calendars' (``handlers.calendar.settings``)."""

    attendee_api_key: SecretStr | None = Field(None, alias="ATTENDEE_API_KEY")
    attendee_api_url: str = Field("https://app.attendee.dev", alias="ATTENDEE_API_URL")
    attendee_webhook_secret: SecretStr | None = Field(None, alias="ATTENDEE_WEBHOOK_SECRET")
    attendee_bot_name: str = Field("Debrief Notetaker", alias="DEBRIEF_ATTENDEE_BOT_NAME")
    # Its deliveries are parsed to be verified (the signature is over canonical JSON), so the
    # limit of its route is kept small.
    max_attendee_webhook_bytes: int = Field(
        256 * 1024, gt=0, alias="DEBRIEF_MAX_ATTENDEE_WEBHOOK_BYTES"
    )


def attendee_settings(settings: Settings) -> AttendeeSettings:
    return settings.section(AttendeeSettings)
