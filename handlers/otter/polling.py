"""The polling fallback for Otter plans without webhooks.

The scheduler enqueues one ``otter.poll`` job per interval. The job walks the conversation list
(newest first) back to a stored floor, and in ONE transaction enqueues a waiter for each
conversation (de-duplicated by conversation id) and moves the floor. A crash before that commit
leaves nothing behind, so the next run walks the same ground again; a crash after it finds the
waiters already there. Either way nothing is missed and nothing is posted twice.

The floor stays ``OVERLAP`` behind the newest conversation seen, so that one shared with us late
(its creation time already behind us) is still found; the waiters' de-duplication keys outlive
the overlap, so such re-walks repeat nothing.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator
from datetime import datetime, timedelta
from typing import cast

from pydantic import BaseModel
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.jobs import JobRun
from bot.services import Services
from bot.store.db import insert_ignore, transaction
from handlers.otter.jobs import JOB_AWAIT, AwaitJob, await_key
from handlers.otter.mapping import channel_names
from handlers.otter.settings import otter_settings
from handlers.routing.tables import SyncState
from providers.otter import Conversation, OtterClient

log = logging.getLogger(__name__)

JOB_POLL = "otter.poll"
CURSOR = "otter.poll"
#: How far back the very first run looks: enabling polling does not post the whole history.
FIRST_RUN_LOOKBACK = timedelta(hours=1)
#: How far behind the newest conversation the floor stays (shorter than the 7 days finished jobs,
#: and so their de-duplication keys, are kept).
OVERLAP = timedelta(hours=24)
PAGE_SIZE = 100


class PollJob(BaseModel):
    pass


async def read_floor(services: Services) -> datetime | None:
    """The stored floor of the walk, if the poller has run before."""
    async with services.sessions() as session:
        row = await session.get(SyncState, CURSOR)
    if row is None or not row.value.get("floor"):
        return None
    return datetime.fromisoformat(str(row.value["floor"]))


async def write_floor(session: AsyncSession, floor: datetime, now: datetime) -> None:
    value = {"floor": floor.isoformat()}
    if not await insert_ignore(
        session, SyncState, {"name": CURSOR, "value": value, "updated_at": now}
    ):
        await session.execute(
            update(SyncState).where(SyncState.name == CURSOR).values(value=value, updated_at=now)
        )


async def job_poll(services: Services, payload: PollJob, run: JobRun) -> None:
    """Find conversations new since the floor and hand each to a waiter, exactly once."""
    if not otter_settings(services.settings).otter_polling:
        return  # webhooks took over since this job was enqueued
    otter = services.require(OtterClient)
    now = services.clock()
    floor = await read_floor(services) or now - FIRST_RUN_LOOKBACK
    found: list[Conversation] = []
    conversations = cast(
        AsyncGenerator[Conversation, None],
        otter.iter_conversations(include_shared=True, limit=PAGE_SIZE),
    )
    async with contextlib.aclosing(conversations):
        async for conversation in conversations:
            if conversation.created_at is None:
                log.warning("otter %s has no created_at; polling cannot place it", conversation.id)
                continue
            if conversation.created_at < floor:
                break  # the list is newest first: everything after this is older
            found.append(conversation)
    newest = max((c.created_at for c in found if c.created_at), default=None)
    next_floor = max(floor, newest - OVERLAP) if newest else floor
    fresh = 0
    async with transaction(services.sessions) as session:
        for conversation in reversed(found):  # oldest first: digests arrive in meeting order
            job = AwaitJob(
                conversation_id=conversation.id,
                since=now,
                channels=channel_names(conversation),
                listed_ready=conversation.ready,
            )
            fresh += await services.queue.enqueue(
                session, JOB_AWAIT, job, dedupe_key=await_key(conversation.id, None)
            )
        await write_floor(session, next_floor, now)
    if fresh:
        log.info("otter polling: %d new conversation(s) of %d listed", fresh, len(found))
