"""The durable queue on both databases: claim, retry, bury, re-pickup, exclusivity, wake-up."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import BaseModel
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from bot.app import Options, create_web_app
from bot.jobs import JobQueue, JobRegistry, JobRun, QueueConfig, RetryLater, Worker
from bot.leases import LeaseHolder, running_job
from bot.services import SERVICES
from bot.slack import slack_verdict
from bot.store.db import create_engine, create_sessionmaker, transaction
from bot.store.models import Job
from providers.errors import BadRequest, NotFound, ProviderUnavailable, RateLimited, ServerError
from tests.conftest import make_settings

REPO = Path(__file__).resolve().parents[2]


class Echo(BaseModel):
    n: int


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Recorder:
    """The 'services' a test job sees: it records what ran and can be told to fail."""

    def __init__(self) -> None:
        self.ran: list[tuple[int, int]] = []
        self.fail_with: dict[int, list[BaseException]] = {}
        self.dead: list[tuple[int, str]] = []
        self.running: set[int] = set()
        self.overlaps = 0


async def job_echo(services: Recorder, payload: Echo, run: JobRun) -> None:
    if payload.n in services.running:
        services.overlaps += 1
    services.running.add(payload.n)
    try:
        await asyncio.sleep(0)
        failures = services.fail_with.get(payload.n)
        if failures:
            raise failures.pop(0)
        services.ran.append((payload.n, run.attempt))
    finally:
        services.running.discard(payload.n)


async def echo_dead(services: Recorder, payload: Echo, error: str) -> None:
    services.dead.append((payload.n, error))


@pytest.fixture
async def setup(database_url: str) -> Any:
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    registry: JobRegistry[Recorder] = JobRegistry()
    registry.add("test.echo", job_echo, Echo, on_dead=echo_dead, max_attempts=3)
    registry.judge(SlackApiError, slack_verdict)  # as handlers.register_all does
    clock = FakeClock()
    queue = JobQueue(
        sessions, registry, QueueConfig(lease_seconds=30, backoff_base=1.0), clock=clock
    )
    yield queue, clock, engine
    await engine.dispose()


async def enqueue(queue: JobQueue, *numbers: int, **kwargs: Any) -> list[bool]:
    async with transaction(queue.sessions) as session:
        return [await queue.enqueue(session, "test.echo", Echo(n=n), **kwargs) for n in numbers]


async def statuses(queue: JobQueue) -> dict[int, tuple[str, int]]:
    async with queue.sessions() as session:
        jobs = (await session.execute(select(Job))).scalars()
        return {j.payload["n"]: (j.status, j.attempts) for j in jobs}


async def test_a_job_runs_once_and_is_done(setup: Any) -> None:
    queue, _clock, _ = setup
    services = Recorder()
    await enqueue(queue, 1, 2)
    worker = Worker(queue, services, name="w1")
    assert await worker.run_one() and await worker.run_one()
    assert not await worker.run_one()
    assert sorted(services.ran) == [(1, 1), (2, 1)]
    assert await statuses(queue) == {1: ("done", 1), 2: ("done", 1)}


async def test_a_kind_that_forgets_its_payload_keeps_it_only_until_done(setup: Any) -> None:
    queue, _clock, _ = setup
    queue.registry.add("test.private", job_echo, Echo, forget_payload=True, max_attempts=1)
    services = Recorder()
    services.fail_with[3] = [RuntimeError("boom")]
    async with transaction(queue.sessions) as session:
        for n in (2, 3):
            await queue.enqueue(session, "test.private", Echo(n=n))
    await enqueue(queue, 1)
    worker = Worker(queue, services, name="w1")
    while await worker.run_one():
        pass
    async with queue.sessions() as session:
        jobs = (await session.execute(select(Job).order_by(Job.id))).scalars().all()
    assert [(j.kind, j.status, j.payload) for j in jobs] == [
        ("test.private", "done", {}),
        ("test.private", "dead", {"n": 3}),  # the operators' to look into
        ("test.echo", "done", {"n": 1}),  # other kinds keep theirs
    ]


async def test_a_job_enqueued_in_a_rolled_back_transaction_never_exists(setup: Any) -> None:
    queue, _clock, _ = setup
    with pytest.raises(RuntimeError):
        async with transaction(queue.sessions) as session:
            await queue.enqueue(session, "test.echo", Echo(n=1))
            raise RuntimeError("the caller failed")
    assert await statuses(queue) == {}


async def test_dedupe_key_enqueues_once(setup: Any) -> None:
    queue, _clock, _ = setup
    assert await enqueue(queue, 1, dedupe_key="same") == [True]
    assert await enqueue(queue, 2, dedupe_key="same") == [False]
    assert await statuses(queue) == {1: ("queued", 0)}


async def test_transient_failures_back_off_then_succeed(setup: Any) -> None:
    queue, clock, _ = setup
    services = Recorder()
    services.fail_with[1] = [ProviderUnavailable("attendee", "timed out")]
    await enqueue(queue, 1)
    worker = Worker(queue, services, name="w1")
    assert await worker.run_one()
    assert await statuses(queue) == {1: ("queued", 1)}
    assert not await worker.run_one(), "a failed job must wait for its backoff"
    clock.advance(5)
    assert await worker.run_one()
    assert services.ran == [(1, 2)]
    assert await statuses(queue) == {1: ("done", 2)}


async def test_the_last_attempt_buries_the_job_and_tells_someone(setup: Any) -> None:
    queue, clock, _ = setup
    services = Recorder()
    services.fail_with[1] = [ProviderUnavailable("attendee", f"down {i}") for i in range(3)]
    notices: list[tuple[int, str]] = []

    async def on_dead(job: Job, error: str) -> None:
        notices.append((job.id, error))

    await enqueue(queue, 1)
    worker = Worker(queue, services, name="w1", on_dead=on_dead)
    for _ in range(3):
        clock.advance(3600)
        assert await worker.run_one()
    assert await statuses(queue) == {1: ("dead", 3)}
    assert services.dead == [(1, "attendee: down 2")]
    assert len(notices) == 1 and "down 2" in notices[0][1]


async def test_a_permanent_error_buries_at_once(setup: Any) -> None:
    queue, _clock, _ = setup
    services = Recorder()
    services.fail_with[1] = [BadRequest("attendee", "meeting_url: Invalid", status_code=400)]
    await enqueue(queue, 1)
    assert await Worker(queue, services, name="w1").run_one()
    assert await statuses(queue) == {1: ("dead", 1)}
    assert services.dead and "Invalid" in services.dead[0][1]


async def test_retry_later_polls_without_spending_attempts(setup: Any) -> None:
    queue, clock, _ = setup
    services = Recorder()
    services.fail_with[1] = [RetryLater(10), RetryLater(10), RetryLater(10), RetryLater(10)]
    await enqueue(queue, 1)
    worker = Worker(queue, services, name="w1")
    for _ in range(4):
        assert await worker.run_one()
        clock.advance(11)
    assert await worker.run_one()
    assert services.ran == [(1, 1)]


async def test_a_crashed_workers_job_is_picked_up_again(setup: Any) -> None:
    queue, clock, _ = setup
    await enqueue(queue, 1)
    crashed = await queue.claim("crashed-worker")  # claims, then "dies" without finishing
    assert crashed is not None
    services = Recorder()
    survivor = Worker(queue, services, name="survivor")
    assert not await survivor.run_one(), "the lease still holds"
    clock.advance(31)
    assert await survivor.run_one()
    assert services.ran == [(1, 2)]
    # The dead worker coming back cannot overwrite what the survivor did.
    assert not await queue.finish(crashed, "crashed-worker")
    assert await statuses(queue) == {1: ("done", 2)}


def test_the_heartbeat_comes_well_within_the_lease() -> None:
    assert QueueConfig(lease_seconds=30).heartbeat == 10
    assert QueueConfig(lease_seconds=30, heartbeat_seconds=4).heartbeat == 4
    with pytest.raises(ValueError, match="heartbeat"):
        QueueConfig(lease_seconds=5, heartbeat_seconds=5)
    with pytest.raises(ValueError, match="DEBRIEF_JOB_HEARTBEAT_SECONDS"):
        make_settings(job_lease_seconds=5, job_heartbeat_seconds=6)


async def test_a_running_job_knows_itself_as_the_holder_of_what_it_leases(setup: Any) -> None:
    queue, _clock, _ = setup
    seen: list[tuple[LeaseHolder | None, int]] = []

    async def job_look(services: Any, payload: Echo, run: JobRun) -> None:
        seen.append((running_job.get(), run.job_id))

    queue.registry.add("look", job_look, Echo)
    await queue.submit("look", Echo(n=1))
    assert await Worker(queue, Recorder(), name="w-look").run_one()
    ((holder, job_id),) = seen
    assert holder == LeaseHolder(job_id, "w-look")
    assert running_job.get() is None, "the holder does not outlive the job"


async def test_the_sweeper_returns_expired_leases(setup: Any) -> None:
    queue, clock, _ = setup
    await enqueue(queue, 1)
    assert await queue.claim("gone") is not None
    assert await queue.sweep() == 0
    clock.advance(31)
    assert await queue.sweep() == 1
    assert await statuses(queue) == {1: ("queued", 1)}


async def test_enqueue_wakes_an_idle_worker(setup: Any) -> None:
    queue, _clock, _ = setup
    queue.config = QueueConfig(lease_seconds=30, poll_seconds=600)
    services = Recorder()
    worker = Worker(queue, services, name="w1")
    task = asyncio.create_task(worker.run())
    await asyncio.sleep(0.2)  # idle, waiting up to 600 s
    await enqueue(queue, 7)
    for _ in range(100):
        if services.ran:
            break
        await asyncio.sleep(0.05)
    worker.stop()
    await asyncio.wait_for(task, 5)
    assert services.ran == [(7, 1)], "the worker slept through the enqueue"


@pytest.mark.postgres
async def test_workers_of_two_processes_never_run_one_job_twice(postgres_server: str) -> None:
    from tests.conftest import reset_postgres

    await reset_postgres(postgres_server)
    from bot.store.migrate import upgrade

    engines = [create_engine(postgres_server) for _ in range(2)]
    await upgrade(engines[0])
    registry = JobRegistry()
    registry.add("test.echo", job_echo, Echo, max_attempts=3)
    queues = [
        JobQueue(create_sessionmaker(e), registry, QueueConfig(poll_seconds=0.05)) for e in engines
    ]
    await enqueue(queues[0], *range(300))
    services = Recorder()
    workers = [
        Worker(q, services, name=f"p{i}w{j}") for i, q in enumerate(queues) for j in range(4)
    ]
    tasks = [asyncio.create_task(w.run()) for w in workers]
    for _ in range(400):
        if len(services.ran) >= 300:
            break
        await asyncio.sleep(0.05)
    for w in workers:
        w.stop()
    await asyncio.gather(*tasks)
    for e in engines:
        await e.dispose()
    numbers = [n for n, _ in services.ran]
    assert sorted(numbers) == list(range(300)), "every job ran exactly once"
    assert services.overlaps == 0
    assert {attempt for _, attempt in services.ran} == {1}


def slack_failure(code: str) -> SlackApiError:
    return SlackApiError(
        f"The request failed: {code}", SimpleNamespace(data={"ok": False, "error": code})
    )


class OurTimeout(Exception):
    """An error of no provider's, declaring itself: the queue reads the attribute, not the type."""

    retryable = True
    retry_after = 600.0


class OurRefusal(Exception):
    retryable = False


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (slack_failure("ratelimited"), ("queued", 1)),
        (slack_failure("internal_error"), ("queued", 1)),
        (slack_failure("channel_not_found"), ("dead", 1)),
        (ServerError("attendee", "502 Bad Gateway", status_code=502), ("queued", 1)),
        (ProviderUnavailable("otter", "timed out"), ("queued", 1)),
        (RateLimited("whereby", "slow down", retry_after=5), ("queued", 1)),
        (BadRequest("attendee", "meeting_url: Invalid", status_code=400), ("dead", 1)),
        (NotFound("otter", "no such speech", status_code=404), ("dead", 1)),
        (OurRefusal("no"), ("dead", 1)),
        (OurTimeout("later"), ("queued", 1)),
        (RuntimeError("a bug"), ("queued", 1)),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else None,
)
async def test_a_failures_outcome_follows_its_declared_retryability(
    setup: Any, error: BaseException, outcome: tuple[str, int]
) -> None:
    queue, _clock, _ = setup
    services = Recorder()
    services.fail_with[1] = [error]
    await enqueue(queue, 1)
    assert await Worker(queue, services, name="w1").run_one()
    assert await statuses(queue) == {1: outcome}
    assert bool(services.dead) == (outcome[0] == "dead")


async def test_an_unforeseen_failure_is_retried_until_the_last_attempt(setup: Any) -> None:
    queue, clock, _ = setup
    services = Recorder()
    services.fail_with[1] = [RuntimeError(f"bug {i}") for i in range(3)]
    await enqueue(queue, 1)
    worker = Worker(queue, services, name="w1")
    for attempt in (1, 2):
        assert await worker.run_one()
        assert await statuses(queue) == {1: ("queued", attempt)}
        clock.advance(3600)
    assert await worker.run_one()
    assert await statuses(queue) == {1: ("dead", 3)}
    assert services.dead and "RuntimeError: bug 2" in services.dead[0][1]


async def test_a_declared_wait_outlasts_the_backoff(setup: Any) -> None:
    queue, clock, _ = setup
    services = Recorder()
    services.fail_with[1] = [OurTimeout("later")]
    await enqueue(queue, 1)
    worker = Worker(queue, services, name="w1")
    assert await worker.run_one()
    clock.advance(300)  # far past the backoff (about 1 s), short of the 600 s asked for
    assert not await worker.run_one()
    clock.advance(301)
    assert await worker.run_one()
    assert services.ran == [(1, 2)]


async def test_the_app_judges_slack_failures(sqlite_url: str, aiohttp_client: Any) -> None:
    app = await create_web_app(make_settings(database_url=sqlite_url), Options(workers=0))
    await aiohttp_client(app)  # runs start-up and, at the end, clean-up
    registry = app[SERVICES].queue.registry
    permanent = registry.verdict(slack_failure("is_archived"))
    transient = registry.verdict(slack_failure("ratelimited"))
    assert permanent is not None and not permanent.retryable
    assert transient is not None and transient.retryable


MISMATCHED = """
    from pydantic import BaseModel

    from bot.jobs import JobRegistry, JobRun


    class Ours:
        pass


    class A(BaseModel):
        n: int


    class B(BaseModel):
        s: str


    async def job_a(services: Ours, payload: A, run: JobRun) -> None:
        return None


    registry: JobRegistry[Ours] = JobRegistry()
    registry.add("a", job_a, A)
    registry.add("b", job_a, B)  # refused: the payload model is not the job's
    others: JobRegistry[int] = JobRegistry()
    others.add("a", job_a, A)  # refused: the services are not the job's
"""


def test_mypy_refuses_a_job_registered_with_another_payload_or_services(tmp_path: Path) -> None:
    snippet = tmp_path / "registrations.py"
    source = textwrap.dedent(MISMATCHED)
    snippet.write_text(source)
    refused = [str(n) for n, line in enumerate(source.splitlines(), 1) if "# refused" in line]
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", str(snippet)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    errors = [line for line in checked.stdout.splitlines() if ": error:" in line]
    assert [line.split(":")[1] for line in errors] == refused, checked.stdout
    assert all('"add" of "JobRegistry"' in line for line in errors), checked.stdout
