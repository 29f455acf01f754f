"""The browser side of connecting a Claritalk account: the shared consent flow
(``handlers.oauth.flow``) with Claritalk's words, links and authorize URL, and what Claritalk's
code becomes.

``GET /claritalk/connect?t=<signed link>`` asks whose Slack account it connects, ``POST
/claritalk/connect`` spends the link and sends the browser to Claritalk with a single-use state
bound to it, and ``GET /claritalk/callback`` spends the state, exchanges the code, stores the
token pair encrypted, names the Slack account it was connected to, and tells the user in Slack.
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot.crypto import SecretsUnavailable
from bot.services import Services
from bot.store.db import transaction
from handlers.claritalk import access, store
from handlers.claritalk.connections import JOB_NOTIFY, NotifyJob
from handlers.claritalk.links import SIGNER
from handlers.claritalk.settings import claritalk_settings
from handlers.oauth.flow import (
    STATE_TTL,
    ConsentFlow,
    callback_handler,
    connect_handler,
    continue_handler,
    now,
)
from handlers.oauth.names import slack_names
from handlers.oauth.pages import page
from handlers.oauth.states import TakenState
from providers.claritalk import (
    ClaritalkClient,
    ClaritalkUser,
    PersonalAccessToken,
    Token,
    authorize_url,
    exchange_code,
)
from providers.errors import AuthenticationFailed, ProviderError

__all__ = [
    "CONFIRM_COOKIE",
    "COOKIE",
    "FLOW",
    "STATE_TTL",
    "handle_callback",
    "handle_connect",
    "handle_continue",
]

log = logging.getLogger(__name__)

#: The cookie tying a callback to the browser that started the connection.
COOKIE = "debrief_claritalk_oauth"
#: The cookie tying the *Continue* form to the browser that was shown the confirmation page.
CONFIRM_COOKIE = "debrief_claritalk_confirm"

#: Where to send whoever holds a spent link.
USED_HINT = (
    "In Slack, run /debrief claritalk connect for a new link, or /debrief claritalk status to see "
    "whether your account is connected."
)


def _authorize(services: Services, redirect_uri: str, state: str) -> str:
    own = claritalk_settings(services.settings)
    return authorize_url(
        own.claritalk_client_id or "", redirect_uri, state, base_url=own.claritalk_api_url
    )


async def _finish(services: Services, taken: TakenState, code: str) -> web.Response:
    """Exchange the code, store the tokens encrypted, tell the user."""
    settings = services.settings
    try:
        token = await exchange_code(
            services.http,
            code,
            access.callback_url(settings),
            claritalk_settings(settings).claritalk_client_id or "",
            settings.secret("claritalk_client_secret") or "",
            base_url=claritalk_settings(settings).claritalk_api_url,
            clock=lambda: now(services).timestamp(),
        )
    except AuthenticationFailed as exc:
        log.warning("claritalk code exchange refused: %s", exc.message)
        return FLOW.start_again(exc.message)
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
        log.warning("claritalk tokens not stored: DEBRIEF_ENCRYPTION_KEYS is not set")
        return page(
            "Claritalk cannot be connected here",
            "Debrief has no key to encrypt your Claritalk tokens with, and it never stores them "
            "unencrypted. Ask whoever runs Debrief to add one.",
            status=404,
        )
    log.info("claritalk connected for %s", taken.user_id)
    who = identity.name or identity.email if identity else None
    names = await slack_names(services, taken.team_id, taken.user_id)
    return page(
        "Claritalk is connected",
        f"Your Claritalk account{f' {who}' if who else ''} is now connected to Debrief for the "
        f"Slack account of {names.account()}. Debrief will confirm it in Slack.",
        ok=True,
    )


async def _identity(services: Services, token: Token) -> ClaritalkUser | None:
    """Who the new connection belongs to, for the confirmation; None if Claritalk won't say."""
    client = ClaritalkClient(
        services.http,
        token_source=PersonalAccessToken(token.access_token),
        base_url=claritalk_settings(services.settings).claritalk_api_url,
    )
    try:
        return await client.current_user()
    except ProviderError as exc:
        log.info("claritalk: could not read the connected user: %s", exc)
        return None


FLOW = ConsentFlow(
    provider=store.PROVIDER,
    product="Claritalk",
    an_account="a Claritalk account",
    site="Claritalk",
    consequence=(
        "Whoever signs in at Claritalk next links their Claritalk account to that Slack account, "
        "and Debrief then acts in Claritalk for it."
    ),
    restart="/debrief claritalk connect",
    used_hint=USED_HINT,
    connect_path=access.CONNECT_PATH,
    callback_path=access.CALLBACK_PATH,
    cookie=COOKIE,
    confirm_cookie=CONFIRM_COOKIE,
    signer=SIGNER,
    problem=access.connect_problem,
    authorize=_authorize,
    finish=_finish,
)

handle_connect = connect_handler(FLOW)
handle_continue = continue_handler(FLOW)
handle_callback = callback_handler([FLOW])
