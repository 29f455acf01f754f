"""`debrief doctor`: what is configured, what is missing, and whether the parts answer."""

from __future__ import annotations

from typing import TextIO

import aiohttp
from slack_sdk.errors import SlackApiError
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.config import Settings
from bot.slack import create_slack_client, slack_error
from bot.store.db import create_engine
from bot.store.migrate import pending

OK, WARN, FAIL = "✔", "!", "✘"


async def run_doctor(settings: Settings, *, online: bool, out: TextIO) -> int:
    """Print a report; the exit status is 1 when something required is broken."""
    failures = 0

    def line(mark: str, text: str) -> None:
        out.write(f"  {mark} {text}\n")

    out.write("Features\n")
    for feature in settings.features():
        if feature.enabled:
            extra = [n for n in feature.optional if not settings.is_set(n)]
            note = f" (optional, not set: {', '.join(extra)})" if extra else ""
            line(OK, f"{feature.name}: enabled{note}")
        else:
            line(WARN, f"{feature.name}: off — set {', '.join(feature.missing)}")
    slack_ok = all(settings.is_set(n) for n in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"))
    if not slack_ok:
        failures += 1
    if settings.public_url is None:
        line(WARN, "PUBLIC_URL: not set — Slack and providers need it to reach Debrief's webhooks")

    out.write("Database\n")
    url = make_url(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        line(OK, f"{url.get_backend_name()} reachable ({url.render_as_string(hide_password=True)})")
        todo = await pending(engine)
        if todo:
            line(WARN, f"{len(todo)} migration(s) pending — run `debrief migrate`")
        else:
            line(OK, "schema up to date")
    except Exception as exc:
        failures += 1
        line(FAIL, f"cannot reach the database: {type(exc).__name__}: {exc}")
    finally:
        await engine.dispose()

    if online:
        out.write("Slack\n")
        async with aiohttp.ClientSession() as session:
            client = create_slack_client(
                settings.secret("slack_bot_token"), settings.slack_api_url, session
            )
            try:
                answer = await client.auth_test()
                line(OK, f"auth.test: {answer.get('team')} as {answer.get('user')}")
            except SlackApiError as exc:
                failures += 1
                line(FAIL, f"auth.test refused: {slack_error(exc)}")
            except aiohttp.ClientError as exc:
                failures += 1
                line(FAIL, f"cannot reach {settings.slack_api_url}: {exc}")
    out.write(
        "\n"
        + (
            "All required parts are in order.\n"
            if not failures
            else f"{failures} problem(s) need attention.\n"
        )
    )
    return 1 if failures else 0
