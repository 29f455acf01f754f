"""The browser side of connecting a Claritalk account.

``GET /claritalk/connect?t=<signed link>`` checks the link, remembers a fresh single-use ``state``
(hashed) bound to the link's Slack user and to a cookie of this browser, and redirects to
Claritalk's authorize page. ``GET /claritalk/callback`` spends the state (unknown, used, expired
or from another browser: refused), exchanges the code, stores the token pair encrypted and tells
the user in Slack.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from aiohttp import web

from bot.crypto import SecretsUnavailable
from bot.services import SERVICES, Services
from bot.store.db import transaction
from handlers.claritalk import access, store
from handlers.claritalk.connections import JOB_NOTIFY, NotifyJob
from handlers.claritalk.links import InvalidLink, verify_link
from handlers.claritalk.pages import SAFE_HEADERS, page, start_again
from providers.claritalk import (
    ClaritalkClient,
    ClaritalkUser,
    PersonalAccessToken,
    Token,
    authorize_url,
    exchange_code,
)
from providers.errors import AuthenticationFailed, ProviderError

log = logging.getLogger(__name__)

#: The cookie tying a callback to the browser that started the connection.
COOKIE = "debrief_claritalk_oauth"
#: Time to log in at Claritalk and come back.
STATE_TTL = timedelta(minutes=10)


async def handle_connect(request: web.Request) -> web.Response:
    """Check the signed link, then send the browser to Claritalk with a fresh state."""
    services = request.app[SERVICES]
    settings = services.settings
    problem = access.connect_problem(settings)
    if problem is not None:
        return page("Claritalk cannot be connected here", problem.replace("`", ""), status=503)
    try:
        token = request.query.get("t", "")
        claim = verify_link(settings.encryption_key_list(), token, now(services))
    except InvalidLink as exc:
        log.info("claritalk connect link refused: %s", exc)
        return start_again("This link does not work", str(exc), status=403)
    state, browser = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    async with transaction(services.sessions) as session:
        await store.create_state(
            session,
            state=state,
            browser=browser,
            team_id=claim.team_id,
            user_id=claim.user_id,
            now=now(services),
            ttl=STATE_TTL,
        )
    location = authorize_url(
        settings.claritalk_client_id or "",
        access.callback_url(settings),
        state,
        base_url=settings.claritalk_api_url,
    )
    response = web.Response(status=302, headers={"Location": location, **SAFE_HEADERS})
    response.set_cookie(
        COOKIE,
        browser,
        max_age=int(STATE_TTL.total_seconds()),
        path=access.CALLBACK_PATH,
        httponly=True,
        secure=access.callback_url(settings).startswith("https://"),
        # Lax: the cookie still comes along on Claritalk's top-level redirect back here.
        samesite="Lax",
    )
    return response


async def handle_callback(request: web.Request) -> web.Response:
    """Spend the state, exchange the code, store the tokens encrypted, tell the user."""
    services = request.app[SERVICES]
    settings = services.settings
    query = request.query
    try:
        taken = await store.take_state(
            services.sessions, query.get("state", ""), request.cookies.get(COOKIE), now(services)
        )
    except store.StateRefused as exc:
        log.warning("claritalk callback refused: %s", exc.reason)
        return start_again("Claritalk was not connected", exc.reason)
    if query.get("error"):
        said = query.get("error_description") or query["error"]
        return start_again("Claritalk was not connected", f"Claritalk answered: {said[:300]}")
    code = query.get("code", "")
    if not code:
        return start_again("Claritalk was not connected", "Claritalk sent no authorization code")
    problem = access.connect_problem(settings)
    if problem is not None:
        return page("Claritalk cannot be connected here", problem.replace("`", ""), status=503)
    try:
        token = await exchange_code(
            services.http,
            code,
            access.callback_url(settings),
            settings.claritalk_client_id or "",
            settings.secret("claritalk_client_secret") or "",
            base_url=settings.claritalk_api_url,
            clock=lambda: now(services).timestamp(),
        )
    except AuthenticationFailed as exc:
        log.warning("claritalk code exchange refused: %s", exc.message)
        return start_again("Claritalk was not connected", exc.message)
    except ProviderError as exc:
        log.warning("claritalk code exchange failed: %s", exc)
        return page(
            "Claritalk is unavailable",
            "Claritalk could not be reached to finish connecting your account.",
            status=502,
            hint="Nothing was connected. Try again in a minute with /debrief claritalk connect.",
        )
    identity = await _identity(services, token)
    moment = now(services)
    try:
        async with transaction(services.sessions) as session:
            await store.connect(
                session,
                access.secret_box(settings),
                team_id=taken.team_id,
                user_id=taken.user_id,
                token=token,
                identity=identity,
                now=moment,
            )
            await services.queue.enqueue(
                session, JOB_NOTIFY, NotifyJob(user_id=taken.user_id, kind="connected", at=moment)
            )
    except SecretsUnavailable:
        return page(
            "Claritalk cannot be connected here",
            "DEBRIEF_ENCRYPTION_KEYS is not set, and Debrief never stores tokens unencrypted.",
            status=503,
        )
    log.info("claritalk connected for %s", taken.user_id)
    who = identity.name or identity.email if identity else None
    response = page(
        "Claritalk is connected",
        f"Your Claritalk account{f' {who}' if who else ''} is now connected to Debrief. "
        "Debrief will confirm it in Slack.",
        ok=True,
    )
    response.del_cookie(COOKIE, path=access.CALLBACK_PATH)
    return response


async def _identity(services: Services, token: Token) -> ClaritalkUser | None:
    """Who the new connection belongs to, for the confirmation; None if Claritalk won't say."""
    client = ClaritalkClient(
        services.http,
        token_source=PersonalAccessToken(token.access_token),
        base_url=services.settings.claritalk_api_url,
    )
    try:
        return await client.current_user()
    except ProviderError as exc:
        log.info("claritalk: could not read the connected user: %s", exc)
        return None


def now(services: Services) -> datetime:
    return services.clock()
