"""The durable job queue and its workers.

A job is a row in ``jobs``, written in the caller's transaction, so that it exists exactly when
what caused it was committed. Workers claim due jobs with a lease (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL; SQLite serialises writers itself), keep the lease alive while they run, and either
finish the job, put it back with exponential backoff, or mark it dead and tell an operator.
A job whose worker died is claimed again once its lease has run out.

Recovery from a crash is bounded by these timings: a dead worker's last heartbeat was at most
``heartbeat_seconds`` ago, its lease runs out ``lease_seconds`` after that heartbeat, and an idle
worker looks for due jobs every ``poll_seconds`` (the expired lease makes the job due: no sweep
needs to run first). Rows a job leases (``bot/leases.py``) are free the moment its lease runs
out, so the job claimed again resumes at once: with the defaults, within 35 s of the crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar, cast

import pydantic
from sqlalchemy import Table, and_, event, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.leases import LeaseHolder, running_job
from bot.logs import trace_id
from bot.store.bulk import insert_new
from bot.store.db import insert_ignore, rowcount, write
from bot.store.models import Job, utcnow

log = logging.getLogger(__name__)

JOBS = cast(Table, Job.__table__)

PayloadT = TypeVar("PayloadT", bound=pydantic.BaseModel)
#: What job functions are given: ``bot.services.Services`` in the app, a recorder in tests.
ServicesT = TypeVar("ServicesT")
ErrorT = TypeVar("ErrorT", bound=BaseException)
Clock = Callable[[], datetime]


class PermanentJobError(Exception):
    """A failure that retrying cannot fix; the job goes dead at once."""

    retryable = False


@dataclass(frozen=True)
class Verdict:
    """What a failure declares about itself: whether a later attempt may succeed, and how long
    to wait at least before it (the backoff applies when it is longer)."""

    retryable: bool
    retry_after: float | None = None


class RetryLater(Exception):
    """Not a failure: run the job again after ``delay`` seconds (polling), without counting it."""

    def __init__(self, delay: float, reason: str = "") -> None:
        super().__init__(reason or f"retry in {delay:.0f}s")
        self.delay = delay


@dataclass(frozen=True)
class JobRun:
    """What a job function learns about the run it is in."""

    job_id: int
    kind: str
    attempt: int
    max_attempts: int

    @property
    def is_last_attempt(self) -> bool:
        return self.attempt >= self.max_attempts


JobFunc = Callable[[ServicesT, PayloadT, JobRun], Awaitable[None]]
DeadFunc = Callable[[ServicesT, PayloadT, str], Awaitable[None]]


@dataclass(frozen=True)
class JobSpec(Generic[ServicesT, PayloadT]):
    """A registered job kind: its function, payload model and what to do when it dies."""

    kind: str
    func: JobFunc[ServicesT, PayloadT]
    model: type[PayloadT]
    on_dead: DeadFunc[ServicesT, PayloadT] | None = None
    max_attempts: int | None = None
    #: Empty the payload once the job is done: for payloads too large, or too private, to keep
    #: for the days a done job is kept (a dead job keeps its payload for the operators).
    forget_payload: bool = False


class JobRegistry(Generic[ServicesT]):
    """Job kinds by name, and how to judge failures no job declares; features add theirs in
    ``register``.

    Generic over what jobs are given, so that the type checker holds each job function to its
    payload model and to the services it is run with.
    """

    def __init__(self) -> None:
        self._specs: dict[str, JobSpec[ServicesT, Any]] = {}
        self._judges: dict[type[BaseException], Callable[[Any], Verdict]] = {}

    def add(
        self,
        kind: str,
        func: JobFunc[ServicesT, PayloadT],
        model: type[PayloadT],
        *,
        on_dead: DeadFunc[ServicesT, PayloadT] | None = None,
        max_attempts: int | None = None,
        forget_payload: bool = False,
    ) -> None:
        if kind in self._specs:
            raise ValueError(f"job kind {kind!r} registered twice")
        self._specs[kind] = JobSpec(kind, func, model, on_dead, max_attempts, forget_payload)

    def get(self, kind: str) -> JobSpec[ServicesT, Any] | None:
        return self._specs.get(kind)

    def judge(self, error: type[ErrorT], verdict: Callable[[ErrorT], Verdict]) -> None:
        """Judge failures of type ``error`` (and its subclasses) with ``verdict``: for errors of
        a library that cannot declare ``retryable`` themselves (Slack's)."""
        if error in self._judges:
            raise ValueError(f"failures of {error.__name__} judged twice")
        self._judges[error] = verdict

    def verdict(self, exc: BaseException) -> Verdict | None:
        """What ``exc`` declares about retrying, or None for a failure nobody foresaw.

        A judge registered for its type (the nearest in its class hierarchy) decides; else the
        exception's own ``retryable`` and ``retry_after`` attributes.
        """
        for cls in type(exc).__mro__:
            judge = self._judges.get(cls)
            if judge is not None:
                return judge(exc)
        retryable = getattr(exc, "retryable", None)
        if not isinstance(retryable, bool):
            return None
        retry_after = getattr(exc, "retry_after", None)
        return Verdict(retryable, retry_after if isinstance(retry_after, int | float) else None)

    def kinds(self) -> list[str]:
        return sorted(self._specs)


@dataclass(frozen=True)
class QueueConfig:
    """Timings of the queue; tests shrink them.

    A job lease is renewed every ``heartbeat_seconds`` (a third of the lease when None), so that
    a worker alive but slow to write (a database that blinks) misses two beats before it loses
    its job; what a crash costs is at most ``lease_seconds + poll_seconds`` before the job runs
    again.
    """

    lease_seconds: float = 30.0
    max_attempts: int = 6
    backoff_base: float = 2.0
    backoff_cap: float = 3600.0
    poll_seconds: float = 5.0
    heartbeat_seconds: float | None = None

    def __post_init__(self) -> None:
        if self.heartbeat_seconds is not None and self.heartbeat_seconds >= self.lease_seconds:
            raise ValueError("the job heartbeat must come more often than the lease runs out")

    @property
    def heartbeat(self) -> float:
        """Seconds between two renewals of a running job's lease."""
        return self.heartbeat_seconds or self.lease_seconds / 3


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: about ``base * 4**(attempt-1)`` seconds, capped."""
    nominal = min(cap, base * 4 ** (attempt - 1))
    return nominal * (0.75 + 0.5 * (rng or random).random())


class JobQueue:
    """Enqueue, claim, finish and fail jobs; wakes local workers when a job is committed."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        registry: JobRegistry[Any],
        config: QueueConfig | None = None,
        *,
        clock: Clock = utcnow,
    ) -> None:
        self.sessions = sessions
        self.registry = registry
        self.config = config or QueueConfig()
        self.clock = clock
        self._wake = asyncio.Event()
        self.counts: dict[str, int] = {"done": 0, "retried": 0, "dead": 0, "claimed": 0}

    def wake(self) -> None:
        """Tell idle workers in this process that a job may be due."""
        self._wake.set()

    async def wait(self, seconds: float) -> None:
        """Sleep until woken or ``seconds`` pass."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def enqueue(
        self,
        session: AsyncSession,
        kind: str,
        payload: pydantic.BaseModel | dict[str, Any],
        *,
        delay: float = 0.0,
        run_at: datetime | None = None,
        dedupe_key: str | None = None,
    ) -> bool:
        """Add a job in ``session``'s transaction; False when ``dedupe_key`` already exists."""
        values = self.job_values(kind, payload, delay=delay, run_at=run_at, dedupe_key=dedupe_key)
        if dedupe_key is None:
            session.add(Job(**values))
            inserted = True
        else:
            inserted = await insert_ignore(session, Job, values)
        if inserted:
            _on_commit(session, self.wake)
        return inserted

    async def submit(
        self,
        kind: str,
        payload: pydantic.BaseModel | dict[str, Any],
        *,
        delay: float = 0.0,
        dedupe_key: str | None = None,
    ) -> bool:
        """:meth:`enqueue` in a transaction of its own, committed when this returns: the work
        is durable before whoever asked for it hears back. False when ``dedupe_key`` exists."""
        async with self.sessions() as session, session.begin():
            return await self.enqueue(session, kind, payload, delay=delay, dedupe_key=dedupe_key)

    async def enqueue_with(
        self,
        table: Table,
        rows: list[dict[str, Any]],
        key: tuple[str, ...],
        jobs: list[dict[str, Any]],
    ) -> set[tuple[Any, ...]]:
        """Insert each of ``rows`` into ``table`` unless its unique ``key`` is taken and, with
        each one inserted, its job (``jobs[i]``, made by :meth:`job_values`, goes with
        ``rows[i]``), in one transaction; the keys inserted. Committed when this returns."""
        inserted = await insert_new(self.sessions, table, rows, key, JOBS, jobs)
        if inserted:
            self.wake()
        return inserted

    def job_values(
        self,
        kind: str,
        payload: pydantic.BaseModel | dict[str, Any],
        *,
        delay: float = 0.0,
        run_at: datetime | None = None,
        dedupe_key: str | None = None,
        trace: str | None = None,
    ) -> dict[str, Any]:
        """A new job's row; refuses (ValueError) a kind or payload no job could run."""
        spec = self.registry.get(kind)
        if spec is None:
            raise ValueError(f"unknown job kind {kind!r}")
        data = (
            payload.model_dump(mode="json") if isinstance(payload, pydantic.BaseModel) else payload
        )
        spec.model.model_validate(data)  # refuse a payload the job could never read
        now = self.clock()
        return {
            "kind": kind,
            "payload": data,
            "status": "queued",
            "attempts": 0,
            "max_attempts": spec.max_attempts or self.config.max_attempts,
            "run_at": run_at or (now + timedelta(seconds=delay) if delay else now),
            "dedupe_key": dedupe_key,
            "trace_id": trace or trace_id.get(),
            "created_at": now,
            "updated_at": now,
        }

    async def claim(self, worker: str) -> Job | None:
        """Lease the next due job (queued, or running with an expired lease) to ``worker``."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            due = or_(
                and_(Job.status == "queued", Job.run_at <= now),
                and_(Job.status == "running", Job.lease_until < now),
            )
            job = (
                await session.execute(
                    select(Job)
                    .where(due)
                    .order_by(Job.run_at, Job.id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
            ).scalar_one_or_none()
            if job is None:
                return None
            if job.status == "running":
                log.warning(
                    "job %s %s: lease of %s expired, picking it up", job.id, job.kind, job.locked_by
                )
            job.status = "running"
            job.attempts += 1
            job.locked_by = worker
            job.lease_until = now + timedelta(seconds=self.config.lease_seconds)
            job.updated_at = now
        self.counts["claimed"] += 1
        return job

    async def extend(self, job: Job, worker: str) -> bool:
        """Renew the lease; False when another worker has taken the job over."""
        now = self.clock()
        return await self._while_held(
            job,
            worker,
            lease_until=now + timedelta(seconds=self.config.lease_seconds),
            updated_at=now,
        )

    async def finish(self, job: Job, worker: str) -> bool:
        """Mark a job done, unless its lease was lost meanwhile."""
        now = self.clock()
        values: dict[str, Any] = {"status": "done", "finished_at": now, "updated_at": now}
        spec = self.registry.get(job.kind)
        if spec is not None and spec.forget_payload:
            values["payload"] = {}
        done = await self._while_held(job, worker, lease_until=None, **values)
        if done:
            self.counts["done"] += 1
        return done

    async def release(
        self, job: Job, worker: str, *, delay: float, error: str | None, count_attempt: bool = True
    ) -> bool:
        """Put a job back to run again after ``delay`` seconds."""
        now = self.clock()
        values: dict[str, Any] = {
            "status": "queued",
            "run_at": now + timedelta(seconds=delay),
            "updated_at": now,
            "lease_until": None,
            "locked_by": None,
        }
        if error is not None:
            values["last_error"] = error
        if not count_attempt:
            values["attempts"] = Job.attempts - 1
        released = await self._while_held(job, worker, **values)
        if released and error is not None:
            self.counts["retried"] += 1
        return released

    async def bury(self, job: Job, worker: str, error: str) -> bool:
        """Mark a job dead after its last attempt or a permanent error."""
        now = self.clock()
        dead = await self._while_held(
            job,
            worker,
            status="dead",
            last_error=error,
            finished_at=now,
            updated_at=now,
            lease_until=None,
        )
        if dead:
            self.counts["dead"] += 1
        return dead

    async def _while_held(self, job: Job, worker: str, **values: Any) -> bool:
        """Update ``job`` only while ``worker`` still holds its lease; False when it lost it (a
        worker that took the job over after the lease ran out must not be overwritten)."""
        return await write(
            self.sessions,
            update(Job)
            .where(Job.id == job.id, Job.locked_by == worker, Job.status == "running")
            .values(**values),
        )

    async def sweep(self) -> int:
        """Return running jobs whose lease expired to the queue; how many were returned."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                update(Job)
                .where(Job.status == "running", Job.lease_until < now)
                .values(
                    status="queued", run_at=now, locked_by=None, lease_until=None, updated_at=now
                )
            )
        swept = rowcount(result)
        if swept:
            log.warning("returned %d job(s) with expired leases to the queue", swept)
            self.wake()
        return swept

    async def stats(self) -> dict[str, int]:
        """Jobs by status, for /metrics and doctor."""
        async with self.sessions() as session:
            rows = (
                await session.execute(select(Job.status, func.count()).group_by(Job.status))
            ).all()
        return {status: count for status, count in rows}


def _on_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    sync_session = session.sync_session
    if sync_session.info.get("debrief_wake_registered"):
        return
    sync_session.info["debrief_wake_registered"] = True

    def after_commit(_session: Any) -> None:
        sync_session.info.pop("debrief_wake_registered", None)
        callback()

    def after_rollback(_session: Any, _previous: Any) -> None:
        # A wake after a rollback is harmless (the worker finds nothing); only forget the mark
        # so that a later transaction in this session registers again.
        sync_session.info.pop("debrief_wake_registered", None)

    event.listen(sync_session, "after_commit", after_commit, once=True)
    event.listen(sync_session, "after_soft_rollback", after_rollback, once=True)


@dataclass(frozen=True)
class Outcome:
    """How one run of a job ended, for its log line."""

    text: str
    dead: bool = False


DONE = Outcome("done")
DEAD = Outcome("dead", dead=True)


class Worker(Generic[ServicesT]):
    """Runs jobs from a queue until stopped; several may run in one process."""

    def __init__(
        self,
        queue: JobQueue,
        services: ServicesT,
        *,
        name: str | None = None,
        on_dead: Callable[[Job, str], Awaitable[None]] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.queue = queue
        self.services = services
        self.name = name or f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
        self._on_dead = on_dead
        self._rng = rng
        self._stopping = False

    def stop(self) -> None:
        self._stopping = True
        self.queue.wake()

    async def run(self) -> None:
        """Claim and run jobs until :meth:`stop`; never lets one job's failure end the loop."""
        while not self._stopping:
            try:
                job = await self.queue.claim(self.name)
            except Exception:  # the database blinked; try again shortly, never die
                log.exception("worker %s could not claim a job", self.name)
                await asyncio.sleep(1.0)
                continue
            if job is None:
                await self.queue.wait(self.queue.config.poll_seconds)
                continue
            await self.run_job(job)

    async def run_one(self) -> bool:
        """Claim and run a single due job, if any (for tests and drain loops)."""
        job = await self.queue.claim(self.name)
        if job is None:
            return False
        await self.run_job(job)
        return True

    async def run_job(self, job: Job) -> None:
        token = trace_id.set(job.trace_id or f"job-{job.id}")
        # Rows the job leases are held by this claim of it, for as long as its lease lives.
        holder = running_job.set(LeaseHolder(job.id, self.name))
        started = time.perf_counter()
        heartbeat = asyncio.create_task(self._heartbeat(job))
        outcome = DONE
        try:
            outcome = await self._execute(job)
        finally:
            heartbeat.cancel()
            elapsed = (time.perf_counter() - started) * 1000
            level = logging.ERROR if outcome.dead else logging.INFO
            log.log(
                level,
                "job %s %s attempt %d/%d %s in %.0fms",
                job.id,
                job.kind,
                job.attempts,
                job.max_attempts,
                outcome.text,
                elapsed,
            )
            running_job.reset(holder)
            trace_id.reset(token)

    async def _execute(self, job: Job) -> Outcome:
        spec = self.queue.registry.get(job.kind)
        if spec is None:
            await self._bury(job, f"no job kind {job.kind!r} in this version", None, None)
            return Outcome("dead (unknown kind)", dead=True)
        try:
            payload = spec.model.model_validate(job.payload)
        except pydantic.ValidationError as exc:
            await self._bury(job, f"unreadable payload: {exc}", None, None)
            return Outcome("dead (unreadable payload)", dead=True)
        run = JobRun(job.id, job.kind, job.attempts, job.max_attempts)
        try:
            await spec.func(self.services, payload, run)
        except RetryLater as wait:
            await self.queue.release(
                job, self.name, delay=wait.delay, error=None, count_attempt=False
            )
            return Outcome(f"polling again in {wait.delay:.0f}s")
        except asyncio.CancelledError:
            # Shutting down mid-job: leave it to be re-claimed when the lease runs out.
            raise
        except Exception as exc:
            verdict = self.queue.registry.verdict(exc)
            # A failure that declares itself is a provider's or Slack's, and expected; only one
            # nobody foresaw (our bug) is worth its traceback. It is retried: it may be passing.
            expected = verdict is not None
            error = _describe(exc, expected=expected)
            if (verdict is not None and not verdict.retryable) or job.attempts >= job.max_attempts:
                log.error(
                    "job %s %s failed for good: %s",
                    job.id,
                    job.kind,
                    error,
                    exc_info=not expected,
                )
                await self._bury(job, error, spec, payload)
                return DEAD
            delay = max(
                (verdict.retry_after if verdict is not None else None) or 0.0,
                backoff_delay(
                    job.attempts,
                    self.queue.config.backoff_base,
                    self.queue.config.backoff_cap,
                    self._rng,
                ),
            )
            log.warning(
                "job %s %s failed (%s); retrying in %.0fs",
                job.id,
                job.kind,
                error,
                delay,
                exc_info=not expected,
            )
            await self.queue.release(job, self.name, delay=delay, error=error)
            return Outcome("failed, will retry")
        await self.queue.finish(job, self.name)
        return DONE

    async def _bury(
        self, job: Job, error: str, spec: JobSpec[Any, Any] | None, payload: Any
    ) -> None:
        if not await self.queue.bury(job, self.name, error):
            return
        if spec is not None and spec.on_dead is not None:
            try:
                await spec.on_dead(self.services, payload, error)
            except Exception:
                log.exception(
                    "job %s %s: telling the requester about the failure failed", job.id, job.kind
                )
        if self._on_dead is not None:
            try:
                await self._on_dead(job, error)
            except Exception:
                log.exception("job %s %s: the operator notice failed", job.id, job.kind)

    async def _heartbeat(self, job: Job) -> None:
        interval = max(0.05, self.queue.config.heartbeat)
        while True:
            await asyncio.sleep(interval)
            try:
                if not await self.queue.extend(job, self.name):
                    log.warning("job %s %s: lease lost to another worker", job.id, job.kind)
                    return
            except Exception:
                log.exception("job %s: could not renew the lease", job.id)


def _describe(exc: BaseException, *, expected: bool) -> str:
    text = str(exc) or type(exc).__name__
    if not expected:
        frames = traceback.extract_tb(exc.__traceback__)
        where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
        text = f"{type(exc).__name__}: {text}{where}"
    return text[:2000]
