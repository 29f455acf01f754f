"""Stored secrets: every secret Debrief keeps (provider tokens) lives encrypted in one table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import SecretBox, UnreadableSecret
from bot.store.db import insert_ignore
from bot.store.models import StoredSecret, utcnow


async def put_secret(
    session: AsyncSession, box: SecretBox, name: str, value: str, now: datetime
) -> None:
    """Store ``value`` under ``name``, encrypted with the newest key.

    Raises:
        SecretsUnavailable: no encryption key is configured.
    """
    ciphertext = box.encrypt(value)
    values = {"name": name, "ciphertext": ciphertext, "created_at": now, "updated_at": now}
    if not await insert_ignore(session, StoredSecret, values):
        await session.execute(
            update(StoredSecret)
            .where(StoredSecret.name == name)
            .values(ciphertext=ciphertext, updated_at=now)
        )


async def read_secret(session: AsyncSession, box: SecretBox, name: str) -> str | None:
    """The clear value stored under ``name``, or None.

    Raises:
        UnreadableSecret: no configured key decrypts it.
    """
    row = await session.get(StoredSecret, name)
    return None if row is None else box.decrypt(row.ciphertext)


async def delete_secret(session: AsyncSession, name: str) -> None:
    await session.execute(delete(StoredSecret).where(StoredSecret.name == name))


async def rotate_all(session: AsyncSession, box: SecretBox) -> int:
    """Re-encrypt every stored secret with the newest key, in the caller's transaction.

    Rows are locked so that a token refreshed meanwhile is not overwritten with its old value.

    Raises:
        UnreadableSecret: a stored secret no configured key decrypts; the caller rolls back.
    """
    rotated = 0
    rows = await session.execute(select(StoredSecret).with_for_update())
    for row in rows.scalars():
        try:
            row.ciphertext = box.rotate(row.ciphertext)
        except UnreadableSecret:
            raise UnreadableSecret(
                f"the stored secret {row.name!r} cannot be decrypted with any configured key"
            ) from None
        row.updated_at = utcnow()
        rotated += 1
    return rotated
