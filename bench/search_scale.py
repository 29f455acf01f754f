"""Search at scale: ``/debrief search`` p50/p95 over a fixed query set, index size per meeting
and the cost of indexing one, on an SQLite file and on PostgreSQL, with synthetic meetings.

Each meeting is ~10,000 words in ~100 passages drawn from a pool of passages whose words follow
a Zipf law (s = 1.07) over a 30,000-word synthetic vocabulary, with a deterministic seed; each
meeting also says its own rare code word. The meetings' digests are spread over 50 channels and
the searcher is in 10 of them, so the privacy scope is part of every query (as in production).
Bulk-loaded (one multi-row insert per batch of passages, the index maintained as it goes: FTS5
triggers, the generated tsvector column and its GIN index); the cost of indexing one meeting is
measured separately, through ``index_meeting`` itself. The anchor is a plain ``LIKE '%word%'``
scan over the same passages at the smallest size.

``python -m bench.search_scale [--sizes 1000,3000,10000] [--quick] [--no-write]``.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import random
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from bench.e2e import POSTGRES_ADMIN_URL
from bench.harness import create_postgres_database, drop_postgres_database, migrate, percentile
from bench.report import Section, run_one, table
from bot.meetings import Meeting, Utterance
from bot.store.db import create_engine, create_sessionmaker, transaction
from handlers.search.index import Scope, index_meeting, search
from handlers.search.tables import StoredMeeting, StoredPassage

SEED = 17
VOCABULARY = 30_000
ZIPF_S = 1.07
POOL = 4_000
PASSAGE_WORDS = 100
PASSAGES_PER_MEETING = 100
CHANNELS = 50
SEARCHER_CHANNELS = 10
SIZES = (1_000, 3_000, 10_000)
QUICK_SIZES = (200,)
DATABASES = ("sqlite", "postgresql")
#: Each query of the set is run this many times (after one warm-up run).
REPEATS = 5
#: Meetings indexed one by one through ``index_meeting`` to measure its cost.
INDEX_SAMPLE = 20
_SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in "aeiou"]


def vocabulary(rng: random.Random) -> list[str]:
    """Distinct pronounceable words, most frequent first."""
    words: list[str] = []
    seen: set[str] = set()
    while len(words) < VOCABULARY:
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((1, 2, 2, 3, 3, 4))))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


class Corpus:
    """The deterministic synthetic transcripts."""

    def __init__(self) -> None:
        rng = random.Random(SEED)
        self.words = vocabulary(rng)
        weights = list(accumulate(1 / (rank**ZIPF_S) for rank in range(1, VOCABULARY + 1)))
        total = weights[-1]

        def draw() -> str:
            return self.words[bisect.bisect_left(weights, rng.random() * total)]

        self.pool = [" ".join(draw() for _ in range(PASSAGE_WORDS)) + "." for _ in range(POOL)]
        self.rng = rng

    def code(self, n: int) -> str:
        """The rare word meeting ``n`` (and only it) says."""
        return f"zq{n:05d}x"

    def meeting(self, n: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        rng = random.Random(SEED * 1_000_003 + n)
        passages = [
            {
                "ordinal": k,
                "speaker": f"Speaker {rng.randrange(8)}",
                "start": 45.0 * k,
                "text": rng.choice(self.pool) if k else f"Weekly sync {self.code(n)} summary.",
            }
            for k in range(PASSAGES_PER_MEETING + 1)
        ]
        started = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=n)
        row = {
            "provider": "bench",
            "meeting_id": f"m{n}",
            "title": f"Weekly sync {n}",
            "summary": "",
            "decisions": [],
            "items": [],
            "started_at": started,
            "channel_id": f"C{n % CHANNELS:08d}",
            "digest_ts": f"{1700000000 + n}.000100",
            "created_at": started,
            "updated_at": started,
        }
        return row, passages

    def as_meeting(self, n: int) -> Meeting:
        _row, passages = self.meeting(n)
        return Meeting(
            provider="bench-live",
            meeting_id=f"live{n}",
            title=f"Live {n}",
            transcript=[
                Utterance(speaker=p["speaker"], text=p["text"], start_seconds=p["start"])
                for p in passages[1:]
            ],
        )

    def queries(self, meetings: int) -> list[tuple[str, str]]:
        """(kind, words): the fixed query set, the same at every size."""
        w = self.words
        return [
            # Meetings the searcher can see (their digests are in the channels it is in).
            ("rare code word", self.code(meetings // 2 // CHANNELS * CHANNELS + 3)),
            ("rare code word", self.code(meetings // 3 // CHANNELS * CHANNELS + 7)),
            ("rank 5,000 word", w[5_000]),
            ("rank 20,000 word", w[20_000]),
            ("rank 500 word", w[500]),
            ("rank 50 word", w[50]),
            ("most common word", w[0]),
            ("two words", f"{w[30]} {w[200]}"),
            ("three words", f"{w[3]} {w[40]} {w[400]}"),
        ]


async def load(url: str, corpus: Corpus, meetings: int, batch: int = 50) -> float:
    """Bulk-insert ``meetings`` meetings and their passages; seconds taken."""
    engine = create_engine(url)
    started = time.perf_counter()
    try:
        for first in range(0, meetings, batch):
            async with engine.begin() as connection:
                built = [corpus.meeting(n) for n in range(first, min(meetings, first + batch))]
                ids = (
                    await connection.execute(
                        insert(StoredMeeting).returning(
                            StoredMeeting.id, sort_by_parameter_order=True
                        ),
                        [row for row, _ in built],
                    )
                ).scalars()
                rows = [
                    {"meeting_pk": pk, **p}
                    for pk, (_row, passages) in zip(list(ids), built, strict=True)
                    for p in passages
                ]
                await connection.execute(insert(StoredPassage), rows)
    finally:
        await engine.dispose()
    return time.perf_counter() - started


async def index_size(url: str) -> int:
    """Bytes of the full-text index (FTS5's tables; the tsvector column and its GIN index)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            if url.startswith("sqlite"):
                found = await connection.scalar(
                    text("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'search_passages_fts%'")
                )
            else:
                found = await connection.scalar(
                    text(
                        "SELECT pg_relation_size('ix_search_passages_search_vector') + "
                        "(SELECT count(*) FROM search_passages) * "
                        "(SELECT avg(pg_column_size(search_vector)) FROM "
                        "(SELECT search_vector FROM search_passages LIMIT 2000) s)"
                    )
                )
        return int(found or 0)
    finally:
        await engine.dispose()


async def timed_searches(
    url: str, corpus: Corpus, meetings: int
) -> tuple[list[float], list[tuple[str, float, int]]]:
    """Every search's seconds, and each query's median with its hit count."""
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    scope = Scope("U0BENCH", frozenset(f"C{n:08d}" for n in range(SEARCHER_CHANNELS)))
    every: list[float] = []
    per_query: list[tuple[str, float, int]] = []
    try:
        for kind, words in corpus.queries(meetings):
            times = []
            hits = 0
            for attempt in range(REPEATS + 1):
                async with sessions() as session:
                    started = time.perf_counter()
                    found = await search(session, words, scope)
                    seconds = time.perf_counter() - started
                hits = len(found)
                if attempt:
                    times.append(seconds)
            every += times
            per_query.append((kind, percentile(times, 50), hits))
    finally:
        await engine.dispose()
    return every, per_query


async def like_scan(url: str, corpus: Corpus, meetings: int) -> list[tuple[str, float]]:
    """The anchor: the same words found with ``LIKE '%word%'`` over every passage."""
    engine = create_engine(url)
    out = []
    try:
        for kind, words in corpus.queries(meetings)[:1] + corpus.queries(meetings)[4:6]:
            async with engine.connect() as connection:
                started = time.perf_counter()
                await connection.execute(
                    text(
                        "SELECT DISTINCT meeting_pk FROM search_passages WHERE text LIKE :w "
                        "LIMIT 200"
                    ),
                    {"w": f"%{words}%"},
                )
                out.append((kind, time.perf_counter() - started))
    finally:
        await engine.dispose()
    return out


async def indexing_cost(url: str, corpus: Corpus) -> float:
    """Mean seconds of ``index_meeting`` for one ~10,000-word meeting, in its own transaction."""
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    times = []
    try:
        for n in range(INDEX_SAMPLE):
            meeting = corpus.as_meeting(n)
            started = time.perf_counter()
            async with transaction(sessions) as session:
                await index_meeting(session, meeting, now=datetime.now(UTC), channel_id="C0LIVE")
            times.append(time.perf_counter() - started)
    finally:
        await engine.dispose()
    return sum(times) / len(times)


async def measure(url: str, corpus: Corpus, meetings: int, anchor: bool) -> dict[str, Any]:
    await migrate(url)
    loaded = await load(url, corpus, meetings)
    if url.startswith("postgresql"):
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                await connection.execute(text("VACUUM ANALYZE search_passages"))
                await connection.execute(text("VACUUM ANALYZE search_meetings"))
        finally:
            await engine.dispose()
    size = await index_size(url)
    every, per_query = await timed_searches(url, corpus, meetings)
    like = await like_scan(url, corpus, meetings) if anchor else []
    cost = await indexing_cost(url, corpus)
    return {
        "meetings": meetings,
        "load": loaded,
        "size": size,
        "p50": percentile(every, 50),
        "p95": percentile(every, 95),
        "per_query": per_query,
        "like": like,
        "index_cost": cost,
    }


async def on_sqlite(corpus: Corpus, meetings: int, anchor: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        return await measure(
            f"sqlite+aiosqlite:///{Path(folder) / 'search.db'}", corpus, meetings, anchor
        )


async def on_postgres(corpus: Corpus, meetings: int, anchor: bool) -> dict[str, Any] | None:
    try:
        url = await create_postgres_database(POSTGRES_ADMIN_URL)
    except Exception as exc:  # no server: say so in the report
        print(f"PostgreSQL not reachable ({type(exc).__name__}); skipped", flush=True)
        return None
    try:
        return await measure(url, corpus, meetings, anchor)
    finally:
        with contextlib.suppress(Exception):
            await drop_postgres_database(POSTGRES_ADMIN_URL, url)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def report(results: list[tuple[str, dict[str, Any]]]) -> str:
    rows = [
        (
            database,
            f"{r['meetings']:,}",
            f"{r['meetings'] * PASSAGES_PER_MEETING * PASSAGE_WORDS / 1e6:.1f} M",
            _ms(r["p50"]),
            _ms(r["p95"]),
            f"{r['size'] / r['meetings'] / 1024:.0f} KiB",
            _ms(r["index_cost"]),
            f"{r['load']:.0f} s",
        )
        for database, r in results
    ]
    body = table(
        (
            "database",
            "meetings",
            "words",
            "search p50 ms",
            "search p95 ms",
            "index per meeting",
            "index_meeting ms",
            "bulk load",
        ),
        rows,
    )
    detail = [
        (database, f"{r['meetings']:,}", kind, _ms(median), hits)
        for database, r in results
        for kind, median, hits in r["per_query"]
    ]
    body += "\n\nPer query (median of the repeats; hits = meetings shown, at most 5):\n\n"
    body += table(("database", "meetings", "query", "ms", "hits"), detail)
    anchors = [
        (database, f"{r['meetings']:,}", kind, _ms(seconds))
        for database, r in results
        for kind, seconds in r["like"]
    ]
    if anchors:
        body += "\n\nAnchor: the same words with `LIKE '%word%'` over every passage "
        body += "(first 200 meetings; no index can serve it):\n\n"
        body += table(("database", "meetings", "query", "ms"), anchors)
    return body


async def run_sizes(sizes: Sequence[int], databases: Sequence[str] = DATABASES) -> Section:
    corpus = Corpus()
    results: list[tuple[str, dict[str, Any]]] = []
    for number, meetings in enumerate(sizes):
        anchor = number == 0
        if "sqlite" in databases:
            print(f"SQLite, {meetings} meetings…", flush=True)
            results.append(("SQLite", await on_sqlite(corpus, meetings, anchor)))
        if "postgresql" in databases:
            print(f"PostgreSQL, {meetings} meetings…", flush=True)
            found = await on_postgres(corpus, meetings, anchor)
            if found is not None:
                results.append(("PostgreSQL", found))
    body = (
        f"Synthetic meetings of {PASSAGES_PER_MEETING} passages × {PASSAGE_WORDS} words "
        f"(Zipf s={ZIPF_S} over {VOCABULARY:,} words, seed {SEED}); digests in {CHANNELS} "
        f"channels, the searcher in {SEARCHER_CHANNELS}; {REPEATS} runs of each of "
        f"{len(corpus.queries(1))} queries through `handlers.search.index.search` (grouping "
        "and snippets included). Goal: p95 ≤ 100 ms at 10,000 meetings. The index size is "
        "FTS5's tables on SQLite, and the GIN index plus the generated tsvector column on "
        "PostgreSQL; `index_meeting` is one ~10,000-word meeting stored and indexed in its own "
        "transaction, with the data already there.\n\n"
    )
    return Section("search_scale", "Search at scale", body + report(results))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.search_scale", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one small size, to check it works")
    parser.add_argument("--no-write", action="store_true", help="print only; leave the doc")
    parser.add_argument(
        "--sizes",
        default="",
        help="meeting counts, comma-separated (default 1000,3000,10000)",
    )
    parser.add_argument(
        "--databases", default="sqlite,postgresql", help="sqlite, postgresql or both"
    )
    args = parser.parse_args(argv)
    sizes = tuple(int(s) for s in args.sizes.split(",") if s.strip()) or SIZES
    databases = tuple(d.strip() for d in args.databases.split(","))

    async def chosen(quick: bool) -> Section:
        return await run_sizes(QUICK_SIZES if quick else sizes, databases)

    print(run_one("search_scale", chosen, quick=args.quick, write=not args.no_write))
    return 0


async def run(quick: bool) -> Section:
    """``python -m bench``'s entry: every size (or the quick one)."""
    return await run_sizes(QUICK_SIZES if quick else SIZES)


if __name__ == "__main__":
    raise SystemExit(main())
