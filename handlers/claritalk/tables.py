"""The tables of Claritalk connections and reports (on the one ``Base`` metadata)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base, BigId, utcnow

# Shared with every OAuth connection; imported here so that Claritalk's tables include them.
from handlers.oauth.tables import OAuthState, SpentLink

__all__ = ["ClaritalkConnection", "ClaritalkReport", "OAuthState", "SpentLink"]


class ClaritalkConnection(Base):
    """A Slack user's connected Claritalk account; its tokens are in ``stored_secrets``.

    The times are kept in clear so that the refresh schedule finds what is due without
    decrypting anything.
    """

    __tablename__ = "claritalk_connections"

    slack_user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), default="")
    secret_name: Mapped[str] = mapped_column(String(191))
    claritalk_user_id: Mapped[str | None] = mapped_column(String(191), default=None, index=True)
    claritalk_name: Mapped[str | None] = mapped_column(String(255), default=None)
    claritalk_email: Mapped[str | None] = mapped_column(String(255), default=None)
    #: ``connected``, or ``lapsed`` once the refresh token is no longer accepted.
    status: Mapped[str] = mapped_column(String(16), default="connected")
    connected_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When the stored token pair was obtained: the refresh token lapses 7 days after.
    refreshed_at: Mapped[datetime] = mapped_column(default=utcnow)
    access_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    lapsed_at: Mapped[datetime | None] = mapped_column(default=None)
    lapsed_reason: Mapped[str | None] = mapped_column(Text, default=None)


class ClaritalkReport(Base):
    """The PDF report of a processed Claritalk meeting, until it is shared in its digest's thread.

    ``file_id`` is Slack's id of an upload under way, so that a retry completes or checks that
    upload instead of sharing the file twice; ``content`` is dropped once the file is shared.
    """

    __tablename__ = "claritalk_reports"

    meeting_id: Mapped[str] = mapped_column(String(191), primary_key=True)
    filename: Mapped[str] = mapped_column(String(255), default="report.pdf")
    content: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    #: Why there is no PDF to share (missing, truncated, not a PDF), shown in the thread.
    problem: Mapped[str | None] = mapped_column(Text, default=None)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    file_id: Mapped[str | None] = mapped_column(String(32), default=None)
    channel_id: Mapped[str | None] = mapped_column(String(32), default=None)
    done_at: Mapped[datetime | None] = mapped_column(default=None)
    # The lease (bot/leases.py): the job that holds it, or an untied holder until lease_until.
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    lease_job_id: Mapped[int | None] = mapped_column(BigId, default=None)
    leased_by: Mapped[str | None] = mapped_column(String(100), default=None)
