"""The calendar autopilot's settings (``DEBRIEF_CALENDAR_*``, the OAuth clients of Google and
Microsoft). Calendars are synced by Attendee, so they are a section of Attendee's settings
(``AttendeeSettings`` inherits them) and load whenever Attendee is installed."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings

from bot.config import Settings

DEFAULT_ANNOUNCEMENT = (
    "Hi, I'm {bot_name}, taking notes for {owner}. The notes are shared in Slack after the meeting."
)


class CalendarSettings(BaseSettings):
    #: Said in the meeting's chat when a calendar notetaker joins (``bot_chat_message``);
    #: ``{bot_name}`` and ``{owner}`` are filled in. Empty: it says nothing.
    calendar_announcement: str = Field(DEFAULT_ANNOUNCEMENT, alias="DEBRIEF_CALENDAR_ANNOUNCEMENT")
    #: The hour (0-23, in each owner's Slack time zone) of the morning DM listing the day's
    #: notetakers.
    calendar_morning_hour: int = Field(8, ge=0, le=23, alias="DEBRIEF_CALENDAR_MORNING_HOUR")
    #: Minutes before a notetaker joins that its owner gets a DM (0: none).
    calendar_reminder_minutes: int = Field(
        5, ge=0, le=120, alias="DEBRIEF_CALENDAR_REMINDER_MINUTES"
    )
    #: How often every connected calendar is read again in case a webhook was lost (0: never).
    calendar_sync_seconds: int = Field(900, ge=0, alias="DEBRIEF_CALENDAR_SYNC_SECONDS")

    google_client_id: str | None = Field(None, alias="DEBRIEF_GOOGLE_CLIENT_ID")
    google_client_secret: SecretStr | None = Field(None, alias="DEBRIEF_GOOGLE_CLIENT_SECRET")
    google_auth_url: str = Field(
        "https://accounts.google.com/o/oauth2/v2/auth", alias="DEBRIEF_GOOGLE_AUTH_URL"
    )
    google_token_url: str = Field(
        "https://oauth2.googleapis.com/token", alias="DEBRIEF_GOOGLE_TOKEN_URL"
    )
    microsoft_client_id: str | None = Field(None, alias="DEBRIEF_MICROSOFT_CLIENT_ID")
    microsoft_client_secret: SecretStr | None = Field(None, alias="DEBRIEF_MICROSOFT_CLIENT_SECRET")
    microsoft_auth_url: str = Field(
        "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
        alias="DEBRIEF_MICROSOFT_AUTH_URL",
    )
    microsoft_token_url: str = Field(
        "https://login.microsoftonline.com/common/oauth2/v2.0/token",
        alias="DEBRIEF_MICROSOFT_TOKEN_URL",
    )


def calendar_settings(settings: Settings) -> CalendarSettings:
    """The calendar section of the loaded settings (it is Attendee's)."""
    from handlers.attendee.settings import AttendeeSettings

    return settings.section(AttendeeSettings)
