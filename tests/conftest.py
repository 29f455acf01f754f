"""Fixtures shared by the whole suite: databases (SQLite file and real PostgreSQL) and settings.

PostgreSQL comes from ``DEBRIEF_TEST_POSTGRES_URL`` (default: the local server on 127.0.0.1 with
trust auth). Where it cannot be reached the PostgreSQL tests skip with the reason, except under
CI (``CI=true``), where they fail instead: CI must run them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.config import Settings
from bot.plugins import ProviderSettings
from bot.store.db import create_engine
from bot.store.migrate import upgrade
from providers.http import build_http_client

POSTGRES_ADMIN_URL = os.environ.get(
    "DEBRIEF_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
PAYLOADS = Path(__file__).resolve().parent / "payloads"


def run_in_thread(coroutine: Any) -> Any:
    """Run a coroutine to completion on its own loop, even from inside a running loop."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


async def _probe_postgres() -> str | None:
    engine = create_engine(POSTGRES_ADMIN_URL)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return None
    except Exception as exc:  # any failure to connect means "no PostgreSQL here"
        return f"{type(exc).__name__}: {exc}"
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A database of its own on the PostgreSQL server for this test session."""
    problem = run_in_thread(_probe_postgres())
    if problem is not None:
        message = f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {problem}"
        if _in_ci():
            pytest.fail(message + " (CI must run the PostgreSQL tests)")
        pytest.skip(message)
    name = f"debrief_test_{uuid.uuid4().hex[:10]}"

    async def admin(statement: str) -> None:
        engine = create_engine(POSTGRES_ADMIN_URL)
        try:
            async with engine.connect() as connection:
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    run_in_thread(admin(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    run_in_thread(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated, empty database: an SQLite file, then a real PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'debrief.db'}"
    else:
        url = request.getfixturevalue("postgres_server")
        await reset_postgres(url)
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'debrief.db'}"


class IsolatedSettings(Settings):
    """Settings that read nothing from the environment: a test says everything it needs."""

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, *args, **kwargs):  # type: ignore[no-untyped-def,override]
        return (init_settings,)

    @classmethod
    def _section(cls, model: type[ProviderSettings], values: dict[str, Any]) -> ProviderSettings:
        # Validated, not constructed: a provider's settings too read nothing from the environment.
        return model.model_validate(values)


def make_settings(**overrides: Any) -> Settings:
    """Settings built explicitly for a test, ignoring whatever the environment holds."""
    values: dict[str, Any] = {
        "database_url": "sqlite+aiosqlite:///:memory:",
        "slack_bot_token": "xoxb-test-token-0000",
        "slack_signing_secret": "test-signing-secret-0000",
        "slack_api_url": "http://127.0.0.1:9/api/",
        "slack_channel_interval": 0.0,
        "workers": 0,
        "run_scheduler": False,
        "job_poll_seconds": 0.2,
        "public_url": None,
        "digest_channel": None,
        "ops_channel": None,
    }
    values.update(overrides)
    return IsolatedSettings(**values)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """The providers' own HTTP client (``build_http_client``), for talking to stand-ins."""
    async with build_http_client(timeout=5.0) as client:
        yield client


class FakeTime:
    """A clock that moves only when a test moves it or someone sleeps; every sleep is recorded.

    ``clock`` (or the object itself) is the monotonic reading; ``wall`` is ``wall0`` ahead of it.
    """

    def __init__(self, now: float = 0.0, wall0: float = 0.0) -> None:
        self.now = now
        self.wall0 = wall0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def clock(self) -> float:
        return self.now

    def wall(self) -> float:
        return self.wall0 + self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        # Let other tasks run, as a real sleep would.
        await asyncio.sleep(0)
