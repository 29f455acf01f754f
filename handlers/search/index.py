"""Full-text search over stored meetings, one interface on both databases.

SQLite: the FTS5 table ``search_passages_fts`` (porter stemming), ranked by ``bm25`` and cut
with ``snippet()``. PostgreSQL: the generated ``search_vector`` column (english) with its GIN
index, ranked by ``ts_rank_cd`` and cut with ``ts_headline``. What a person types never reaches
either engine's query syntax: it is cut into words (letters and digits), and each word is
quoted (FTS5) or handed to ``websearch_to_tsquery``, which accepts any text.

Every query is scoped in SQL (:class:`Scope`): a meeting is found only when its digest went to
a channel the asker is in, or it is theirs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    delete,
    false,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import column, table

from bot.blockkit import MARK_START, MARK_STOP
from bot.meetings import Meeting
from bot.store.db import insert_ignore
from handlers.search.passages import decisions_of, passages_of
from handlers.search.tables import CONFIG, FTS, PASSAGES, VECTOR, StoredMeeting, StoredPassage
from understanding.types import Passage

#: Words of a query used at most: a pasted paragraph is not a search.
QUERY_WORDS = 16
#: Passages ranked per search before they are grouped into meetings.
CANDIDATES = 200
#: Newest matching passages ranked at most (see ``_ranked``).
RECENT = 2000
#: Moments shown per meeting.
MOMENTS = 3
#: Words around the matches in a snippet.
SNIPPET_WORDS = 24
#: Words too common to find anything by in a question (``/debrief ask``).
_STOPWORDS = """
a about above after again all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from had has have
having he her here hers him his how i if in into is it its just me more most my no nor not
now of off on once only or other our ours out over own same she should so some such than
that the their theirs them then there these they this those through to too under until up
very was we were what when where which while who whom why will with would you your yours
said say says tell told anyone anybody someone meeting meetings
"""
STOPWORDS = frozenset(_STOPWORDS.split())

_WORD = re.compile(r"[^\W_]+")
#: The FTS5 table, as a FROM clause (SQLite only).
_FTS = table(FTS, column("rowid"))


@dataclass(frozen=True)
class MeetingKey:
    """A meeting's natural key."""

    provider: str
    meeting_id: str


@dataclass(frozen=True)
class Scope:
    """Whose search it is: the meetings of the channels they are in, and their own."""

    user_id: str
    channels: frozenset[str] = frozenset()
    #: Only meetings whose digest is in this channel (an answer posted there for all to read).
    only_channel: str | None = None


@dataclass(frozen=True)
class Filters:
    """What narrows a search: who spoke (any of these names), where, and when."""

    speakers: tuple[str, ...] = ()
    channel: str | None = None
    after: date | None = None
    before: date | None = None


@dataclass(frozen=True)
class Moment:
    """A passage that matched: who spoke, when (seconds from the start), and a snippet whose
    matched words are marked with ``MARK_START``/``MARK_STOP`` (``bot.blockkit.marked``)."""

    passage_id: int
    speaker: str | None
    start: float | None
    snippet: str


@dataclass
class MeetingHit:
    """A meeting that matched, best moments first."""

    id: int
    provider: str
    meeting_id: str
    title: str
    channel_id: str | None
    digest_ts: str | None
    permalink: str | None
    started_at: datetime | None
    score: float
    moments: list[Moment] = field(default_factory=list)


# --- writing ---


async def index_meeting(
    session: AsyncSession,
    meeting: Meeting,
    *,
    now: datetime,
    channel_id: str | None = None,
    digest_ts: str | None = None,
    permalink: str | None = None,
    requester_id: str | None = None,
    team_id: str | None = None,
) -> int:
    """Store ``meeting`` and index its passages; storing it again replaces what was stored
    (a re-delivery updates, never duplicates). Returns the stored meeting's id."""
    values: dict[str, Any] = {
        "team_id": team_id,
        "title": meeting.title[:300],
        "summary": meeting.summary,
        "decisions": decisions_of(meeting),
        "items": [item.model_dump(mode="json") for item in meeting.action_items],
        "started_at": meeting.started_at,
        "updated_at": now,
    }
    if channel_id:
        values.update(channel_id=channel_id, digest_ts=digest_ts, permalink=permalink)
    if requester_id:
        values["requester_id"] = requester_id
    key = {"provider": meeting.provider, "meeting_id": meeting.meeting_id}
    await insert_ignore(session, StoredMeeting, {**key, **values, "created_at": now})
    pk = (
        await session.execute(
            select(StoredMeeting.id).where(
                StoredMeeting.provider == meeting.provider,
                StoredMeeting.meeting_id == meeting.meeting_id,
            )
        )
    ).scalar_one()
    await session.execute(update(StoredMeeting).where(StoredMeeting.id == pk).values(**values))
    await session.execute(delete(StoredPassage).where(StoredPassage.meeting_pk == pk))
    rows = [
        {"meeting_pk": pk, "ordinal": n, "speaker": speaker, "start": start, "text": said}
        for n, (speaker, start, said) in enumerate(passages_of(meeting))
    ]
    if rows:
        await session.execute(insert(StoredPassage), rows)
    return int(pk)


async def forget(session: AsyncSession, key: MeetingKey | int) -> bool:
    """Delete a stored meeting, its passages and their index entries; False if it was not
    stored."""
    pk = key if isinstance(key, int) else await stored_id(session, key)
    if pk is None:
        return False
    # The foreign key cascades too; deleting the passages first does not rely on it.
    await session.execute(delete(StoredPassage).where(StoredPassage.meeting_pk == pk))
    result = await session.execute(delete(StoredMeeting).where(StoredMeeting.id == pk))
    return bool(getattr(result, "rowcount", 0))


async def stored_id(session: AsyncSession, key: MeetingKey) -> int | None:
    """The stored meeting's id, by its natural key."""
    found = await session.execute(
        select(StoredMeeting.id).where(
            StoredMeeting.provider == key.provider, StoredMeeting.meeting_id == key.meeting_id
        )
    )
    return found.scalar_one_or_none()


# --- reading ---


def words_of(query: str) -> list[str]:
    """The words of what a person typed (letters and digits), lower case, at most
    ``QUERY_WORDS``; no character of theirs is query syntax."""
    return [w.lower() for w in _WORD.findall(query)][:QUERY_WORDS]


def fts5_query(words: Sequence[str], *, any_word: bool = False) -> str:
    """An FTS5 MATCH expression: every word quoted (``AND``, ``NEAR``, ``*`` are words too)."""
    quoted = ['"' + w.replace('"', '""') + '"' for w in words]
    return (" OR " if any_word else " ").join(quoted)


def websearch_query(words: Sequence[str], *, any_word: bool = False) -> str:
    """A ``websearch_to_tsquery`` text: the words, joined by ``or`` when any will do (the word
    "or" itself is an operator there, and a stop word anyway, so it is left out)."""
    kept = [w for w in words if w != "or"]
    return (" or " if any_word else " ").join(kept)


def _scope(scope: Scope) -> ColumnElement[bool]:
    visible = or_(
        StoredMeeting.channel_id.in_(sorted(scope.channels)) if scope.channels else false(),
        StoredMeeting.requester_id == scope.user_id,
    )
    if scope.only_channel is not None:
        return and_(visible, StoredMeeting.channel_id == scope.only_channel)
    return visible


def _filters(filters: Filters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.speakers:
        spoken = func.lower(func.coalesce(StoredPassage.speaker, ""))
        conditions.append(
            or_(*(spoken.contains(n.lower(), autoescape=True) for n in filters.speakers))
        )
    if filters.channel:
        conditions.append(StoredMeeting.channel_id == filters.channel)
    when = func.coalesce(StoredMeeting.started_at, StoredMeeting.created_at)
    if filters.after:
        conditions.append(when >= datetime.combine(filters.after, time(), UTC))
    if filters.before:
        conditions.append(when < datetime.combine(filters.before, time(), UTC))
    return conditions


@dataclass(frozen=True)
class _Row:
    passage_id: int
    meeting_pk: int
    speaker: str | None
    start: float | None
    text: str
    score: float


def _is_sqlite(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "sqlite"


async def _ranked(
    session: AsyncSession,
    words: Sequence[str],
    conditions: Sequence[ColumnElement[bool]],
    limit: int,
    *,
    any_word: bool,
) -> list[_Row]:
    """The best-ranked passages matching ``words`` under ``conditions``, best first.

    Only the ``RECENT`` newest matching passages are ranked: a word said in every meeting
    would otherwise make both engines score hundreds of thousands of passages (seconds), where
    the newest few thousand score in milliseconds; a rarer word's matches are all ranked.
    """
    statement: Select[Any]
    if _is_sqlite(session):
        # bm25 is lower for better matches; FTS5 walks its rowids newest first and stops.
        rank = func.bm25(literal_column(FTS))
        statement = (
            select(StoredPassage.id.label("pid"), (-rank).label("score"))
            .select_from(_FTS)
            .join(StoredPassage, StoredPassage.id == _FTS.c.rowid)
            .where(
                text(f"{FTS} MATCH :match").bindparams(match=fts5_query(words, any_word=any_word))
            )
            .order_by(_FTS.c.rowid.desc())
        )
    else:
        # A prepared statement's generic plan cannot tell a rare word from one in every
        # passage, and scans them all for the latter: plan each search for its own words.
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        query = _tsquery(websearch_query(words, any_word=any_word))
        vector: ColumnElement[Any] = literal_column(f"{PASSAGES}.{VECTOR}")
        statement = (
            select(StoredPassage.id.label("pid"), func.ts_rank_cd(vector, query).label("score"))
            .where(vector.op("@@")(query))
            .order_by(StoredPassage.id.desc())
        )
    statement = statement.join(StoredMeeting, StoredMeeting.id == StoredPassage.meeting_pk)
    newest = statement.where(*conditions).limit(RECENT).subquery()
    best = (
        select(
            StoredPassage.id,
            StoredPassage.meeting_pk,
            StoredPassage.speaker,
            StoredPassage.start,
            StoredPassage.text,
            newest.c.score,
        )
        .join(newest, newest.c.pid == StoredPassage.id)
        .order_by(newest.c.score.desc(), StoredPassage.id.desc())
        .limit(limit)
    )
    rows = await session.execute(best)
    return [_Row(r[0], r[1], r[2], r[3], r[4], float(r[5] or 0.0)) for r in rows]


def _tsquery(query: str) -> Any:
    return func.websearch_to_tsquery(literal_column(f"'{CONFIG}'::regconfig"), query)


async def _snippets(
    session: AsyncSession, words: Sequence[str], ids: Sequence[int]
) -> dict[int, str]:
    """The marked snippet of each passage in ``ids``, computed only for those shown."""
    if not ids:
        return {}
    if _is_sqlite(session):
        snippet = func.snippet(literal_column(FTS), 0, MARK_START, MARK_STOP, "…", SNIPPET_WORDS)
        statement = (
            select(_FTS.c.rowid, snippet)
            .select_from(_FTS)
            .where(text(f"{FTS} MATCH :match").bindparams(match=fts5_query(words, any_word=True)))
            .where(_FTS.c.rowid.in_(list(ids)))
        )
    else:
        options = (
            f"StartSel={MARK_START}, StopSel={MARK_STOP}, MaxWords={SNIPPET_WORDS}, "
            f'MinWords={SNIPPET_WORDS // 2}, MaxFragments=2, FragmentDelimiter=" … "'
        )
        headline = func.ts_headline(
            literal_column(f"'{CONFIG}'::regconfig"),
            StoredPassage.text,
            _tsquery(websearch_query(words, any_word=True)),
            options,
        )
        statement = select(StoredPassage.id, headline).where(StoredPassage.id.in_(list(ids)))
    return {int(r[0]): str(r[1] or "") for r in await session.execute(statement)}


async def search(
    session: AsyncSession,
    query: str,
    scope: Scope,
    filters: Filters | None = None,
    limit: int = 5,
) -> list[MeetingHit]:
    """The meetings in ``scope`` matching every word of ``query``, best first, each with its
    best moments (at most ``MOMENTS``)."""
    words = words_of(query)
    if not words:
        return []
    conditions = [_scope(scope), *_filters(filters or Filters())]
    rows = await _ranked(session, words, conditions, CANDIDATES, any_word=False)
    grouped: dict[int, list[_Row]] = {}
    for row in rows:
        grouped.setdefault(row.meeting_pk, []).append(row)
    best = sorted(grouped.items(), key=lambda kv: -sum(r.score for r in kv[1][:MOMENTS]))[:limit]
    if not best:
        return []
    shown = [row for _pk, group in best for row in group[:MOMENTS]]
    snippets = await _snippets(session, words, [r.passage_id for r in shown])
    meetings = await _meetings(session, [pk for pk, _group in best])
    hits: list[MeetingHit] = []
    for pk, group in best:
        stored = meetings[pk]
        hits.append(
            MeetingHit(
                id=pk,
                provider=stored.provider,
                meeting_id=stored.meeting_id,
                title=stored.title,
                channel_id=stored.channel_id,
                digest_ts=stored.digest_ts,
                permalink=stored.permalink,
                started_at=stored.started_at,
                score=sum(r.score for r in group[:MOMENTS]),
                moments=[
                    Moment(r.passage_id, r.speaker, r.start, snippets.get(r.passage_id, r.text))
                    for r in group[:MOMENTS]
                ],
            )
        )
    return hits


async def search_passages(
    session: AsyncSession,
    query: str,
    scope: Scope,
    meeting_key: MeetingKey | None = None,
    limit: int = 20,
) -> list[Passage]:
    """The passages in ``scope`` that share words with a question, best first; those of
    ``meeting_key`` (the meeting a question was asked about) before any other."""
    words = [w for w in words_of(query) if w not in STOPWORDS] or words_of(query)
    if not words:
        return []
    conditions = [_scope(scope)]
    rows: list[_Row] = []
    if meeting_key is not None:
        first = StoredMeeting.id == (await stored_id(session, meeting_key) or -1)
        rows = await _ranked(session, words, [*conditions, first], limit, any_word=True)
    if len(rows) < limit:
        seen = {r.passage_id for r in rows}
        more = await _ranked(session, words, conditions, limit, any_word=True)
        rows += [r for r in more if r.passage_id not in seen][: limit - len(rows)]
    meetings = await _meetings(session, list({r.meeting_pk for r in rows}))
    return [
        Passage(
            ref=passage_ref(r.meeting_pk, r.passage_id),
            text=r.text,
            speaker=r.speaker,
            start=r.start,
            meeting_title=meetings[r.meeting_pk].title,
            score=r.score,
        )
        for r in rows
    ]


def passage_ref(meeting_pk: int, passage_id: int) -> str:
    """The handle a citation carries: the stored meeting and the passage."""
    return f"{meeting_pk}:{passage_id}"


def parse_ref(ref: str) -> tuple[int, int] | None:
    """A citation's stored meeting and passage ids; None for a ref this module did not make."""
    meeting, _, passage = ref.partition(":")
    if not (meeting.isdigit() and passage.isdigit()):
        return None
    return int(meeting), int(passage)


async def _meetings(session: AsyncSession, ids: Sequence[int]) -> dict[int, StoredMeeting]:
    if not ids:
        return {}
    rows = await session.execute(select(StoredMeeting).where(StoredMeeting.id.in_(list(ids))))
    return {m.id: m for m in rows.scalars()}


async def meetings_by_id(session: AsyncSession, ids: Sequence[int]) -> dict[int, StoredMeeting]:
    """Stored meetings by id (for citations)."""
    return await _meetings(session, ids)


def day_after(day: date) -> date:
    """The day after ``day``: ``before:`` a date excludes it, ``after:`` one includes it."""
    return day + timedelta(days=1)
