"""Retention: an old stored meeting goes with its passages and their index; a young one stays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text

from bot.meetings import Meeting, Utterance
from bot.retention import Cutoffs, purge
from bot.store.db import create_engine, create_sessionmaker, transaction
from handlers.retention import RULES
from handlers.search.index import Scope, index_meeting, search
from handlers.search.tables import StoredMeeting, StoredPassage
from tests.conftest import make_settings

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def meeting(meeting_id: str, word: str) -> Meeting:
    return Meeting(
        provider="otter",
        meeting_id=meeting_id,
        title=f"Meeting {meeting_id}",
        transcript=[Utterance(speaker="Ada", text=f"We talked about the {word} plan.")],
    )


async def test_purge_removes_old_meetings_their_passages_and_index(database_url: str) -> None:
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    scope = Scope("U0ADA", frozenset({"C0MEETINGS"}))
    try:
        async with transaction(sessions) as session:
            await index_meeting(
                session,
                meeting("old", "harbour"),
                now=NOW - timedelta(days=100),
                channel_id="C0MEETINGS",
            )
            await index_meeting(
                session,
                meeting("new", "lighthouse"),
                now=NOW - timedelta(days=5),
                channel_id="C0MEETINGS",
            )
        settings = make_settings(retention_days=90)
        report = await purge(sessions, RULES, Cutoffs.at(settings, NOW), 500)
        assert report.rows["search_meetings"] == 1
        assert report.rows["search_passages"] == 2  # the overview and the transcript
        async with sessions() as session:
            kept = list((await session.execute(select(StoredMeeting.meeting_id))).scalars())
            passages = await session.scalar(select(func.count()).select_from(StoredPassage))
            assert kept == ["new"] and passages == 2
            assert await search(session, "harbour", scope) == []
            assert [h.meeting_id for h in await search(session, "lighthouse", scope)] == ["new"]
            if database_url.startswith("sqlite"):
                rows = await session.scalar(
                    text(
                        "SELECT count(*) FROM search_passages_fts"
                        " WHERE search_passages_fts MATCH 'harbour'"
                    )
                )
                assert rows == 0
    finally:
        await engine.dispose()
