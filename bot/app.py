"""The composition root: builds every service, the Bolt app and the aiohttp application, wires
the features' routes, and owns start-up and shut-down (workers, scheduler, connections).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp
import httpx
from aiohttp import web
from pydantic import BaseModel
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import offload, plugins, slack_requests
from bot.budgets import SharedBudgets
from bot.config import Settings
from bot.jobs import JobQueue, JobRegistry, JobRun, QueueConfig, Worker
from bot.logs import quiet_malformed_http, trace_id
from bot.membership import SlackMembership
from bot.metrics import Metrics
from bot.offload import Busy, off_loop
from bot.posting import PostLedger
from bot.replay import ReplayGuard, answer_replay, replay_key
from bot.scheduler import Leadership, Periodic, Scheduler
from bot.services import SERVICES, Services
from bot.slack import ChannelPacer, People, SlackMessenger, create_slack_client
from bot.store.db import create_engine, create_sessionmaker, transaction
from bot.store.migrate import pending, upgrade
from bot.store.models import Job, utcnow
from providers.http import build_http_client

log = logging.getLogger(__name__)

BOLT = web.AppKey("bolt", AsyncApp)
REPLAY = web.AppKey("replay", ReplayGuard)

JOB_SWEEP = "queue.sweep"


class SweepJob(BaseModel):
    pass


@dataclass
class Runtime:
    """What one process opened and runs in the background.

    ``exits`` is the one place where all of it is closed, last opened first: the connections
    and clients ``create_services`` opened, then the workers and scheduler started beside them.
    """

    engine: AsyncEngine
    exits: contextlib.AsyncExitStack
    workers: list[Worker[Services]] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    scheduler: Scheduler | None = None
    started: float = field(default_factory=time.monotonic)


RUNTIME = web.AppKey("runtime", Runtime)


@dataclass(frozen=True)
class Options:
    """How this process runs; tests and the sandbox change these."""

    workers: int | None = None
    scheduler: bool | None = None
    migrate: bool | None = None
    http_transport: httpx.AsyncBaseTransport | None = None
    queue: QueueConfig | None = None
    clock: Callable[[], datetime] = utcnow


async def create_services(
    settings: Settings,
    registry: JobRegistry[Services],
    options: Options,
    exits: contextlib.AsyncExitStack,
) -> tuple[Services, AsyncEngine]:
    """Open the database, the HTTP clients and the Slack client; nothing runs yet.

    Args:
        settings: the configuration.
        registry: the job kinds the queue runs.
        options: test injections (the HTTP transport, the queue's timings, the clock).
        exits: where each resource is registered to be closed the moment it is open, so that
            the caller closes all of them, and a failure half-way closes those already open.
    """
    engine = create_engine(settings.database_url)
    exits.push_async_callback(engine.dispose)
    # Worker processes verifying big webhook bodies, if any were started (bot/offload.py).
    exits.push_async_callback(asyncio.to_thread, offload.shutdown)
    sessions = create_sessionmaker(engine)
    http = await exits.enter_async_context(build_http_client(transport=options.http_transport))
    slack_session = await exits.enter_async_context(
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
    )
    client = create_slack_client(
        settings.secret("slack_bot_token"), settings.slack_api_url, slack_session
    )
    queue = JobQueue(
        sessions,
        registry,
        options.queue
        or QueueConfig(
            lease_seconds=settings.job_lease_seconds,
            heartbeat_seconds=settings.job_heartbeat_seconds,
            max_attempts=settings.job_max_attempts,
            backoff_base=settings.job_backoff_base,
            poll_seconds=settings.job_poll_seconds,
        ),
        clock=options.clock,
    )
    # One users.info cache serves time zones, admin flags and names.
    people = People(client, settings.membership_ttl)
    slack = SlackMessenger(client, ChannelPacer(settings.slack_channel_interval), people=people)
    services = Services(
        settings=settings,
        sessions=sessions,
        queue=queue,
        slack=slack,
        posts=PostLedger(slack, sessions),
        membership=SlackMembership(client, settings.membership_ttl, people=people),
        metrics=Metrics(),
        http=http,
        clock=options.clock,
    )
    # Budgets on the database, so that every process on it spends from the same ones.
    budgets = SharedBudgets(sessions)
    for provider in settings.providers:
        services.clients[provider.client] = provider.build_client(settings, http, budgets)
        services.not_set_up[provider.client] = provider.not_set_up
    services.understanding = plugins.features().understanding_engine(services.clients)
    return services, engine


def create_bolt_app(settings: Settings, services: Services) -> AsyncApp:
    """The Bolt app, handing every listener ``services``.

    Bolt checks no signature itself: /slack/events verifies each request on its bytes, off the
    event loop, before Bolt sees it (``handle_slack_events``), and over Socket Mode the socket
    is the authentication. Checking again here would repeat the HMAC on the event loop.
    """
    if not settings.socket_mode:
        slack_signing_secret(settings)  # without it no HTTP request can be verified: refuse
    bolt = AsyncApp(
        client=services.slack.client,
        signing_secret="",
        request_verification_enabled=False,
        # Listeners must finish their own work before answering; see handlers/commands.py.
        process_before_response=False,
        raise_error_for_unhandled_request=False,
    )

    async def inject_services(context: AsyncBoltContext, next: Callable[[], Awaitable[Any]]) -> Any:
        context["services"] = services
        return await next()

    bolt.use(inject_services)
    return bolt


def create_replay_guard(settings: Settings, services: Services) -> ReplayGuard:
    """What refuses a signed Slack request sent a second time (see ``bot/replay.py``)."""
    return ReplayGuard(slack_signing_secret(settings), services.sessions, services.clock)


def slack_signing_secret(settings: Settings) -> str:
    """The signing secret; without it no Slack request can be verified, so nothing starts."""
    signing_secret = settings.secret("slack_signing_secret")
    if not signing_secret:
        raise RuntimeError("SLACK_SIGNING_SECRET is not set: Slack requests cannot be verified")
    return signing_secret


async def create_web_app(settings: Settings, options: Options | None = None) -> web.Application:
    """The whole of Debrief as one aiohttp application (``web.run_app`` accepts this coroutine).

    What it opens is closed by the app's cleanup (its runner's ``cleanup()``, which
    ``web.run_app`` calls), or before this returns when making the app fails.

    Args:
        settings: the configuration.
        options: workers, scheduler and migration switches, and test injections.
    """
    options = options or Options()
    registry: JobRegistry[Services] = JobRegistry()
    # Whatever fails (or is interrupted) before the app is made closes what was opened so far.
    async with contextlib.AsyncExitStack() as opened:
        services, engine = await create_services(settings, registry, options, opened)
        should_migrate = settings.is_sqlite if options.migrate is None else options.migrate
        if should_migrate:
            await upgrade(engine)
        elif missing := await pending(engine):
            raise RuntimeError(
                f"the database schema is behind ({len(missing)} migration(s) pending): "
                "run `debrief migrate` first"
            )
        bolt = create_bolt_app(settings, services)
        wiring = plugins.features().Wiring(bolt=bolt, jobs=registry)
        register_all(wiring, settings.providers)
        registry.add(JOB_SWEEP, job_sweep, SweepJob, max_attempts=1)

        quiet_malformed_http()
        app = web.Application(
            client_max_size=max(settings.body_limits().values()) + 64 * 1024,
            # A body refused before it was read (a wrong token, a bad header, too big) is not
            # read and thrown away afterwards, as aiohttp does by default for up to 10 s: up to
            # 25 MB a forged request that way. The connection is closed instead.
            handler_args={"lingering_time": 0},
            middlewares=[request_log, close_unread],
        )
        app[SERVICES] = services
        app[BOLT] = bolt
        if settings.secret("slack_signing_secret"):
            # Over HTTP; in Socket Mode too when a signing secret is also set (moving over).
            app[REPLAY] = create_replay_guard(settings, services)
            app.router.add_post("/slack/events", handle_slack_events)
        app.router.add_get("/healthz", handle_healthz)
        app.router.add_get("/metrics", handle_metrics)
        app.add_routes(wiring.routes)
        services.metrics.gauge_source(lambda: _job_gauges(services))
        # From here the app owns what is open, and its cleanup context closes it (_lifecycle).
        app[RUNTIME] = Runtime(engine=engine, exits=opened.pop_all())
        app.cleanup_ctx.append(_lifecycle(options))
        return app


def register_all(wiring: Any, providers: tuple[plugins.AnyProvider, ...]) -> None:
    """Wire every feature and every installed provider (``handlers.registry``)."""
    plugins.features().register_all(wiring, providers)


def periodic_jobs(settings: Settings) -> list[tuple[str, float]]:
    """(job kind, seconds) of each periodic job of the features and providers that is on."""
    jobs: list[tuple[str, float]] = plugins.features().periodic_jobs(settings)
    return jobs


def _lifecycle(options: Options) -> Callable[[web.Application], AsyncIterator[None]]:
    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        runtime = app[RUNTIME]
        # Leaving it closes everything this app opened, last opened first: the scheduler, the
        # workers, then the connections they used; also when starting fails half-way.
        async with runtime.exits:
            await _start_background(app[SERVICES], runtime, options)
            if app[SERVICES].settings.socket_mode:
                await _connect_socket_mode(app[BOLT], app[SERVICES], runtime)
            yield

    return lifecycle


async def _start_background(services: Services, runtime: Runtime, options: Options) -> None:
    settings = services.settings
    count = settings.workers if options.workers is None else options.workers

    async def on_dead(job: Job, error: str) -> None:
        await plugins.features().notify_dead_job(services, job, error)

    runtime.exits.push_async_callback(_stop_workers, runtime)
    for index in range(count):
        worker = Worker(
            services.queue, services, on_dead=on_dead, name=f"{uuid.uuid4().hex[:8]}-w{index}"
        )
        runtime.workers.append(worker)
        runtime.tasks.append(asyncio.create_task(worker.run(), name=worker.name))
    run_scheduler = settings.run_scheduler if options.scheduler is None else options.scheduler
    if run_scheduler:
        runtime.scheduler = Scheduler(
            Leadership(runtime.engine),
            [
                periodic(services, JOB_SWEEP, settings.sweep_interval_seconds),
                *(periodic(services, k, s) for k, s in periodic_jobs(settings)),
            ],
        )
        await runtime.scheduler.start()
        runtime.exits.push_async_callback(runtime.scheduler.stop)


async def _connect_socket_mode(bolt: AsyncApp, services: Services, runtime: Runtime) -> None:
    """Slack's commands, clicks and events over Socket Mode (Bolt's aiohttp adapter): the app
    opens a websocket to Slack, so Slack needs no public URL. It reconnects by itself when Slack
    asks it to or the connection drops; closing the app closes the socket."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    handler = AsyncSocketModeHandler(
        bolt, app_token=services.settings.secret("slack_app_token"), web_client=bolt.client
    )
    runtime.exits.push_async_callback(handler.close_async)
    await handler.connect_async()
    log.info("Slack requests arrive over Socket Mode")


async def _stop_workers(runtime: Runtime) -> None:
    for worker in runtime.workers:
        worker.stop()
    if runtime.tasks:
        # Give running jobs a moment to finish; what is cut off is re-claimed after its lease.
        _done, still = await asyncio.wait(runtime.tasks, timeout=5)
        for task in still:
            task.cancel()
        await asyncio.gather(*still, return_exceptions=True)


def periodic(services: Services, kind: str, seconds: float) -> Periodic:
    """A scheduled entry that enqueues a ``kind`` job every ``seconds``."""
    return Periodic(kind, seconds, lambda: enqueue_periodic(services, kind, seconds))


async def enqueue_periodic(services: Services, kind: str, seconds: float) -> None:
    """Enqueue one job per period; the dedupe key keeps two leaders from doubling it."""
    slot = int(time.time() // max(seconds, 1))
    async with transaction(services.sessions) as session:
        await services.queue.enqueue(session, kind, {}, dedupe_key=f"{kind}:{slot}")


async def job_sweep(services: Services, payload: SweepJob, run: JobRun) -> None:
    """Return jobs of dead workers to the queue (old rows go in the retention purge)."""
    await services.queue.sweep()


@web.middleware
async def request_log(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """One log line per request, under an id that the jobs it enqueues carry on."""
    token = trace_id.set(os.urandom(6).hex())
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        elapsed = (time.perf_counter() - started) * 1000
        if request.path not in ("/healthz", "/metrics"):
            log.info("%s %s %d %.1fms", request.method, request.path, status, elapsed)
        services = request.app.get(SERVICES)
        if services is not None:
            services.metrics.observe(
                "debrief_http_seconds",
                elapsed / 1000,
                help="Time to answer HTTP requests",
                path=_route(request),
            )
        trace_id.reset(token)


@web.middleware
async def close_unread(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Say ``Connection: close`` when answering before the body was read (a refusal): the
    connection is closed rather than the rest read and thrown away (``lingering_time``), and
    a client must not send its next request on it."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if not request.content.is_eof():
            exc.force_close()
        raise
    if not request.content.is_eof():
        response.force_close()
    return response


def _route(request: web.Request) -> str:
    info = request.match_info.route.resource
    return info.canonical if info is not None else "unmatched"


async def handle_slack_events(request: web.Request) -> web.Response:
    """Every Slack request, to Bolt: verified here first (see ``bot/slack_requests.py``), and
    once each, a signed request sent again being refused."""
    bolt, replay = request.app[BOLT], request.app[REPLAY]
    settings = request.app[SERVICES].settings
    body = await plugins.features().read_body(request, settings.max_slack_request_bytes)
    try:
        signature = await off_loop(
            settings,
            len(body),
            slack_requests.verify,
            slack_signing_secret(settings),
            body,
            request.headers,
            time.time(),
        )
        text = await off_loop(
            settings, len(body), slack_requests.decode, body, request.content_type
        )
        bolt_request = AsyncBoltRequest(
            body=text,
            query=request.query_string,
            headers=request.headers,  # type: ignore[arg-type]
        )
    except slack_requests.Refused as refused:
        log.warning("Slack request refused (%d): %s", refused.status, refused.reason)
        return web.json_response({"error": refused.reason}, status=refused.status)
    except Busy as exc:
        log.warning("Slack request refused (429): %s", exc)
        return web.json_response({"error": str(exc)}, status=429, headers={"Retry-After": "1"})
    except (AttributeError, TypeError, KeyError, IndexError) as exc:
        # Bolt reads ids out of the body as it builds its request, trusting their shapes
        # (``team`` a dict or a string, say): an authentic body of another shape ends there.
        log.warning("Slack request refused (400): Bolt cannot read it (%r)", exc)
        return web.json_response({"error": "not a request Slack sends"}, status=400)
    key = replay_key(signature)
    if not await replay.claim(key):
        return answer_replay(key, bolt_request.headers)
    response = await bolt.async_dispatch(bolt_request)
    if response.status >= 500:
        await replay.release(key)
    return await to_aiohttp_response(response)


async def handle_healthz(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    try:
        async with services.sessions() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:
        log.warning("health check: database unreachable: %s", exc)
        return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)
    runtime = request.app[RUNTIME]
    return web.json_response(
        {
            "status": "ok",
            "database": "ok",
            "workers": len(runtime.workers),
            "scheduler_leader": bool(runtime.scheduler and runtime.scheduler.running),
            "uptime_seconds": round(time.monotonic() - runtime.started, 1),
        }
    )


async def handle_metrics(request: web.Request) -> web.Response:
    body = await request.app[SERVICES].metrics.render()
    return web.Response(
        text=body,
        content_type="text/plain",
        charset="utf-8",
        headers={"X-Content-Type-Options": "nosniff"},
    )


async def _job_gauges(services: Services) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    with contextlib.suppress(Exception):
        stats = await services.queue.stats()
        return {"debrief_jobs": {(("status", s),): float(n) for s, n in stats.items()}}
    return {}
