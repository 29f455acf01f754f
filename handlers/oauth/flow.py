"""The browser side of connecting an account by OAuth's authorization code, for any feature.

``GET <connect path>?t=<signed link>`` checks the link and shows whose Slack account it
connects, with a *Continue* form; opening it spends nothing, so a link scanner or a second look
does no harm. ``POST <connect path>`` (that form, bound to the link and to a cookie of the
browser that was shown it) spends the link, remembers a fresh single-use ``state`` (hashed) bound
to the link's Slack user and to a cookie of this browser, and redirects to the provider's
authorize page; the link then only says it was used. ``GET <callback path>`` spends the state
(unknown, used, expired or from another browser: refused) and hands the code to the feature
(:attr:`ConsentFlow.finish`), which exchanges it and says what happened.

One callback path may serve several flows (Google and Microsoft calendars share theirs): the
state names its flow, and each flow has its own browser cookie.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qs

from aiohttp import web
from yarl import URL

from bot.config import Settings
from bot.services import SERVICES, Services
from bot.store.db import transaction
from handlers.oauth import states
from handlers.oauth.links import MAX_TOKEN, InvalidLink, LinkClaim, LinkSigner
from handlers.oauth.names import slack_names
from handlers.oauth.pages import SAFE_HEADERS, form_page, page, start_again
from handlers.oauth.states import TakenState

log = logging.getLogger(__name__)

#: Time to log in at the provider and come back.
STATE_TTL = timedelta(minutes=10)
#: The form holds a link and a confirmation code: anything longer is not that form.
MAX_FORM = 2 * MAX_TOKEN + 256
_COOKIE_VALUE = re.compile(r"[A-Za-z0-9_-]{43}")

#: The provider's authorize URL for a state: ``(services, redirect_uri, state) -> URL``.
Authorize = Callable[[Services, str, str], str]
#: What the feature does with the code of a spent state: its answer is the page shown.
Finish = Callable[[Services, TakenState, str], Awaitable[web.Response]]


@dataclass(frozen=True)
class ConsentFlow:
    """One kind of connection: its paths, cookies, link signer, words and provider calls."""

    #: Names its states and spent links (``oauth_states.provider``): ``claritalk``,
    #: ``calendar.google`` …; at most 32 characters.
    provider: str
    #: What is connected, as a title says it: ``Claritalk``, ``Google Calendar``.
    product: str
    #: … and as a sentence says it: ``a Claritalk account``, ``a Google calendar``.
    an_account: str
    #: Where the person signs in: ``Claritalk``, ``Google``.
    site: str
    #: What connecting lets Debrief do, said before the person continues.
    consequence: str
    #: The command that makes a new link (``/debrief claritalk connect``).
    restart: str
    #: Where to send whoever holds a spent link.
    used_hint: str
    connect_path: str
    callback_path: str
    #: The cookie tying a callback to the browser that started the connection.
    cookie: str
    #: The cookie tying the *Continue* form to the browser that was shown the confirmation page.
    confirm_cookie: str
    signer: LinkSigner
    #: What to tell a person when this Debrief cannot make the connection; None when it can.
    problem: Callable[[Settings], str | None]
    authorize: Authorize
    finish: Finish

    def link(self, services: Services, team_id: str, user_id: str, ttl: timedelta) -> str:
        """``PUBLIC_URL<connect path>?t=…``, signed for this user and valid for ``ttl``.

        Raises:
            InvalidLink: no key to sign with.
        """
        settings = services.settings
        keys = settings.encryption_key_list()
        token = self.signer.sign(keys, team_id, user_id, services.clock() + ttl)
        return f"{public_url(settings) or ''}{self.connect_path}?t={token}"

    def callback_url(self, settings: Settings) -> str:
        """The ``redirect_uri`` registered with the provider."""
        return (public_url(settings) or "") + self.callback_path

    def start_again(self, reason: str, status: int = 400) -> web.Response:
        return start_again(
            f"{self.product} was not connected", reason, status, restart=self.restart
        )

    def cannot_here(self, problem: str) -> web.Response:
        return page(
            f"{self.product} cannot be connected here", problem.replace("`", ""), status=404
        )


def public_url(settings: Settings) -> str | None:
    return settings.public_url.rstrip("/") if settings.public_url else None


def now(services: Services) -> datetime:
    return services.clock()


def _secure(settings: Settings, flow: ConsentFlow) -> bool:
    return flow.callback_url(settings).startswith("https://")


def _link(flow: ConsentFlow, services: Services, token: str) -> LinkClaim:
    return flow.signer.verify(services.settings.encryption_key_list(), token, now(services))


def _used(flow: ConsentFlow) -> web.Response:
    return page(
        "This link was already used",
        f"A {flow.product} connect link works once, and this one has been used.",
        status=410,
        hint=flow.used_hint,
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
        ours = str(URL(public_url(services.settings) or "").origin())
        return str(URL(origin).origin()) != ours
    except ValueError:  # "null" (a sandboxed frame, a privacy-minded redirect) or garbage
        return True


def _not_from_the_page(flow: ConsentFlow) -> web.Response:
    return page(
        f"{flow.product} was not connected",
        "This confirmation did not come from the page Debrief showed in this browser.",
        status=403,
        hint="Nothing was connected. Open the link from Slack again and continue there.",
    )


def connect_handler(flow: ConsentFlow) -> Callable[[web.Request], Awaitable[web.Response]]:
    """``GET <connect path>``: check the signed link and ask, naming the Slack user and
    workspace, whether to continue."""

    async def handle_connect(request: web.Request) -> web.Response:
        services = request.app[SERVICES]
        settings = services.settings
        problem = flow.problem(settings)
        if problem is not None:
            return flow.cannot_here(problem)
        token = request.query.get("t", "")
        try:
            claim = _link(flow, services, token)
        except InvalidLink as exc:
            log.info("%s connect link refused: %s", flow.provider, exc)
            return start_again("This link does not work", str(exc), 403, restart=flow.restart)
        if await states.link_spent(services.sessions, claim.link_id):
            return _used(flow)
        names = await slack_names(services, claim.team_id, claim.user_id)
        # The same browser keeps its cookie, so that a page opened in another tab still works.
        browser = request.cookies.get(flow.confirm_cookie, "")
        if not _COOKIE_VALUE.fullmatch(browser):
            browser = secrets.token_urlsafe(32)
        response = form_page(
            f"Connect {flow.product} to this Slack account?",
            [
                f"This link connects {flow.an_account} to the Slack account of {names.account()}.",
                f"Continue only if you are {names.user}. {flow.consequence} The link works once.",
            ],
            action=(public_url(settings) or "") + flow.connect_path,
            fields={
                "t": token,
                "confirm": flow.signer.confirm_code(settings.encryption_key_list(), token, browser),
            },
            button=f"Continue to {flow.site}",
            hint=f"Not {names.user}? Close this tab: nothing is connected unless you continue.",
        )
        lifetime = (claim.expires_at - now(services)).total_seconds()
        response.set_cookie(
            flow.confirm_cookie,
            browser,
            max_age=max(60, int(lifetime)),
            path=flow.connect_path,
            httponly=True,
            secure=_secure(settings, flow),
            # Never sent with a form posted from another site; sent on the link's own navigation.
            samesite="Lax",
        )
        return response

    return handle_connect


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


def continue_handler(flow: ConsentFlow) -> Callable[[web.Request], Awaitable[web.Response]]:
    """``POST <connect path>``: spend the link, then send the browser to the provider with a
    fresh state."""

    async def handle_continue(request: web.Request) -> web.Response:
        services = request.app[SERVICES]
        settings = services.settings
        problem = flow.problem(settings)
        if problem is not None:
            return flow.cannot_here(problem)
        if _from_elsewhere(request, services):
            log.warning(
                "%s connect confirmation refused: posted from another origin", flow.provider
            )
            return _not_from_the_page(flow)
        form = await _form(request)
        if form is None:
            return flow.start_again("the form was not the one Debrief sent")
        token = form.get("t", "")
        try:
            claim = _link(flow, services, token)
        except InvalidLink as exc:
            log.info("%s connect link refused: %s", flow.provider, exc)
            return start_again("This link does not work", str(exc), 403, restart=flow.restart)
        browser = request.cookies.get(flow.confirm_cookie, "")
        keys = settings.encryption_key_list()
        if not flow.signer.confirm_matches(keys, token, browser, form.get("confirm", "")):
            # A form posted from elsewhere (another site, another browser): it must not start a
            # connection in this browser, which would link *its* account.
            log.warning(
                "%s connect confirmation refused: not from the page shown here", flow.provider
            )
            return _not_from_the_page(flow)
        state, oauth_browser = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        moment = now(services)
        async with transaction(services.sessions) as session:
            spent = await states.spend_link(
                session,
                provider=flow.provider,
                link_id=claim.link_id,
                team_id=claim.team_id,
                user_id=claim.user_id,
                now=moment,
                expires_at=claim.expires_at,
            )
            if spent:
                await states.create_state(
                    session,
                    provider=flow.provider,
                    state=state,
                    browser=oauth_browser,
                    team_id=claim.team_id,
                    user_id=claim.user_id,
                    now=moment,
                    ttl=STATE_TTL,
                )
        if not spent:
            return _used(flow)
        location = flow.authorize(services, flow.callback_url(settings), state)
        # 303: the browser follows with a GET, never posting the form to the provider.
        response = web.Response(status=303, headers={"Location": location, **SAFE_HEADERS})
        response.set_cookie(
            flow.cookie,
            oauth_browser,
            max_age=int(STATE_TTL.total_seconds()),
            path=flow.callback_path,
            httponly=True,
            secure=_secure(settings, flow),
            # Lax: the cookie still comes along on the provider's top-level redirect back here.
            samesite="Lax",
        )
        response.del_cookie(flow.confirm_cookie, path=flow.connect_path)
        return response

    return handle_continue


def callback_handler(
    flows: Sequence[ConsentFlow], *, product: str | None = None, restart: str | None = None
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """``GET <callback path>`` of ``flows`` (all on that path): spend the state, then hand the
    code to the state's flow. A refusal by the provider or a missing code ends it here.

    A state refused before its flow is known is answered with ``product`` and ``restart``
    (the first flow's when not given): one callback may serve several flows.
    """
    by_provider = {flow.provider: flow for flow in flows}
    assert len({flow.callback_path for flow in flows}) == 1, "one callback path per handler"
    refused_title = f"{product or flows[0].product} was not connected"
    refused_restart = restart or flows[0].restart

    async def handle_callback(request: web.Request) -> web.Response:
        services = request.app[SERVICES]
        query = request.query
        try:
            taken = await states.take_state(
                services.sessions,
                query.get("state", ""),
                lambda provider: request.cookies.get(by_provider[provider].cookie),
                now(services),
                providers=frozenset(by_provider),
            )
        except states.StateRefused as exc:
            log.warning("%s callback refused: %s", "/".join(by_provider), exc.reason)
            return start_again(refused_title, exc.reason, restart=refused_restart)
        flow = by_provider[taken.provider]
        if query.get("error"):
            said = query.get("error_description") or query["error"]
            return flow.start_again(f"{flow.site} answered: {said[:300]}")
        code = query.get("code", "")
        if not code:
            return flow.start_again(f"{flow.site} sent no authorization code")
        problem = flow.problem(services.settings)
        if problem is not None:
            return flow.cannot_here(problem)
        response = await flow.finish(services, taken, code)
        if response.status == 200:
            response.del_cookie(flow.cookie, path=flow.callback_path)
        return response

    return handle_callback


def register_flows(
    routes: web.RouteTableDef,
    flows: Sequence[ConsentFlow],
    *,
    product: str | None = None,
    restart: str | None = None,
) -> None:
    """The routes of ``flows``: each one's connect page and form, and their shared callback
    (``product`` and ``restart``: see :func:`callback_handler`)."""
    for flow in flows:
        routes.get(flow.connect_path)(connect_handler(flow))
        routes.post(flow.connect_path)(continue_handler(flow))
    routes.get(flows[0].callback_path)(callback_handler(flows, product=product, restart=restart))
