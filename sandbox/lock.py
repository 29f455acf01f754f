"""The lock every sandbox server wears: only the sandbox's own page and drivers may use it.

A browser lets any web page send a "simple" cross-site request (a ``text/plain`` POST, no CORS
preflight) to a loopback port, and a page on a rebinding host name (``rebind.evil.example``
resolving to 127.0.0.1) is same-origin with that port, so it can read the answers too. Each
sandbox server (the Slack stand-in with the page, and each provider stand-in) therefore answers
only requests that:

- name the server itself: ``Host`` is a loopback name (``127.0.0.1``, ``localhost``, ``[::1]``)
  with the port the request arrived on, and ``Origin``, when sent, is ``http://`` the same;
- on the sandbox's own paths (the page ``/`` and everything under ``/_sandbox/``): carry the
  run's token, as the ``X-Sandbox-Token`` header (drivers and the page's proxy), as a cookie
  (the page), or as ``?token=`` on a GET (the printed URL; the answer sets the cookie);
- and there, when they change something (POST, PUT, PATCH, DELETE), are ``application/json``,
  which no cross-site request can send without a preflight that nobody here answers.

Anything else is a 403 with a short reason. The provider-API routes (``/api/``, ``/v1/`` …) are
called by the app with their own keys and are only held to the ``Host``/``Origin`` rule.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware

TOKEN_HEADER = "X-Sandbox-Token"
TOKEN_QUERY = "token"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
#: The page, and every control endpoint a stand-in has (CONTRIBUTING: ``/_sandbox/<name>/…``).
LOCKED_PREFIX = "/_sandbox/"
CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def cookie_name(port: int) -> str:
    """The page's cookie, per port: browsers share cookies across a host's ports, and two
    sandboxes (or a stand-in started by a test) must not overwrite each other's token."""
    return f"debrief_sandbox_{port}"


@dataclass(frozen=True)
class SandboxLock:
    """One run's token and the host names its servers answer to; share it across a World."""

    token: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    hosts: tuple[str, ...] = LOOPBACK_NAMES

    def headers(self) -> dict[str, str]:
        """What a driver (a test, the page's proxy) sends to pass the lock."""
        return {TOKEN_HEADER: self.token}

    def url(self, base: str, path: str = "/") -> str:
        """``base + path`` with the token, for a browser (the URL the sandbox prints)."""
        return f"{base.rstrip('/')}{path}?{urlencode({TOKEN_QUERY: self.token})}"

    def with_hosts(self, names: Iterable[str]) -> SandboxLock:
        """The same token, also answering to ``names`` (a World bound to another address)."""
        extra = tuple(n.lower() for n in names if n.lower() not in self.hosts)
        return SandboxLock(self.token, self.hosts + extra)

    def refusal(self, request: web.Request) -> str | None:
        """Why ``request`` may not pass, or None when it may."""
        port = _local_port(request)
        if port is None:
            return "no local port"
        own = {f"{name}:{port}" for name in self.hosts}
        if port == 80:
            own.update(self.hosts)
        host = (request.headers.get(hdrs.HOST) or "").lower()
        if host not in own:
            return "Host is not this sandbox"
        origin = request.headers.get(hdrs.ORIGIN)
        if origin is not None and origin.lower() not in {f"http://{h}" for h in own}:
            return "cross-origin request"
        if not _locked(request.path):
            return None
        if not self._has_token(request, port):
            return "no sandbox token: open the URL the sandbox printed"
        if request.method in CHANGING_METHODS and request.content_type != "application/json":
            return "Content-Type must be application/json"
        return None

    def _has_token(self, request: web.Request, port: int) -> bool:
        offered = [request.headers.get(TOKEN_HEADER), request.cookies.get(cookie_name(port))]
        if request.method in (hdrs.METH_GET, hdrs.METH_HEAD):
            offered.append(request.query.get(TOKEN_QUERY))
        return any(
            hmac.compare_digest(candidate.encode(), self.token.encode())
            for candidate in offered
            if candidate
        )

    def _remember(self, request: web.Request, response: web.StreamResponse) -> None:
        """A page opened with ``?token=`` keeps it in a cookie scripts cannot read, sent only
        with requests the sandbox's own page makes (SameSite=Strict)."""
        given = request.query.get(TOKEN_QUERY)
        if not given or not hmac.compare_digest(given.encode(), self.token.encode()):
            return
        port = _local_port(request)
        if port is None or response.prepared:
            return
        response.set_cookie(
            cookie_name(port), self.token, path="/", httponly=True, samesite="Strict"
        )

    def middleware(self) -> Middleware:
        """The aiohttp middleware that applies this lock; every sandbox server has it first."""

        @web.middleware
        async def sandbox_lock(request: web.Request, handler: Handler) -> web.StreamResponse:
            reason = self.refusal(request)
            if reason is not None:
                return forbidden(reason)
            response = await handler(request)
            if request.method == hdrs.METH_GET and _locked(request.path):
                self._remember(request, response)
            return response

        return sandbox_lock


def forbidden(reason: str) -> web.Response:
    """The lock's answer: 403 and the reason, in the shape the page shows errors."""
    body = {"ok": False, "error": "forbidden", "detail": reason}
    return web.Response(status=403, text=json.dumps(body), content_type="application/json")


def _locked(path: str) -> bool:
    return path == "/" or path == LOCKED_PREFIX.rstrip("/") or path.startswith(LOCKED_PREFIX)


def _local_port(request: web.Request) -> int | None:
    """The port this request arrived on (not what its Host header claims)."""
    transport = request.transport
    sockname = transport.get_extra_info("sockname") if transport is not None else None
    if isinstance(sockname, tuple) and len(sockname) >= 2 and isinstance(sockname[1], int):
        return sockname[1]
    return None
