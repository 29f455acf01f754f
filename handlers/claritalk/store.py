"""Storage of Claritalk connections: tokens encrypted in ``stored_secrets``, the connection's
clear bookkeeping, spent connect links, single-use OAuth states, and PDF reports waiting for
their digest.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.crypto import SecretBox
from bot.leases import LeaseHolder, RowLease
from bot.store.db import insert_ignore, touched, transaction
from bot.store.secrets import delete_secret, put_secret, read_secret
from handlers.claritalk.tables import ClaritalkConnection, ClaritalkReport
from handlers.oauth import states
from handlers.oauth.states import StateRefused, TakenState, digest

__all__ = ["StateRefused", "TakenState", "digest"]  # what callers of this store used to find here
from providers.claritalk import ClaritalkUser, DecodedPdf, Token

PROVIDER = "claritalk"
CONNECTED = "connected"
LAPSED = "lapsed"
#: A report is leased by the job sharing it (bot/leases.py), for as long as that job lives.
REPORT_LEASE = RowLease(ClaritalkReport)


# --- connections ---


def secret_name(user_id: str) -> str:
    """Where a Slack user's Claritalk token pair is stored."""
    return f"claritalk.user.{user_id}"


def _moment(seconds: float | None, default: datetime) -> datetime:
    return datetime.fromtimestamp(seconds, UTC) if seconds is not None else default


async def get_connection(
    sessions: async_sessionmaker[AsyncSession], user_id: str
) -> ClaritalkConnection | None:
    async with sessions() as session:
        return await session.get(ClaritalkConnection, user_id)


async def connection_of(
    sessions: async_sessionmaker[AsyncSession], claritalk_user_id: str | None
) -> ClaritalkConnection | None:
    """The Slack user connected as this Claritalk user, if any (the newest connection)."""
    if not claritalk_user_id:
        return None
    async with sessions() as session:
        rows = await session.execute(
            select(ClaritalkConnection)
            .where(ClaritalkConnection.claritalk_user_id == claritalk_user_id)
            .order_by(ClaritalkConnection.connected_at.desc())
            .limit(1)
        )
        return rows.scalars().first()


async def connect(
    session: AsyncSession,
    box: SecretBox,
    *,
    team_id: str,
    user_id: str,
    token: Token,
    identity: ClaritalkUser | None,
    now: datetime,
) -> None:
    """Store a new connection (replacing any earlier one of the same Slack user)."""
    name = secret_name(user_id)
    await put_secret(session, box, name, token.model_dump_json(), now)
    await session.execute(
        delete(ClaritalkConnection).where(ClaritalkConnection.slack_user_id == user_id)
    )
    session.add(
        ClaritalkConnection(
            slack_user_id=user_id,
            team_id=team_id,
            secret_name=name,
            claritalk_user_id=identity.id if identity else None,
            claritalk_name=identity.name if identity else None,
            claritalk_email=identity.email if identity else None,
            status=CONNECTED,
            connected_at=now,
            refreshed_at=_moment(token.obtained_at, now),
            access_expires_at=_moment(token.expires_at, now) if token.expires_at else None,
        )
    )


async def load_token(
    sessions: async_sessionmaker[AsyncSession], box: SecretBox, user_id: str
) -> Token | None:
    """The user's stored token pair; None when not connected (or lapsed)."""
    async with sessions() as session:
        connection = await session.get(ClaritalkConnection, user_id)
        if connection is None or connection.status != CONNECTED:
            return None
        stored = await read_secret(session, box, connection.secret_name)
    return None if stored is None else Token.model_validate_json(stored)


async def save_token(
    sessions: async_sessionmaker[AsyncSession],
    box: SecretBox,
    user_id: str,
    token: Token,
    now: datetime,
) -> bool:
    """Store a refreshed pair; False (nothing stored) when the user disconnected meanwhile."""
    async with transaction(sessions) as session:
        result = await session.execute(
            update(ClaritalkConnection)
            .where(
                ClaritalkConnection.slack_user_id == user_id,
                ClaritalkConnection.status == CONNECTED,
            )
            .values(
                refreshed_at=_moment(token.obtained_at, now),
                access_expires_at=_moment(token.expires_at, now) if token.expires_at else None,
            )
        )
        if not touched(result):
            return False
        await put_secret(session, box, secret_name(user_id), token.model_dump_json(), now)
    return True


async def mark_lapsed(session: AsyncSession, user_id: str, reason: str, now: datetime) -> bool:
    """Mark a connection lapsed and drop its dead tokens; True only for the first to do so."""
    result = await session.execute(
        update(ClaritalkConnection)
        .where(
            ClaritalkConnection.slack_user_id == user_id,
            ClaritalkConnection.status == CONNECTED,
        )
        .values(status=LAPSED, lapsed_at=now, lapsed_reason=reason[:2000])
    )
    if not touched(result):
        return False
    await delete_secret(session, secret_name(user_id))
    return True


async def forget(session: AsyncSession, user_id: str) -> bool:
    """Delete a connection and its tokens; whether there was one."""
    await delete_secret(session, secret_name(user_id))
    result = await session.execute(
        delete(ClaritalkConnection).where(ClaritalkConnection.slack_user_id == user_id)
    )
    return touched(result)


async def due_for_refresh(
    sessions: async_sessionmaker[AsyncSession], before: datetime
) -> list[str]:
    """Slack users whose token pair was last renewed before ``before``."""
    async with sessions() as session:
        rows = await session.execute(
            select(ClaritalkConnection.slack_user_id).where(
                ClaritalkConnection.status == CONNECTED,
                ClaritalkConnection.refreshed_at < before,
            )
        )
        return list(rows.scalars())


# --- connect links and OAuth states (the shared ones, as Claritalk's) ---


async def link_spent(sessions: async_sessionmaker[AsyncSession], link_id: str) -> bool:
    """Whether the link with this id was used already."""
    return await states.link_spent(sessions, link_id)


async def spend_link(
    session: AsyncSession,
    *,
    link_id: str,
    team_id: str,
    user_id: str,
    now: datetime,
    expires_at: datetime,
) -> bool:
    """Mark a link used; False when it was already (by this or any other process)."""
    return await states.spend_link(
        session,
        provider=PROVIDER,
        link_id=link_id,
        team_id=team_id,
        user_id=user_id,
        now=now,
        expires_at=expires_at,
    )


async def create_state(
    session: AsyncSession,
    *,
    state: str,
    browser: str,
    team_id: str,
    user_id: str,
    now: datetime,
    ttl: timedelta,
) -> None:
    """Remember a state (hashed) bound to a Slack user and a browser cookie (hashed)."""
    await states.create_state(
        session,
        provider=PROVIDER,
        state=state,
        browser=browser,
        team_id=team_id,
        user_id=user_id,
        now=now,
        ttl=ttl,
    )


async def take_state(
    sessions: async_sessionmaker[AsyncSession], state: str, browser: str | None, now: datetime
) -> TakenState:
    """Spend a Claritalk state: it must exist, be unused and fresh, and come back to the same
    browser.

    Raises:
        StateRefused: with a reason fit to show.
    """
    return await states.take_state(
        sessions, state, lambda _: browser, now, providers=frozenset({PROVIDER})
    )


# --- PDF reports ---


async def keep_report(
    session: AsyncSession, meeting_id: str, pdf: DecodedPdf, filename: str, now: datetime
) -> None:
    """Remember a meeting's report (or why there is none) until it is in the digest's thread."""
    values = {
        "meeting_id": meeting_id,
        "filename": filename[:255],
        "content": pdf.content,
        "problem": pdf.reason,
        "received_at": now,
    }
    if not await insert_ignore(session, ClaritalkReport, values):
        # Processed again before the first report was shared: the newer one is the one to share.
        await session.execute(
            update(ClaritalkReport)
            .where(
                ClaritalkReport.meeting_id == meeting_id,
                ClaritalkReport.done_at.is_(None),
                ClaritalkReport.file_id.is_(None),
            )
            .values(filename=filename[:255], content=pdf.content, problem=pdf.reason)
        )


async def lease_report(
    sessions: async_sessionmaker[AsyncSession],
    meeting_id: str,
    now: datetime,
    holder: LeaseHolder,
) -> ClaritalkReport | None:
    """Take a pending report for ``holder``; None when done, missing, or leased by another."""
    pending = [ClaritalkReport.meeting_id == meeting_id, ClaritalkReport.done_at.is_(None)]
    async with transaction(sessions) as session:
        if not await REPORT_LEASE.take(session, pending, holder, now):
            return None
        return await session.get(ClaritalkReport, meeting_id)


async def release_report(
    sessions: async_sessionmaker[AsyncSession],
    meeting_id: str,
    holder: LeaseHolder,
    **values: object,
) -> None:
    """Give a leased report back, with ``values``; nothing when the lease was lost meanwhile."""
    async with transaction(sessions) as session:
        await REPORT_LEASE.release(
            session, [ClaritalkReport.meeting_id == meeting_id], holder, **values
        )


async def update_report(
    sessions: async_sessionmaker[AsyncSession], meeting_id: str, **values: object
) -> None:
    async with transaction(sessions) as session:
        await session.execute(
            update(ClaritalkReport).where(ClaritalkReport.meeting_id == meeting_id).values(**values)
        )


async def pending_reports(sessions: async_sessionmaker[AsyncSession], since: datetime) -> list[str]:
    """Meetings whose report is not yet in a thread, received after ``since``."""
    async with sessions() as session:
        rows = await session.execute(
            select(ClaritalkReport.meeting_id).where(
                ClaritalkReport.done_at.is_(None), ClaritalkReport.received_at >= since
            )
        )
        return list(rows.scalars())
