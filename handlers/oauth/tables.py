"""The tables of pending OAuth sign-ins and spent connect links, shared by every connection
(their ``provider`` column says whose: ``claritalk``, ``calendar.google`` …)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base, utcnow


class OAuthState(Base):
    """A pending OAuth authorization: the SHA-256 of its single-use ``state``, the Slack user it
    is bound to, and the hash of the cookie of the browser that started it.
    """

    __tablename__ = "oauth_states"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    team_id: Mapped[str] = mapped_column(String(32))
    slack_user_id: Mapped[str] = mapped_column(String(32))
    browser_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class SpentLink(Base):
    """A single-use link (a provider's account-connect link) that was used: the SHA-256 of its
    id, kept until the link would have expired anyway, when its own signature check refuses it.
    """

    __tablename__ = "spent_links"

    link_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    team_id: Mapped[str] = mapped_column(String(32))
    slack_user_id: Mapped[str] = mapped_column(String(32))
    spent_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(default=utcnow)
