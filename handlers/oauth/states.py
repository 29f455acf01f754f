"""Spent connect links and single-use OAuth states, for every connection (``provider`` names
whose). Only hashes are stored: of a link's id, of a state, of the browser's cookie.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.db import insert_ignore, touched, transaction
from handlers.oauth.tables import OAuthState, SpentLink


def digest(value: str) -> str:
    """SHA-256 hex: what is stored of a state or a browser cookie, never the value itself."""
    return hashlib.sha256(value.encode()).hexdigest()


# --- connect links ---


async def link_spent(sessions: async_sessionmaker[AsyncSession], link_id: str) -> bool:
    """Whether the link with this id was used already."""
    async with sessions() as session:
        return await session.get(SpentLink, digest(link_id)) is not None


async def spend_link(
    session: AsyncSession,
    *,
    provider: str,
    link_id: str,
    team_id: str,
    user_id: str,
    now: datetime,
    expires_at: datetime,
) -> bool:
    """Mark a link used; False when it was already (by this or any other process)."""
    return await insert_ignore(
        session,
        SpentLink,
        {
            "link_hash": digest(link_id),
            "provider": provider,
            "team_id": team_id,
            "slack_user_id": user_id,
            "spent_at": now,
            "expires_at": expires_at,
        },
    )


# --- OAuth states ---


async def create_state(
    session: AsyncSession,
    *,
    provider: str,
    state: str,
    browser: str,
    team_id: str,
    user_id: str,
    now: datetime,
    ttl: timedelta,
) -> None:
    """Remember a state (hashed) bound to a Slack user and a browser cookie (hashed)."""
    session.add(
        OAuthState(
            state_hash=digest(state),
            provider=provider,
            team_id=team_id,
            slack_user_id=user_id,
            browser_hash=digest(browser),
            created_at=now,
            expires_at=now + ttl,
        )
    )


@dataclass(frozen=True)
class TakenState:
    """A state spent by a callback: whom the connection is for, and which connection it is."""

    team_id: str
    user_id: str
    provider: str = ""


class StateRefused(Exception):
    """A callback's state is unknown, used, expired or from another browser."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def take_state(
    sessions: async_sessionmaker[AsyncSession],
    state: str,
    browser: Callable[[str], str | None],
    now: datetime,
    *,
    providers: frozenset[str],
) -> TakenState:
    """Spend a state of one of ``providers``: it must exist, be unused and fresh, and come back
    to the browser that started it (``browser(provider)``: that browser's cookie, if sent).

    Raises:
        StateRefused: with a reason fit to show.
    """
    if not state or len(state) > 512:
        raise StateRefused("the sign-in did not come from Debrief")
    hashed = digest(state)
    async with transaction(sessions) as session:
        row = await session.get(OAuthState, hashed)
        if row is None or row.provider not in providers:
            raise StateRefused("the sign-in did not come from Debrief")
        if row.used_at is not None:
            raise StateRefused("this sign-in was already used")
        if row.expires_at <= now:
            raise StateRefused("this sign-in has expired")
        if not hmac.compare_digest(row.browser_hash, digest(browser(row.provider) or "")):
            raise StateRefused("the sign-in was finished in another browser than it was started in")
        result = await session.execute(
            update(OAuthState)
            .where(OAuthState.state_hash == hashed, OAuthState.used_at.is_(None))
            .values(used_at=now)
        )
        if not touched(result):
            raise StateRefused("this sign-in was already used")
        return TakenState(row.team_id, row.slack_user_id, row.provider)
