"""The index on both databases: storing, searching, snippets, filters, hostile queries, forget."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.blockkit import MARK_START, MARK_STOP
from bot.meetings import Meeting, Utterance
from bot.store.db import create_engine, create_sessionmaker, transaction
from handlers.search.index import (
    Filters,
    MeetingKey,
    Scope,
    forget,
    fts5_query,
    index_meeting,
    search,
    search_passages,
    words_of,
)
from handlers.search.passages import passages_of
from handlers.search.tables import StoredMeeting, StoredPassage

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ADA = Scope("U0ADA", frozenset({"C0MEETINGS"}))


#: Words that make each turn a passage of its own (at least 60 words).
FILLER = " so on" * 30


def meeting(
    meeting_id: str, title: str, turns: list[tuple[str, str]], *, day: int = 1, pad: bool = True
) -> Meeting:
    return Meeting(
        provider="otter",
        meeting_id=meeting_id,
        title=title,
        summary=f"Summary of {title}.",
        started_at=datetime(2026, 11, day, 15, 0, tzinfo=UTC),
        transcript=[
            Utterance(speaker=who, text=said + (FILLER if pad else ""), start_seconds=60.0 * n)
            for n, (who, said) in enumerate(turns)
        ],
    )


PLANNING = meeting(
    "plan-1",
    "Quarterly planning",
    [
        ("Ada Lovelace", "Let us talk about the launch budget for the spring."),
        ("Grace Hopper", "We decided to ship the mobile app on Friday the twelfth."),
        ("Alan Turing", "The database migration is running late, maybe two weeks."),
    ],
    day=3,
)
RETRO = meeting(
    "retro-1",
    "Sprint retro",
    [
        ("Grace Hopper", "Shipping went well but the migrations were painful."),
        ("Ada Lovelace", "Next time we ship, we write the runbook first."),
    ],
    day=20,
)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


async def store(
    sessions: async_sessionmaker[AsyncSession],
    m: Meeting,
    channel: str = "C0MEETINGS",
    requester: str | None = None,
) -> int:
    async with transaction(sessions) as session:
        return await index_meeting(
            session,
            m,
            now=NOW,
            channel_id=channel,
            digest_ts="1700000000.000100",
            permalink=f"https://slack.test/archives/{channel}/p1700000000000100",
            requester_id=requester,
        )


async def test_search_finds_stemmed_words_best_first_with_marked_snippets(sessions) -> None:
    await store(sessions, PLANNING)
    await store(sessions, RETRO)
    async with sessions() as session:
        hits = await search(session, "shipping", ADA)
    assert {h.meeting_id for h in hits} == {"plan-1", "retro-1"}, "porter: ship ~ shipping"
    retro = next(h for h in hits if h.meeting_id == "retro-1")
    assert hits[0].meeting_id == "retro-1", "two moments with the word beat one"
    assert len(retro.moments) == 2
    assert {m.speaker for m in retro.moments} == {"Grace Hopper", "Ada Lovelace"}
    snippets = "".join(m.snippet for m in retro.moments)
    assert f"{MARK_START}Shipping{MARK_STOP}" in snippets
    assert f"{MARK_START}ship{MARK_STOP}" in snippets
    assert retro.permalink and "/archives/C0MEETINGS/" in retro.permalink
    async with sessions() as session:
        both = await search(session, "ship mobile", ADA)
    assert [h.meeting_id for h in both] == ["plan-1"], "every word must match"


async def test_moments_carry_speaker_and_time(sessions) -> None:
    await store(sessions, PLANNING)
    async with sessions() as session:
        [hit] = await search(session, "database migration", ADA)
    [moment] = hit.moments
    assert moment.speaker == "Alan Turing"
    assert moment.start == 120.0
    assert f"{MARK_START}database{MARK_STOP}" in moment.snippet


async def test_passages_group_whole_turns_into_60_to_120_words() -> None:
    turns = [(f"P{n % 3}", " ".join(["word"] * 25) + ".") for n in range(20)]
    turns.append(("Long", " ".join(["monologue"] * 300)))
    parts = passages_of(meeting("m", "T", turns, pad=False))
    overview, *body = parts
    assert overview[0] is None and overview[2].startswith("T Summary of T.")
    sizes = [len(p[2].split()) for p in body]
    assert all(s <= 120 for s in sizes), sizes
    assert all(s >= 60 for s in sizes[:-1]), sizes
    assert sum(sizes) == 20 * 25 + 300
    assert body[0][1] == 0.0 and body[1][1] == 240.0, "a passage starts with its first turn"


async def test_redelivery_replaces_never_duplicates(sessions) -> None:
    first = await store(sessions, PLANNING)
    again = await store(sessions, PLANNING.model_copy(update={"title": "Planning (v2)"}))
    assert first == again
    async with sessions() as session:
        meetings = await session.scalar(select(func.count()).select_from(StoredMeeting))
        passages = await session.scalar(select(func.count()).select_from(StoredPassage))
        hits = await search(session, "budget", ADA)
    assert meetings == 1
    assert passages == len(passages_of(PLANNING))
    assert [h.title for h in hits] == ["Planning (v2)"]
    assert len(hits[0].moments) == 1


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced',
        'ship" OR "x',
        "NEAR(ship launch)",
        "ship*",
        "-ship",
        "ship AND NOT budget",
        "title:ship",
        "text: ship",
        "^ship",
        "(((",
        "'; DROP TABLE search_passages; --",
        "ship \\ budget",
        "日本語 ✨ café naïve",
        "\x00\x02\x03",
        "OR",
        "AND NEAR NOT",
        "{ship}",
        "*",
    ],
)
async def test_hostile_queries_never_error(sessions, query: str) -> None:
    await store(sessions, PLANNING)
    async with sessions() as session:
        await search(session, query, ADA)
        await search_passages(session, query, ADA)
        if words_of(query) == ["ship"]:
            hits = await search(session, query, ADA)
            assert [h.meeting_id for h in hits] == ["plan-1"], query


def test_fts5_query_quotes_every_word() -> None:
    assert fts5_query(["near", "and"]) == '"near" "and"'
    assert fts5_query(["a", "b"], any_word=True) == '"a" OR "b"'


async def test_unicode_words_are_found(sessions) -> None:
    cafe = meeting("cafe", "Café", [("Zoë", "Le café naïve est fermé à Zürich.")], pad=False)
    await store(sessions, cafe)
    async with sessions() as session:
        assert [h.meeting_id for h in await search(session, "zürich", ADA)] == ["cafe"]


async def test_scope_only_channels_of_the_asker_or_their_own(sessions) -> None:
    await store(sessions, PLANNING, channel="C0LEADERSHIP")
    await store(sessions, RETRO, channel="D0GRACE", requester="U0GRACE")
    async with sessions() as session:
        assert await search(session, "ship", ADA) == []
        assert await search_passages(session, "ship", ADA) == []
        leader = Scope("U0ADA", frozenset({"C0LEADERSHIP"}))
        assert [h.meeting_id for h in await search(session, "ship", leader)] == ["plan-1"]
        grace = Scope("U0GRACE", frozenset())
        assert [h.meeting_id for h in await search(session, "ship", grace)] == ["retro-1"]
        mention = Scope("U0ADA", frozenset({"C0LEADERSHIP", "C0MEETINGS"}), "C0MEETINGS")
        assert await search_passages(session, "ship", mention) == []


async def test_filters_speaker_channel_and_dates(sessions) -> None:
    await store(sessions, PLANNING)
    await store(sessions, RETRO, channel="C0ENG")
    scope = Scope("U0ADA", frozenset({"C0MEETINGS", "C0ENG"}))

    async def found(words: str, filters: Filters) -> list[str]:
        async with sessions() as session:
            return [h.meeting_id for h in await search(session, words, scope, filters)]

    assert await found("ship", Filters(channel="C0ENG")) == ["retro-1"]
    assert await found("ship", Filters(after=date(2026, 11, 10))) == ["retro-1"]
    assert await found("ship", Filters(before=date(2026, 11, 10))) == ["plan-1"]
    # Alan speaks of the migration in the planning, Grace of migrations in the retro.
    assert await found("migration", Filters(speakers=("alan turing",))) == ["plan-1"]
    assert await found("migration", Filters(speakers=("GRACE",))) == ["retro-1"]
    grace = await found("painful", Filters(speakers=("Grace Hopper",)))
    assert grace == ["retro-1"]
    assert await found("painful", Filters(speakers=("Ada",))) == []
    assert await found("ship", Filters(speakers=("100%_",))) == []


async def test_search_passages_puts_the_asked_meeting_first(sessions) -> None:
    await store(sessions, PLANNING)
    retro = await store(sessions, RETRO)
    async with sessions() as session:
        passages = await search_passages(
            session, "When do we ship?", ADA, meeting_key=MeetingKey("otter", "retro-1")
        )
    assert passages, "found"
    assert passages[0].ref.startswith(f"{retro}:")
    assert passages[0].meeting_title == "Sprint retro"
    assert any(p.meeting_title == "Quarterly planning" for p in passages)


async def test_forget_deletes_the_meeting_its_passages_and_their_index(
    sessions, database_url
) -> None:
    await store(sessions, PLANNING)
    await store(sessions, RETRO)
    async with transaction(sessions) as session:
        assert await forget(session, MeetingKey("otter", "plan-1"))
        assert not await forget(session, MeetingKey("otter", "plan-1"))
    async with sessions() as session:
        assert [h.meeting_id for h in await search(session, "ship", ADA)] == ["retro-1"]
        left = await session.scalar(select(func.count()).select_from(StoredPassage))
        assert left == len(passages_of(RETRO))
        if database_url.startswith("sqlite"):
            # The FTS5 index itself has no entry left for a forgotten passage.
            indexed = await session.scalar(
                text(
                    "SELECT count(*) FROM search_passages_fts"
                    " WHERE search_passages_fts MATCH 'budget'"
                )
            )
            assert indexed == 0
            await session.execute(
                text(
                    "INSERT INTO search_passages_fts(search_passages_fts) VALUES('integrity-check')"
                )
            )
