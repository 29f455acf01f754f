"""The aiohttp application: health, metrics, doctor, and start-up rules."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
from aiohttp import web
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

import bot.app
from bot.app import RUNTIME, Options, create_web_app
from bot.doctor import run_doctor
from bot.scheduler import Scheduler
from bot.services import SERVICES
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]


async def test_healthz_reports_the_database_and_workers(
    aiohttp_client: Any, sqlite_url: str
) -> None:
    app = await create_web_app(
        make_settings(database_url=sqlite_url, workers=2), Options(scheduler=False)
    )
    client = await aiohttp_client(app)
    response = await client.get("/healthz")
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["workers"] == 2


async def test_metrics_speak_prometheus_text(aiohttp_client: Any, sqlite_url: str) -> None:
    app = await create_web_app(make_settings(database_url=sqlite_url), Options(workers=0))
    client = await aiohttp_client(app)
    await client.post("/webhooks/attendee", data=b"{}")  # refused: no secret configured
    text = await (await client.get("/metrics")).text()
    assert "# TYPE debrief_webhooks_total counter" in text
    assert 'debrief_webhooks_total{outcome="refused",provider="attendee"} 1' in text
    assert 'debrief_http_seconds_bucket{path="/webhooks/attendee",le="+Inf"} 1' in text


async def test_an_sqlite_database_is_migrated_on_start(aiohttp_client: Any, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    app = await create_web_app(make_settings(database_url=url), Options(workers=0))
    client = await aiohttp_client(app)
    assert (await client.get("/healthz")).status == 200
    assert (tmp_path / "fresh.db").exists()


async def test_a_database_behind_its_migrations_refuses_to_start(
    opened: Opened, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    with pytest.raises(RuntimeError, match="debrief migrate"):
        await create_web_app(make_settings(database_url=url), Options(workers=0, migrate=False))
    assert opened.closed() == ALL_CLOSED, "what it opened to find out is closed again"


class Opened:
    """The real engine and clients an app opens, caught as it opens them, and what they say
    about themselves now."""

    def __init__(self) -> None:
        self.engine: AsyncEngine | None = None
        self.engine_disposed = False
        self.http: httpx.AsyncClient | None = None
        self.slack: aiohttp.ClientSession | None = None
        self.tasks: list[asyncio.Task[None]] = []
        self.scheduler: Scheduler | None = None

    def watch_engine(self, engine: AsyncEngine) -> None:
        self.engine = engine

        def disposed(_engine: object) -> None:
            self.engine_disposed = True

        event.listen(engine.sync_engine, "engine_disposed", disposed)

    def watch_app(self, app: web.Application) -> None:
        services, runtime = app[SERVICES], app[RUNTIME]
        self.watch_engine(runtime.engine)
        self.http = services.http
        self.slack = services.slack.client.session
        self.tasks = runtime.tasks
        self.scheduler = runtime.scheduler

    def closed(self) -> dict[str, bool]:
        """Which of them are closed (or stopped) right now."""
        assert self.engine is not None and self.http is not None and self.slack is not None
        return {
            "scheduler": self.scheduler is None or not self.scheduler.running,
            "workers": all(task.done() for task in self.tasks),
            "slack": self.slack.closed,
            "http": self.http.is_closed,
            "engine": self.engine_disposed,
        }


ALL_CLOSED = {"scheduler": True, "workers": True, "slack": True, "http": True, "engine": True}


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> Opened:
    """What ``create_web_app`` opens, caught on the way (the real objects, nothing faked)."""
    caught = Opened()
    real_engine, real_http = bot.app.create_engine, bot.app.build_http_client
    real_slack_client = bot.app.create_slack_client

    def create_engine(url: str) -> AsyncEngine:
        engine = real_engine(url)
        caught.watch_engine(engine)
        return engine

    def build_http_client(**kwargs: Any) -> httpx.AsyncClient:
        caught.http = real_http(**kwargs)
        return caught.http

    def create_slack_client(token: str | None, url: str, session: aiohttp.ClientSession) -> Any:
        caught.slack = session
        return real_slack_client(token, url, session)

    monkeypatch.setattr(bot.app, "create_engine", create_engine)
    monkeypatch.setattr(bot.app, "build_http_client", build_http_client)
    monkeypatch.setattr(bot.app, "create_slack_client", create_slack_client)
    return caught


def fail_with(error: BaseException) -> Callable[..., Any]:
    def fail(*_args: object, **_kwargs: object) -> Any:
        raise error

    return fail


@pytest.mark.parametrize(
    ("where", "error"),
    [
        # Inside create_services: the HTTP client and the Slack session are open by then.
        ("create_slack_client", RuntimeError("injected: Slack client")),
        ("upgrade", asyncio.CancelledError()),  # Ctrl-C while migrating
        ("register_all", RuntimeError("injected: a feature failed to register")),
    ],
)
async def test_a_start_that_fails_half_way_closes_what_it_had_opened(
    opened: Opened,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    where: str,
    error: BaseException,
) -> None:
    if where == "create_slack_client":
        real = bot.app.create_slack_client  # the fixture's, which catches the session

        def create_slack_client(*args: Any) -> Any:
            real(*args)
            raise error

        monkeypatch.setattr(bot.app, "create_slack_client", create_slack_client)
    else:
        monkeypatch.setattr(bot.app, where, fail_with(error))
    url = f"sqlite+aiosqlite:///{tmp_path / 'half.db'}"
    with pytest.raises(type(error)):
        await create_web_app(make_settings(database_url=url), Options(workers=0))
    assert opened.closed() == ALL_CLOSED


async def test_a_start_that_fails_in_the_background_stops_the_workers_and_closes_all(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    """As ``web.run_app`` does, nothing is cleaned up after a failed start but by the app."""
    monkeypatch.setattr(Scheduler, "start", fail_with(RuntimeError("injected: scheduler")))
    app = await create_web_app(
        make_settings(database_url=database_url, workers=2), Options(scheduler=True)
    )
    opened = Opened()
    opened.watch_app(app)
    runner = web.AppRunner(app)
    with pytest.raises(RuntimeError, match="injected: scheduler"):
        await runner.setup()
    assert len(opened.tasks) == 2, "the workers had started"
    assert opened.closed() == ALL_CLOSED


class ToldTransport(httpx.AsyncHTTPTransport):
    """The real transport, calling ``on_close`` as it is closed (either way httpx closes it)."""

    def __init__(self, on_close: Callable[[], None]) -> None:
        super().__init__()
        self.on_close = on_close

    async def __aexit__(self, *exc: Any) -> None:
        self.on_close()
        await super().__aexit__(*exc)

    async def aclose(self) -> None:
        self.on_close()
        await super().aclose()


async def test_shutting_down_closes_everything_last_opened_first(database_url: str) -> None:
    """Opened in this order: the engine, the HTTP client, the Slack session, the workers, the
    scheduler; each is closed only once everything opened after it is."""
    opened = Opened()
    seen: dict[str, dict[str, bool]] = {}

    def when(name: str) -> Callable[..., None]:
        def record(*_args: object) -> None:
            seen[name] = opened.closed()

        return record

    app = await create_web_app(
        make_settings(database_url=database_url, workers=2),
        Options(scheduler=True, http_transport=ToldTransport(when("http"))),
    )
    runner = web.AppRunner(app)
    await runner.setup()
    opened.watch_app(app)
    assert opened.scheduler is not None
    async with asyncio.timeout(30):
        while True:  # it leads on its first turn: nobody else holds this database's lock
            if opened.scheduler.running:
                break
            await asyncio.sleep(0.01)
    assert opened.closed() == {name: False for name in ALL_CLOSED}
    for task in opened.tasks:
        # Runs before the shut-down goes on: this callback was added before the one that
        # wakes it up, and callbacks run in order.
        task.add_done_callback(when("workers"))
    event.listen(app[RUNTIME].engine.sync_engine, "engine_disposed", when("engine"))
    await runner.cleanup()
    assert opened.closed() == ALL_CLOSED
    opened_later = {"slack": False, "http": False, "engine": False}
    assert seen["workers"] == {"scheduler": True, "workers": True, **opened_later}
    assert seen["http"] == ALL_CLOSED | {"engine": False}
    assert seen["engine"] == ALL_CLOSED


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_debrief_serve_starts_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'debrief.db'}",
        "SLACK_BOT_TOKEN": "xoxb-test-token-0000",
        "SLACK_SIGNING_SECRET": "test-signing-secret-0000",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("Debrief listening"), first
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as health:
            assert health.status == 200
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "Traceback" not in err, err
    assert "Unclosed" not in err, err


async def test_doctor_reports_features_and_the_database(sqlite_url: str) -> None:
    sqlite3.connect(sqlite_url.removeprefix("sqlite+aiosqlite:///")).close()  # an empty file
    out = io.StringIO()
    settings = make_settings(database_url=sqlite_url, otter_api_key="k")
    status = await run_doctor(settings, online=False, out=out)
    report = out.getvalue()
    assert "✔ Slack: on" in report
    assert "✔ Otter.ai summaries: on (optional, not set: OTTER_WEBHOOK_SECRET)" in report
    assert "· Attendee notetakers: off (to turn it on, set ATTENDEE_API_KEY" in report
    assert "sqlite reachable" in report and "migration(s) to apply" in report
    assert "debrief migrate" not in report, "serve migrates SQLite itself"
    assert status == 0


async def test_doctor_marks_a_half_configured_feature_and_says_what_to_do(sqlite_url: str) -> None:
    out = io.StringIO()
    settings = make_settings(database_url=sqlite_url, attendee_api_key="k")
    assert await run_doctor(settings, online=False, out=out) == 2
    report = out.getvalue()
    assert "  ✘ ATTENDEE_WEBHOOK_SECRET is not set, though ATTENDEE_API_KEY is" in report
    assert "      → set ATTENDEE_WEBHOOK_SECRET too" in report
    assert "1 check(s) marked ✘ must be fixed" in report


async def test_doctor_creates_no_database_file(tmp_path: Path) -> None:
    out = io.StringIO()
    settings = make_settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'new.db'}")
    assert await run_doctor(settings, online=False, out=out) == 0
    assert "does not exist yet: `debrief serve` creates it" in out.getvalue()
    assert os.listdir(tmp_path) == []


async def test_doctor_fails_on_an_unreachable_database() -> None:
    out = io.StringIO()
    settings = make_settings(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none")
    assert await run_doctor(settings, online=False, out=out) == 1
    assert "cannot reach the database" in out.getvalue()


async def test_doctor_online_calls_auth_test(sqlite_url: str) -> None:
    from sandbox.slack import SlackStandIn

    async with SlackStandIn() as slack:
        good = make_settings(
            database_url=sqlite_url, slack_bot_token=slack.bot_token, slack_api_url=slack.api_url
        )
        out = io.StringIO()
        assert await run_doctor(good, online=True, out=out) == 0
        assert "✔ Slack: SLACK_BOT_TOKEN works" in out.getvalue()
        bad = make_settings(
            database_url=sqlite_url, slack_bot_token="xoxb-wrong", slack_api_url=slack.api_url
        )
        out = io.StringIO()
        assert await run_doctor(bad, online=True, out=out) == 1
        assert "✘ Slack refused SLACK_BOT_TOKEN: invalid_auth" in out.getvalue()


async def test_doctor_online_names_the_provider_credential_that_failed(sqlite_url: str) -> None:
    from sandbox.attendee import AttendeeStandIn
    from sandbox.slack import SlackStandIn

    async with SlackStandIn() as slack, AttendeeStandIn(api_key="right") as attendee:
        common: dict[str, Any] = {
            "database_url": sqlite_url,
            "slack_bot_token": slack.bot_token,
            "slack_api_url": slack.api_url,
            "attendee_api_url": attendee.url,
            "attendee_webhook_secret": "c2VjcmV0",
        }
        out = io.StringIO()
        assert (
            await run_doctor(
                make_settings(**common, attendee_api_key="right"), online=True, out=out
            )
            == 0
        )
        assert "✔ Attendee: ATTENDEE_API_KEY works" in out.getvalue()
        out = io.StringIO()
        assert (
            await run_doctor(
                make_settings(**common, attendee_api_key="wrong"), online=True, out=out
            )
            == 1
        )
        assert "✘ Attendee refused ATTENDEE_API_KEY (401)" in out.getvalue()
