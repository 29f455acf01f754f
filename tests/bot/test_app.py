"""The aiohttp application: health, metrics, doctor, and start-up rules."""

from __future__ import annotations

import io
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bot.app import Options, create_web_app
from bot.doctor import run_doctor
from tests.conftest import make_settings


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


async def test_a_database_behind_its_migrations_refuses_to_start(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    with pytest.raises(RuntimeError, match="debrief migrate"):
        await create_web_app(make_settings(database_url=url), Options(workers=0, migrate=False))


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
