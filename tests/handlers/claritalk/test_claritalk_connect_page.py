"""A connect link opens a page naming whose Slack account it links, works once, only from that
page in that browser, and never appears in a log record, DEBUG included."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from bot.logs import configure_logging
from handlers.claritalk.connections import JOB_NOTIFY, NotifyJob
from handlers.claritalk.oauth import CONFIRM_COOKIE, COOKIE
from handlers.claritalk.tables import OAuthState, SpentLink
from handlers.retention import JOB_PURGE
from sandbox.claritalk import ClaritalkStandIn
from tests.handlers.claritalk.support import (
    CALLBACK,
    PUBLIC,
    Clock,
    Rig,
    cookie_header,
    form_fields,
    rig,
)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def claritalk(clock: Clock) -> AsyncIterator[ClaritalkStandIn]:
    stand_in = ClaritalkStandIn(redirect_uris=[CALLBACK], clock=clock.wall)
    async with stand_in:
        yield stand_in


async def link_path(r: Rig, user: str = "U0ADA") -> str:
    answer = await r.command("claritalk connect", user=user)
    match = re.search(rf"<{re.escape(PUBLIC)}(/claritalk/connect\?t=[^|>]+)\|", answer)
    assert match, answer
    return match.group(1)


async def count(r: Rig, model: Any) -> int:
    async with r.services.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_the_page_names_the_slack_user_and_workspace_and_spends_nothing(
    database_url: str, claritalk: ClaritalkStandIn
) -> None:
    async with rig(database_url, claritalk) as r:
        path = await link_path(r)
        for _ in range(2):  # a second look (or a link scanner) leaves the link working
            opened = await r.client.get(path, allow_redirects=False)
            assert opened.status == 200
            page = await opened.text()
            assert "Ada Lovelace (@ada)" in page and "“Debrief Sandbox” Slack workspace" in page
            assert "Continue only if you are Ada Lovelace (@ada)" in page
            assert f'action="{PUBLIC}/claritalk/connect"' in page
            assert form_fields(page).keys() == {"t", "confirm"}
            cookie = opened.cookies[CONFIRM_COOKIE]
            assert cookie["httponly"] and cookie["secure"] and cookie["samesite"] == "Lax"
            assert cookie["path"] == "/claritalk/connect"
            assert opened.headers["Cache-Control"] == "no-store"
            # Browsers then name the page's origin when posting (never its path and query);
            # with no-referrer they post "Origin: null", which is refused.
            assert opened.headers["Referrer-Policy"] == "strict-origin"
        assert await count(r, SpentLink) == 0 and await count(r, OAuthState) == 0

        grace = await link_path(r, user="U0GRACE")
        page = await (await r.client.get(grace)).text()
        assert "Grace Hopper (@grace)" in page and "Ada" not in page


async def test_a_link_works_once(database_url: str, claritalk: ClaritalkStandIn) -> None:
    async with rig(database_url, claritalk) as r:
        path = await link_path(r)
        opened = await r.client.get(path, allow_redirects=False)
        fields, cookie = form_fields(await opened.text()), cookie_header(opened, CONFIRM_COOKIE)
        # As a browser posts it: from the page's own origin (PUBLIC_URL's, default port spelt).
        origin = {"Origin": "https://debrief.example.com:443"}
        continued = await r.client.post(
            "/claritalk/connect", data=fields, headers=cookie | origin, allow_redirects=False
        )
        assert continued.status == 303
        assert continued.headers["Location"].startswith(f"{claritalk.url}/oauth/authorize?")
        assert continued.cookies[CONFIRM_COOKIE].value == "", "the page's cookie is dropped"

        again = await r.client.get(path, allow_redirects=False)
        assert again.status == 410
        said = await again.text()
        assert "already used" in said and "/debrief claritalk connect" in said
        # The same form posted again (a double click, a back button): still used.
        twice = await r.client.post(
            "/claritalk/connect", data=fields, headers=cookie, allow_redirects=False
        )
        assert twice.status == 410 and "already used" in await twice.text()
        assert await count(r, OAuthState) == 1

        fresh = await link_path(r)  # the way out the page names
        assert (await r.confirm(fresh)).status == 303


async def test_two_continues_at_once_start_one_sign_in(
    database_url: str, claritalk: ClaritalkStandIn
) -> None:
    async with rig(database_url, claritalk) as r:
        opened = await r.client.get(await link_path(r), allow_redirects=False)
        fields, cookie = form_fields(await opened.text()), cookie_header(opened, CONFIRM_COOKIE)
        answers = await asyncio.gather(
            *[
                r.client.post(
                    "/claritalk/connect", data=fields, headers=cookie, allow_redirects=False
                )
                for _ in range(4)
            ]
        )
        assert sorted(a.status for a in answers) == [303, 410, 410, 410]
        assert await count(r, OAuthState) == 1 and await count(r, SpentLink) == 1


def _without_cookie(fields: dict[str, str], cookie: dict[str, str]) -> dict[str, Any]:
    return {"data": fields}


def _other_browser(fields: dict[str, str], cookie: dict[str, str]) -> dict[str, Any]:
    return {"data": fields, "headers": {"Cookie": f"{CONFIRM_COOKIE}={'b' * 43}"}}


def _no_code(fields: dict[str, str], cookie: dict[str, str]) -> dict[str, Any]:
    return {"data": {"t": fields["t"]}, "headers": cookie}


def _forged_code(fields: dict[str, str], cookie: dict[str, str]) -> dict[str, Any]:
    return {"data": {**fields, "confirm": "A" * 43}, "headers": cookie}


def _from_a_sibling_site(fields: dict[str, str], cookie: dict[str, str]) -> dict[str, Any]:
    # Same site, so a Lax cookie comes along (it could even have set it): its origin differs.
    return {"data": fields, "headers": {**cookie, "Origin": "https://evil.example.com"}}


def _from_a_null_origin(fields: dict[str, str], cookie: dict[str, str]) -> dict[str, Any]:
    return {"data": fields, "headers": {**cookie, "Origin": "null"}}


def _as_json(fields: dict[str, str], cookie: dict[str, str]) -> dict[str, Any]:
    return {"json": fields, "headers": cookie}


def _oversized(fields: dict[str, str], cookie: dict[str, str]) -> dict[str, Any]:
    return {"data": {**fields, "pad": "x" * 5000}, "headers": cookie}


def _not_utf8(fields: dict[str, str], cookie: dict[str, str]) -> dict[str, Any]:
    headers = {**cookie, "Content-Type": "application/x-www-form-urlencoded"}
    return {"data": b"t=\xff\xfe", "headers": headers}


@pytest.mark.parametrize(
    ("post", "status"),
    [
        (_without_cookie, 403),
        (_other_browser, 403),
        (_no_code, 403),
        (_forged_code, 403),
        (_from_a_sibling_site, 403),
        (_from_a_null_origin, 403),
        (_as_json, 400),
        (_oversized, 400),
        (_not_utf8, 400),
    ],
    ids=[
        "no-cookie",
        "other-browser",
        "no-code",
        "forged-code",
        "sibling-origin",
        "null-origin",
        "json",
        "oversized",
        "not-utf8",
    ],
)
async def test_a_continue_not_from_the_page_in_this_browser_is_refused(
    database_url: str, claritalk: ClaritalkStandIn, post: Any, status: int
) -> None:
    async with rig(database_url, claritalk) as r:
        path = await link_path(r)
        opened = await r.client.get(path, allow_redirects=False)
        fields, cookie = form_fields(await opened.text()), cookie_header(opened, CONFIRM_COOKIE)
        r.client.session.cookie_jar.clear()
        refused = await r.client.post(
            "/claritalk/connect", allow_redirects=False, **post(fields, cookie)
        )
        assert refused.status == status
        assert "Claritalk was not connected" in await refused.text()
        assert "Location" not in refused.headers and COOKIE not in refused.cookies
        assert await count(r, SpentLink) == 0 and await count(r, OAuthState) == 0
        assert (await r.confirm(path)).status == 303, "the link still works from its page"


async def test_a_code_from_another_links_page_is_refused(
    database_url: str, claritalk: ClaritalkStandIn
) -> None:
    """Someone with a link of their own cannot post it with a code made for another."""
    async with rig(database_url, claritalk) as r:
        mine = await r.client.get(await link_path(r), allow_redirects=False)
        theirs = await r.client.get(await link_path(r, "U0GRACE"), allow_redirects=False)
        fields = {
            "t": form_fields(await theirs.text())["t"],
            "confirm": form_fields(await mine.text())["confirm"],
        }
        refused = await r.client.post(
            "/claritalk/connect",
            data=fields,
            headers=cookie_header(mine, CONFIRM_COOKIE),
            allow_redirects=False,
        )
        assert refused.status == 403
        assert await count(r, OAuthState) == 0


async def test_the_success_page_names_the_slack_account(
    database_url: str, claritalk: ClaritalkStandIn
) -> None:
    # A colleague's Claritalk account, approved on Ada's forwarded link: both pages say whose
    # Slack account it is, so the colleague can tell.
    claritalk.approve_as = "grace@example.com"
    async with rig(database_url, claritalk) as r:
        done = await r.callback(await r.confirm(await link_path(r)))
        assert done.status == 200
        page = await done.text()
        assert "Claritalk is connected" in page and "Grace Hopper" in page
        assert "Slack account of Ada Lovelace (@ada)" in page
        assert "“Debrief Sandbox” Slack workspace" in page


async def test_a_slack_outage_still_names_the_account_by_its_id(
    sqlite_url: str, claritalk: ClaritalkStandIn
) -> None:
    async with rig(sqlite_url, claritalk) as r:
        path = await link_path(r)
        await r.slack.stop()
        opened = await r.client.get(path, allow_redirects=False)
        assert opened.status == 200
        assert "Slack account of U0ADA in the “T0SANDBOX” Slack workspace" in await opened.text()


@contextmanager
def every_logger_at_debug() -> Iterator[list[logging.LogRecord]]:
    """Debrief's logging as `debrief serve` sets it up, then every logger at DEBUG; the records
    as a handler of its own (added first, as a test's or a library's would be) receives them."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    root = logging.getLogger()
    saved = (list(root.handlers), root.level, logging.getLogRecordFactory())
    loggers = [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    levels = [(logger, logger.level) for logger in loggers]
    root.addHandler(Keep(logging.DEBUG))
    configure_logging("DEBUG")
    for logger in [root, *loggers]:
        logger.setLevel(logging.DEBUG)
    try:
        yield records
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        logging.setLogRecordFactory(saved[2])
        for logger, level in levels:
            logger.setLevel(level)


def _texts(record: logging.LogRecord) -> str:
    return "\n".join(
        str(part)
        for part in (record.getMessage(), record.exc_text, record.stack_info, record.args)
        if part
    )


async def test_no_log_record_holds_a_link_or_token_at_debug(
    sqlite_url: str, claritalk: ClaritalkStandIn
) -> None:
    async with rig(sqlite_url, claritalk) as r:
        with every_logger_at_debug() as records:
            path = await link_path(r)
            opened = await r.client.get(path, allow_redirects=False)
            confirm = form_fields(await opened.text())["confirm"]
            continued = await r.client.post(
                "/claritalk/connect",
                data=form_fields(await opened.text()),
                headers=cookie_header(opened, CONFIRM_COOKIE),
                allow_redirects=False,
            )
            done = await r.callback(continued)
            assert done.status == 200
            await r.drain()  # the "connected" DM
            token = await r.token()
            assert "deleted your Claritalk tokens" in await r.command("claritalk disconnect")
            await r.enqueue(
                JOB_NOTIFY,
                NotifyJob(user_id="U0ADA", kind="lapsed", at=r.clock.now()).model_dump(mode="json"),
            )
            await r.drain()  # the DM with a reconnect link
            (_, lapsed) = r.slack.dms("U0ADA")
            reconnect = re.search(r"connect\?t=([^|>]+)\|", lapsed.text)
            assert reconnect

        callback = claritalk.calls_to("/oauth/token")[0].body.decode()
        assert token is not None and token.refresh_token
        capabilities = {
            "link": path.split("t=", 1)[1],
            "reconnect link": reconnect.group(1),
            "confirm code": confirm,
            "confirm cookie": opened.cookies[CONFIRM_COOKIE].value,
            "oauth cookie": continued.cookies[COOKIE].value,
            "state": parse_qs(urlsplit(continued.headers["Location"]).query)["state"][0],
            "code": parse_qs(callback)["code"][0],
            "access token": token.access_token,
            "refresh token": token.refresh_token,
        }
        logged = "\n".join(_texts(record) for record in records)
        leaked = [name for name, value in capabilities.items() if value in logged]
        assert leaked == [], f"in the log: {leaked}"
        # The libraries did log what carries them, with the capability redacted.
        bolt = [_texts(x) for x in records if x.name.startswith("slack_bolt")]
        sdk = [_texts(x) for x in records if x.name.startswith("slack_sdk")]
        assert any("claritalk/connect?t=[redacted]" in text for text in bolt), bolt
        assert any("claritalk/connect?t=[redacted]" in text for text in sdk), sdk


async def test_spent_links_are_forgotten_once_they_would_have_expired(
    database_url: str, claritalk: ClaritalkStandIn, clock: Clock
) -> None:
    async with rig(database_url, claritalk, clock) as r:
        path = await link_path(r)
        assert (await r.confirm(path)).status == 303
        clock.advance(minutes=14)
        await r.enqueue(JOB_PURGE)
        await r.drain()
        assert await count(r, SpentLink) == 1, "kept while the link could still be used"
        assert (await r.client.get(path)).status == 410
        clock.advance(minutes=2)
        await r.enqueue(JOB_PURGE)
        await r.drain()
        assert await count(r, SpentLink) == 0
        expired = await r.client.get(path)
        assert expired.status == 403 and "expired" in await expired.text()
