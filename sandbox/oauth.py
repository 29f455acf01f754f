"""A local stand-in for Google's and Microsoft's OAuth servers, for connecting calendars.

Each platform has its own prefix (``/google/…``, ``/microsoft/…``) and answers like the real one
where Debrief can tell:

- ``GET /<platform>/authorize`` checks the client and its registered ``redirect_uri`` (an error
  page, never a redirect, when either is wrong, as both platforms do), then shows a consent
  screen naming the signed-in account and what is asked, with *Allow* (redirect to
  ``redirect_uri`` with ``code`` and ``state``) and *Cancel* (``error=access_denied``).
- ``POST /<platform>/token`` (``grant_type=authorization_code``) checks the client id and
  secret (401 ``invalid_client``), then the code: known, unused, fresh, issued to that client for
  that ``redirect_uri`` (else 400 ``invalid_grant``); a code is spent even when refused later,
  and a second use is refused. The answer carries a ``refresh_token`` only for offline access:
  Google's ``access_type=offline`` (on a consent it has just shown: ``prompt=consent``, or the
  account's first), Microsoft's ``offline_access`` scope.

``issued`` lists every refresh token handed out, for tests to follow it to Attendee.
"""

from __future__ import annotations

import html
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from aiohttp import web

from sandbox.lock import SandboxLock
from sandbox.server import StandIn

PLATFORMS = ("google", "microsoft")
CODE_TTL = 600.0
_NAMES = {"google": "Google", "microsoft": "Microsoft"}


@dataclass
class OAuthClient:
    """An OAuth client registered by the operator at a platform."""

    client_id: str
    client_secret: str
    redirect_uris: set[str] = field(default_factory=set)


@dataclass
class _Code:
    platform: str
    client_id: str
    redirect_uri: str
    scope: str
    offline: bool
    account: str
    expires_at: float
    used: bool = False


@dataclass(frozen=True)
class Issued:
    """A refresh token handed out, and to whom."""

    platform: str
    client_id: str
    account: str
    refresh_token: str


class OAuthStandIn(StandIn):
    """Google's and Microsoft's authorize and token endpoints, on loopback."""

    name = "oauth"

    def __init__(
        self,
        *,
        clients: Mapping[str, OAuthClient] | None = None,
        account: str = "Ada Lovelace <ada@example.com>",
        clock: Callable[[], float] = time.time,
        lock: SandboxLock | None = None,
    ) -> None:
        super().__init__(lock=lock)
        #: Each platform's registered client (one each, as an operator has).
        self.clients: dict[str, OAuthClient] = dict(
            clients
            or {
                p: OAuthClient(f"sandbox-{p}-client-{secrets.token_hex(4)}", secrets.token_hex(16))
                for p in PLATFORMS
            }
        )
        #: Who is signed in at both platforms in this browser-less world.
        self.account = account
        self.clock = clock
        self._codes: dict[str, _Code] = {}
        #: (platform, client, account) that consented already: Google's offline rule.
        self._consented: set[tuple[str, str, str]] = set()
        self.issued: list[Issued] = []

    def setup_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/{platform}/authorize", self._authorize)
        router.add_post("/{platform}/authorize", self._decide)
        router.add_post("/{platform}/token", self._token)

    def auth_url(self, platform: str) -> str:
        return f"{self.url}/{platform}/authorize"

    def token_url(self, platform: str) -> str:
        return f"{self.url}/{platform}/token"

    def settings(self) -> dict[str, str]:
        """The ``DEBRIEF_GOOGLE_*``/``DEBRIEF_MICROSOFT_*`` settings pointing Debrief here."""
        values: dict[str, str] = {}
        for platform, client in self.clients.items():
            upper = platform.upper()
            values |= {
                f"DEBRIEF_{upper}_CLIENT_ID": client.client_id,
                f"DEBRIEF_{upper}_CLIENT_SECRET": client.client_secret,
                f"DEBRIEF_{upper}_AUTH_URL": self.auth_url(platform),
                f"DEBRIEF_{upper}_TOKEN_URL": self.token_url(platform),
            }
        return values

    def register_redirect(self, uri: str) -> None:
        """Register ``uri`` for every client, as an operator does in the platforms' consoles."""
        for client in self.clients.values():
            client.redirect_uris.add(uri)

    # --- authorize ---

    def _platform(self, request: web.Request) -> str:
        platform = request.match_info["platform"]
        if platform not in self.clients:
            raise web.HTTPNotFound(text="no such platform")
        return platform

    def _check_request(self, platform: str, params: Mapping[str, str]) -> str | None:
        """Why this authorization request is refused outright (an error page), or None."""
        client = self.clients[platform]
        if params.get("client_id") != client.client_id:
            return "invalid_client: The OAuth client was not found."
        if params.get("redirect_uri") not in client.redirect_uris:
            return "redirect_uri_mismatch: The redirect URI is not registered for this client."
        if params.get("response_type") != "code":
            return "unsupported_response_type"
        if not params.get("scope"):
            return "invalid_scope: Missing required parameter: scope"
        return None

    async def _authorize(self, request: web.Request) -> web.Response:
        platform = self._platform(request)
        params = dict(request.query)
        problem = self._check_request(platform, params)
        if problem is not None:
            return _page(f"{_NAMES[platform]}: Error 400", f"<p>{html.escape(problem)}</p>", 400)
        fields = {
            name: params.get(name, "")
            for name in (
                "client_id",
                "redirect_uri",
                "scope",
                "state",
                "access_type",
                "prompt",
                "response_type",
            )
        }
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in fields.items()
        )
        body = (
            f"<p>Signed in as <b>{html.escape(self.account)}</b></p>"
            f"<p><b>Debrief</b> wants to access your {_NAMES[platform]} account:</p>"
            f"<ul><li>See your calendars ({html.escape(fields['scope'])})</li></ul>"
            f'<form method="post">{hidden}'
            '<button name="decision" value="allow">Allow</button> '
            '<button name="decision" value="cancel">Cancel</button></form>'
        )
        return _page(f"Sign in with {_NAMES[platform]}", body)

    async def _decide(self, request: web.Request) -> web.Response:
        platform = self._platform(request)
        form = {k: str(v) for k, v in (await request.post()).items()}
        problem = self._check_request(platform, form)
        if problem is not None:
            return _page(f"{_NAMES[platform]}: Error 400", f"<p>{html.escape(problem)}</p>", 400)
        redirect_uri, state = form["redirect_uri"], form.get("state", "")
        if form.get("decision") != "allow":
            query = {"error": "access_denied", "state": state}
            if platform == "microsoft":
                query["error_description"] = "AADSTS65004: User declined to consent."
            raise web.HTTPFound(_with_query(redirect_uri, query))
        code = secrets.token_urlsafe(24)
        self._codes[code] = _Code(
            platform=platform,
            client_id=form["client_id"],
            redirect_uri=redirect_uri,
            scope=form.get("scope", ""),
            offline=self._offline(platform, form),
            account=self.account,
            expires_at=self.clock() + CODE_TTL,
        )
        self._consented.add((platform, form["client_id"], self.account))
        raise web.HTTPFound(_with_query(redirect_uri, {"code": code, "state": state}))

    def _offline(self, platform: str, form: Mapping[str, str]) -> bool:
        """Whether this consent yields a refresh token."""
        if platform == "microsoft":
            return "offline_access" in form.get("scope", "").split()
        first = (platform, form["client_id"], self.account) not in self._consented
        return form.get("access_type") == "offline" and (form.get("prompt") == "consent" or first)

    # --- token ---

    async def _token(self, request: web.Request) -> web.Response:
        platform = self._platform(request)
        form = {k: str(v) for k, v in (await request.post()).items()}
        client = self.clients[platform]
        if form.get("client_id") != client.client_id or not secrets.compare_digest(
            form.get("client_secret", ""), client.client_secret
        ):
            return _error(401, "invalid_client", "The OAuth client was not found.")
        if form.get("grant_type") != "authorization_code":
            return _error(400, "unsupported_grant_type", "Invalid grant_type.")
        grant = self._codes.get(form.get("code", ""))
        if grant is None or grant.platform != platform:
            return _error(400, "invalid_grant", "Malformed auth code.")
        if grant.used:
            return _error(400, "invalid_grant", "Code was already redeemed.")
        grant.used = True
        if grant.expires_at <= self.clock():
            return _error(400, "invalid_grant", "Code expired.")
        if grant.client_id != client.client_id or grant.redirect_uri != form.get("redirect_uri"):
            return _error(400, "invalid_grant", "Bad Request: redirect_uri mismatch.")
        answer: dict[str, object] = {
            "access_token": f"{platform}-access-{secrets.token_urlsafe(16)}",
            "expires_in": 3599,
            "scope": grant.scope,
            "token_type": "Bearer",
        }
        if grant.offline:
            refresh = f"{platform}-refresh-{secrets.token_urlsafe(24)}"
            answer["refresh_token"] = refresh
            self.issued.append(Issued(platform, client.client_id, grant.account, refresh))
        return web.json_response(answer, headers={"Cache-Control": "no-store"})


def _with_query(url: str, query: Mapping[str, str]) -> str:
    separator = "&" if urlsplit(url).query else "?"
    return f"{url}{separator}{urlencode(query)}"


def _error(status: int, error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)


def _page(title: str, body: str, status: int = 200) -> web.Response:
    text = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>"
        f"{body}</body></html>"
    )
    return web.Response(status=status, text=text, content_type="text/html")
