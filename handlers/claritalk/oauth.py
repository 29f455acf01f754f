"""The browser side of connecting a Claritalk account.

``GET /claritalk/connect?t=<signed link>`` checks the link and shows whose Slack account it
connects, with a *Continue* form; opening it spends nothing, so a link scanner or a second look
does no harm. ``POST /claritalk/connect`` (that form, bound to the link and to a cookie of the
browser that was shown it) spends the link, remembers a fresh single-use ``state`` (hashed) bound
to the link's Slack user and to a cookie of this browser, and redirects to Claritalk's authorize
page; the link then only says it was used. ``GET /claritalk/callback`` spends the state (unknown,
used, expired or from another browser: refused), exchanges the code, stores the token pair
encrypted, names the Slack account it was connected to, and tells the user in Slack.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import datetime, timedelta
from urllib.parse import parse_qs

from aiohttp import web
from yarl import URL

from bot.crypto import SecretsUnavailable
from bot.services import SERVICES, Services
from bot.store.db import transaction
from handlers.claritalk import access, store
from handlers.claritalk.connections import JOB_NOTIFY, NotifyJob
from handlers.claritalk.links import (
    MAX_TOKEN,
    InvalidLink,
    LinkClaim,
    confirm_code,
    confirm_matches,
    verify_link,
)
from handlers.claritalk.pages import SAFE_HEADERS, form_page, page, start_again
from handlers.claritalk.settings import claritalk_settings
from handlers.claritalk.slack_names import slack_names
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
#: The cookie tying the *Continue* form to the browser that was shown the confirmation page.
CONFIRM_COOKIE = "debrief_claritalk_confirm"
#: Time to log in at Claritalk and come back.
STATE_TTL = timedelta(minutes=10)
#: The form holds a link and a confirmation code: anything longer is not that form.
MAX_FORM = 2 * MAX_TOKEN + 256
_COOKIE_VALUE = re.compile(r"[A-Za-z0-9_-]{43}")

#: Where to send whoever holds a spent link.
USED_HINT = (
    "In Slack, run /debrief claritalk connect for a new link, or /debrief claritalk status to see "
    "whether your account is connected."
)


def _link(services: Services, token: str) -> LinkClaim:
    return verify_link(services.settings.encryption_key_list(), token, now(services))


def _used() -> web.Response:
    return page(
        "This link was already used",
        "A Claritalk connect link works once, and this one has been used.",
        status=410,
        hint=USED_HINT,
    )


def _from_elsewhere(request: web.Request, services: Services) -> bool:
    """Whether the browser says the form was posted from a page of another origin.

    The cookie binding alone would not stop a sibling subdomain (same *site*, so a ``Lax``
    cookie comes along, and it could have set that cookie itself); browsers name the posting
    page's origin, which must be ``PUBLIC_URL``'s. No ``Origin`` at all: the binding decides.
    """
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    try:
        # As text: URL equality tells an explicit default port (":443") from none.
        ours = str(URL(access.public_url(services.settings) or "").origin())
        return str(URL(origin).origin()) != ours
    except ValueError:  # "null" (a sandboxed frame, a privacy-minded redirect) or garbage
        return True


def _not_from_the_page() -> web.Response:
    return page(
        "Claritalk was not connected",
        "This confirmation did not come from the page Debrief showed in this browser.",
        status=403,
        hint="Nothing was connected. Open the link from Slack again and continue there.",
    )


def _secure(services: Services) -> bool:
    return access.callback_url(services.settings).startswith("https://")


async def handle_connect(request: web.Request) -> web.Response:
    """Check the signed link and ask, naming the Slack user and workspace, whether to continue."""
    services = request.app[SERVICES]
    settings = services.settings
    problem = access.connect_problem(settings)
    if problem is not None:
        return page("Claritalk cannot be connected here", problem.replace("`", ""), status=404)
    token = request.query.get("t", "")
    try:
        claim = _link(services, token)
    except InvalidLink as exc:
        log.info("claritalk connect link refused: %s", exc)
        return start_again("This link does not work", str(exc), status=403)
    if await store.link_spent(services.sessions, claim.link_id):
        return _used()
    names = await slack_names(services, claim.team_id, claim.user_id)
    # The same browser keeps its cookie, so that a page opened in another tab still works.
    browser = request.cookies.get(CONFIRM_COOKIE, "")
    if not _COOKIE_VALUE.fullmatch(browser):
        browser = secrets.token_urlsafe(32)
    response = form_page(
        "Connect Claritalk to this Slack account?",
        [
            f"This link connects a Claritalk account to the Slack account of {names.account()}.",
            f"Continue only if you are {names.user}. Whoever signs in at Claritalk next links "
            "their Claritalk account to that Slack account, and Debrief then acts in Claritalk "
            "for it. The link works once.",
        ],
        action=(access.public_url(settings) or "") + access.CONNECT_PATH,
        fields={
            "t": token,
            "confirm": confirm_code(settings.encryption_key_list(), token, browser),
        },
        button="Continue to Claritalk",
        hint=f"Not {names.user}? Close this tab: nothing is connected unless you continue.",
    )
    lifetime = (claim.expires_at - now(services)).total_seconds()
    response.set_cookie(
        CONFIRM_COOKIE,
        browser,
        max_age=max(60, int(lifetime)),
        path=access.CONNECT_PATH,
        httponly=True,
        secure=_secure(services),
        # Never sent with a form posted from another site; sent on the link's own navigation.
        samesite="Lax",
    )
    return response


async def _form(request: web.Request) -> dict[str, str] | None:
    """The posted form's fields (the first of each), or None when it is not a small form."""
    length = request.content_length
    if request.content_type != "application/x-www-form-urlencoded" or length is None:
        return None
    if length > MAX_FORM:
        return None
    try:
        text = (await request.read()).decode("utf-8")
        fields = parse_qs(text, keep_blank_values=True, max_num_fields=8)
    except (UnicodeDecodeError, ValueError):
        return None
    return {name: values[0] for name, values in fields.items()}


async def handle_continue(request: web.Request) -> web.Response:
    """Spend the link, then send the browser to Claritalk with a fresh state."""
    services = request.app[SERVICES]
    settings = services.settings
    problem = access.connect_problem(settings)
    if problem is not None:
        return page("Claritalk cannot be connected here", problem.replace("`", ""), status=404)
    if _from_elsewhere(request, services):
        log.warning("claritalk connect confirmation refused: posted from another origin")
        return _not_from_the_page()
    form = await _form(request)
    if form is None:
        return start_again("Claritalk was not connected", "the form was not the one Debrief sent")
    token = form.get("t", "")
    try:
        claim = _link(services, token)
    except InvalidLink as exc:
        log.info("claritalk connect link refused: %s", exc)
        return start_again("This link does not work", str(exc), status=403)
    browser = request.cookies.get(CONFIRM_COOKIE, "")
    if not confirm_matches(settings.encryption_key_list(), token, browser, form.get("confirm", "")):
        # A form posted from elsewhere (another site, another browser): it must not start a
        # connection in this browser, which would link *its* Claritalk account.
        log.warning("claritalk connect confirmation refused: not from the page shown here")
        return _not_from_the_page()
    state, oauth_browser = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    moment = now(services)
    async with transaction(services.sessions) as session:
        spent = await store.spend_link(
            session,
            link_id=claim.link_id,
            team_id=claim.team_id,
            user_id=claim.user_id,
            now=moment,
            expires_at=claim.expires_at,
        )
        if spent:
            await store.create_state(
                session,
                state=state,
                browser=oauth_browser,
                team_id=claim.team_id,
                user_id=claim.user_id,
                now=moment,
                ttl=STATE_TTL,
            )
    if not spent:
        return _used()
    location = authorize_url(
        claritalk_settings(settings).claritalk_client_id or "",
        access.callback_url(settings),
        state,
        base_url=claritalk_settings(settings).claritalk_api_url,
    )
    # 303: the browser follows with a GET, never posting the form to Claritalk.
    response = web.Response(status=303, headers={"Location": location, **SAFE_HEADERS})
    response.set_cookie(
        COOKIE,
        oauth_browser,
        max_age=int(STATE_TTL.total_seconds()),
        path=access.CALLBACK_PATH,
        httponly=True,
        secure=_secure(services),
        # Lax: the cookie still comes along on Claritalk's top-level redirect back here.
        samesite="Lax",
    )
    response.del_cookie(CONFIRM_COOKIE, path=access.CONNECT_PATH)
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
        return page("Claritalk cannot be connected here", problem.replace("`", ""), status=404)
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
    response = page(
        "Claritalk is connected",
        f"Your Claritalk account{f' {who}' if who else ''} is now connected to Debrief for the "
        f"Slack account of {names.account()}. Debrief will confirm it in Slack.",
        ok=True,
    )
    response.del_cookie(COOKIE, path=access.CALLBACK_PATH)
    return response


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


def now(services: Services) -> datetime:
    return services.clock()
