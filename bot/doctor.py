"""`debrief doctor`: one line per check, each marked, and what to do about the failing ones.

It reads and creates nothing: an SQLite file that does not exist yet is reported as such, not
made (``debrief serve`` makes it and applies the migrations).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TextIO

import aiohttp
from slack_sdk.errors import SlackApiError
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.config import Settings
from bot.plugins import Probe
from bot.slack import create_slack_client, slack_error
from bot.store.db import create_engine
from bot.store.migrate import pending
from providers.errors import (
    AuthenticationFailed,
    PermissionDenied,
    ProviderError,
    ProviderStatusError,
)

OK, WARN, FAIL, OFF = "✔", "!", "✘", "·"
LEGEND = f"{OK} in order   {WARN} works, but see the note   {FAIL} must be fixed   {OFF} off"


class Report:
    """The lines printed so far and how many of them are failures."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.failures = 0
        self.warnings = 0

    def section(self, title: str) -> None:
        self.out.write(f"{title}\n")

    def line(self, mark: str, text: str, fix: str | None = None) -> None:
        self.failures += mark == FAIL
        self.warnings += mark == WARN
        self.out.write(f"  {mark} {text}\n")
        if fix:
            self.out.write(f"      → {fix}\n")


async def run_doctor(settings: Settings, *, online: bool, out: TextIO) -> int:
    """Print a report; the exit status is 2 when a setting is wrong, 1 when another check
    failed, 0 otherwise."""
    report = Report(out)
    out.write(f"{LEGEND}\n\n")
    _settings(settings, report)
    wrong_settings = report.failures
    await _database(settings, report)
    if online:
        await _online(settings, report)
    out.write("\n")
    if report.failures:
        out.write(f"{report.failures} check(s) marked {FAIL} must be fixed; each says how.\n")
    elif report.warnings:
        out.write(f"Debrief can run; {report.warnings} note(s) marked {WARN} are worth a look.\n")
    else:
        out.write("Everything checked is in order.\n")
    if not online:
        out.write("Run `debrief doctor --online` to also try each credential.\n")
    if wrong_settings:
        return 2
    return 1 if report.failures else 0


def _settings(settings: Settings, report: Report) -> None:
    report.section("Settings")
    problems = settings.problems()
    named = {name for p in problems for name in p.setting.split(", ")}
    for feature in settings.features():
        if set(feature.required) & named:
            continue  # the problem line below says what is wrong with it
        if feature.enabled:
            extra = [n for n in feature.optional if not settings.is_set(n)]
            note = f" (optional, not set: {', '.join(extra)})" if extra else ""
            report.line(OK, f"{feature.name}: on{note}")
        else:
            report.line(
                OFF, f"{feature.name}: off (to turn it on, set {', '.join(feature.missing)})"
            )
    for problem in problems:
        report.line(FAIL, f"{problem.setting} {problem.problem}", problem.fix)
    if settings.public_url is None:
        report.line(
            WARN,
            "PUBLIC_URL is not set: provider webhooks and sign-ins need Debrief's address",
            "set PUBLIC_URL to the https:// address that reaches this process",
        )


async def _database(settings: Settings, report: Report) -> None:
    report.section("Database")
    url = make_url(settings.database_url)
    shown = url.render_as_string(hide_password=True)
    if url.drivername not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
        report.line(FAIL, f"cannot check {shown}: see DATABASE_URL above")
        return
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        missing = _missing_sqlite_file(Path(url.database or ""))
        if missing is not None:
            report.line(*missing)
            return
    engine = create_engine(settings.database_url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        report.line(OK, f"{url.get_backend_name()} reachable ({shown})")
        todo = await pending(engine)
    except Exception as exc:
        report.line(
            FAIL,
            f"cannot reach the database {shown}: {type(exc).__name__}: {exc}",
            "check DATABASE_URL and that the server is running",
        )
        return
    finally:
        await engine.dispose()
    if not todo:
        report.line(OK, "schema up to date")
    elif settings.is_sqlite:
        report.line(OK, f"{len(todo)} migration(s) to apply: `debrief serve` applies them itself")
    else:
        report.line(
            WARN,
            f"{len(todo)} migration(s) pending: `debrief serve` refuses to start until they are",
            "run `debrief migrate` (once, from one process)",
        )


def _missing_sqlite_file(path: Path) -> tuple[str, str, str | None] | None:
    """The line for an SQLite file that does not exist yet (opening it would create it)."""
    if path.exists():
        return None
    folder = path.parent.resolve()
    if folder.is_dir():
        return OK, f"SQLite file {path} does not exist yet: `debrief serve` creates it", None
    return (
        FAIL,
        f"SQLite file {path}: its folder {folder} does not exist",
        "create the folder, or point DATABASE_URL elsewhere",
    )


async def _online(settings: Settings, report: Report) -> None:
    report.section("Credentials (online)")
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
        client = create_slack_client(
            settings.secret("slack_bot_token"), settings.slack_api_url, session
        )
        try:
            answer = await client.auth_test()
            report.line(
                OK,
                f"Slack: SLACK_BOT_TOKEN works, for {answer.get('team')} as {answer.get('user')}",
            )
        except SlackApiError as exc:
            report.line(
                FAIL,
                f"Slack refused SLACK_BOT_TOKEN: {slack_error(exc)}",
                "copy the Bot User OAuth Token again (reinstall the app if it was revoked)",
            )
        except aiohttp.ClientError as exc:
            report.line(FAIL, f"cannot reach Slack at {settings.slack_api_url}: {exc}")
    from providers.http import build_http_client

    async with build_http_client() as http:
        for name, credential, probe in _probes(settings, http):
            try:
                await probe()
            except (AuthenticationFailed, PermissionDenied) as exc:
                report.line(
                    FAIL,
                    f"{name} refused {credential} ({exc.status_code})",
                    f"check {credential} in {name}'s settings",
                )
            except ProviderStatusError as exc:
                report.line(WARN, f"{name} answered {exc.status_code}: {exc.message}")
            except ProviderError as exc:
                report.line(FAIL, f"cannot reach {name}: {exc.message}")
            else:
                report.line(OK, f"{name}: {credential} works")


def _probes(settings: Settings, http: Any) -> list[tuple[str, str, Probe]]:
    """A cheap read per configured provider, named with the credential it tries."""
    probes: list[tuple[str, str, Probe]] = []
    for provider in settings.providers:
        found = provider.probe(settings, http) if provider.probe is not None else None
        if found is not None:
            credential, probe = found
            probes.append((provider.display_name, credential, probe))
    return probes
