"""A local stand-in for Claritalk: its Passport OAuth server, the API and webhook deliveries.

OAuth follows the published reference: ``GET /oauth/authorize`` (auto-approved here as a
configured user), ``POST /oauth/token`` for the authorization-code, refresh-token (rotating; a
refresh token lapses 7 days after its last use) and client-credentials grants, and Personal
Access Tokens. Access tokens last an hour unless told otherwise. The API answers 401 without a
valid Bearer token and 503 while the "desktop client" is offline. Error bodies imitate Laravel
(``{"message": …, "errors": {…}}``) and Passport (``{"error", "error_description", …}``).

Control endpoints live under ``/_sandbox/claritalk/…``, each with a Python method.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from aiohttp import web

from sandbox.delivery import Deliveries, Delivery
from sandbox.lock import SandboxLock
from sandbox.plugin import RunningApp, Setup, StandInPlugin
from sandbox.server import StandIn

Json = dict[str, Any]
Clock = Callable[[], float]

ACCESS_TOKEN_TTL = 3600.0
REFRESH_TOKEN_TTL = 7 * 24 * 3600.0
AUTH_CODE_TTL = 600.0
DESKTOP_OFFLINE = "Claritalk Connect desktop client is not connected"
_INVALID_GRANT = (
    "The provided authorization grant (e.g., authorization code, resource owner credentials) "
    "or refresh token is invalid, expired, revoked, does not match the redirection URI used in "
    "the authorization request, or was issued to another client."
)


@dataclass
class SandboxUser:
    """A member of the one organisation the stand-in serves."""

    id: str
    name: str
    email: str
    role: str = "user"

    def to_api(self) -> Json:
        return {"id": self.id, "name": self.name, "email": self.email, "role": self.role}


@dataclass
class _AccessToken:
    user: SandboxUser | None  # None: a service account, which sees the whole organisation
    kind: str  # "oauth", "pat" or "service"
    expires_at: float | None
    scope: str = ""


@dataclass
class _RefreshToken:
    user: SandboxUser
    client_id: str
    scope: str
    access_token: str
    expires_at: float


@dataclass
class _AuthCode:
    user: SandboxUser
    client_id: str
    redirect_uri: str
    scope: str
    expires_at: float


def _pdf_text(value: str) -> str:
    ascii_only = value.encode("latin-1", "replace").decode("latin-1")
    return ascii_only.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")[:95]


def build_pdf_report(title: str, lines: Sequence[str] = ()) -> bytes:
    """A small but valid one-page PDF (correct xref offsets) showing ``title`` and ``lines``."""
    ops = ["BT", "/F1 16 Tf", "72 740 Td", f"({_pdf_text(title)}) Tj", "/F1 11 Tf"]
    for line in lines[:36]:
        ops += ["0 -18 Td", f"({_pdf_text(line)}) Tj"]
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref_at,
    )
    return bytes(out)


def _laravel_time(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _slug(title: str) -> str:
    cleaned = "".join(c if c.isalnum() else "-" for c in title.lower())
    return "-".join(part for part in cleaned.split("-") if part) or "meeting"


def _oauth_error(error: str, description: str, status: int, hint: str = "") -> web.Response:
    body = {"error": error, "error_description": description, "message": description}
    if hint:
        body["hint"] = hint
    return web.json_response(body, status=status)


def _message(
    message: str, status: int, errors: Mapping[str, list[str]] | None = None
) -> web.Response:
    body: Json = {"message": message}
    if errors:
        body["errors"] = dict(errors)
    return web.json_response(body, status=status)


class ClaritalkStandIn(StandIn):
    """Claritalk's OAuth server, API and webhook sender, on loopback.

    Args:
        client_id: the OAuth client Debrief was given.
        client_secret: its secret.
        redirect_uris: the callback URLs registered for that client.
        users: the organisation's members; Ada and Grace (as in the Slack stand-in) by default.
        approve_as: email of the user who "logs in" at ``/oauth/authorize``.
        personal_access_tokens: token → user email, valid from the start.
        service_accounts: client id → secret, for the client-credentials grant.
        access_token_ttl: seconds an access token lives (3600, as documented).
        clock: unix seconds; injectable so tests can make tokens lapse.
        webhook_hmac_secret: if set, deliveries carry ``X-Claritalk-Signature`` (hex HMAC-SHA256).
        page_size: meetings per page of ``GET /api/meetings``.
        lock: the sandbox lock (shared by a World's stand-ins); a fresh token by default.
    """

    name = "claritalk"
    outbox: Deliveries

    def __init__(
        self,
        *,
        client_id: str = "debrief-sandbox",
        client_secret: str = "debrief-sandbox-secret",
        redirect_uris: Iterable[str] = (),
        users: Iterable[SandboxUser] | None = None,
        approve_as: str = "ada@example.com",
        personal_access_tokens: Mapping[str, str] | None = None,
        service_accounts: Mapping[str, str] | None = None,
        access_token_ttl: float = ACCESS_TOKEN_TTL,
        clock: Clock = time.time,
        webhook_hmac_secret: str | None = None,
        page_size: int = 25,
        lock: SandboxLock | None = None,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris: set[str] = set(redirect_uris)
        default_users = [
            SandboxUser("usr-ada", "Ada Lovelace", "ada@example.com", "admin"),
            SandboxUser("usr-grace", "Grace Hopper", "grace@example.com"),
        ]
        self.users: dict[str, SandboxUser] = {u.email: u for u in (users or default_users)}
        self.approve_as = approve_as
        self.service_accounts = dict(
            service_accounts if service_accounts is not None else {"svc-sandbox": "svc-secret"}
        )
        self.access_token_ttl = access_token_ttl
        self.clock = clock
        self.webhook_hmac_secret = webhook_hmac_secret
        self.page_size = page_size
        self.desktop_connected = True
        self.deny_authorization = False
        self.webhook_url: str | None = None
        self.webhook_events: list[str] = []
        self.meetings: dict[str, Json] = {}
        # Claritalk sends each webhook once; the caller waits for the app's answer.
        self.outbox = Deliveries("claritalk", timeout=10.0)
        self._access: dict[str, _AccessToken] = {}
        self._refresh: dict[str, _RefreshToken] = {}
        self._codes: dict[str, _AuthCode] = {}
        pats = personal_access_tokens
        if pats is None:
            pats = {"ctk-pat-ada-sandbox": "ada@example.com"}
        for token, email in pats.items():
            self._access[token] = _AccessToken(self._user(email), "pat", None)
        super().__init__(lock=lock)

    def setup_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/oauth/authorize", self._authorize)
        router.add_post("/oauth/token", self._token)
        router.add_post("/api/client/webhook", self._register_webhook)
        router.add_get("/api/user", self._current_user)
        router.add_get("/api/meetings", self._list_meetings)
        router.add_get("/api/meetings/{meeting_id}", self._get_meeting)
        router.add_get("/_sandbox/claritalk/state", self._control_state)
        router.add_post("/_sandbox/claritalk/meetings", self._control_process)
        router.add_post("/_sandbox/claritalk/meetings/{meeting_id}/status", self._control_status)
        router.add_post("/_sandbox/claritalk/users", self._control_user)
        router.add_post("/_sandbox/claritalk/desktop", self._control_desktop)
        router.add_post("/_sandbox/claritalk/webhook", self._control_webhook)
        router.add_post("/_sandbox/claritalk/revoke", self._control_revoke)

    # --- Python controls (each has an HTTP twin under /_sandbox/claritalk/) ---

    def _user(self, email: str) -> SandboxUser:
        try:
            return self.users[email]
        except KeyError:
            raise ValueError(f"no sandbox Claritalk user {email!r}") from None

    def create_personal_access_token(self, email: str) -> str:
        """A new PAT for the user with ``email``; it never expires, but can be revoked."""
        token = f"ctk-pat-{secrets.token_urlsafe(24)}"
        self._access[token] = _AccessToken(self._user(email), "pat", None)
        return token

    def revoke(self, token: str) -> bool:
        """Revoke an access token, PAT or refresh token; whether there was such a token."""
        found = self._access.pop(token, None) is not None
        return self._refresh.pop(token, None) is not None or found

    def set_desktop_connected(self, connected: bool) -> None:
        """While disconnected, the meeting endpoints answer 503 as Claritalk documents."""
        self.desktop_connected = connected

    async def create_user(
        self, name: str, email: str, role: str = "user"
    ) -> tuple[SandboxUser, Delivery | None]:
        """Add a member and announce it with ``users.created`` if a webhook is registered."""
        user = SandboxUser(f"usr-{uuid.uuid4().hex[:12]}", name, email, role)
        self.users[email] = user
        delivery = None
        if self.webhook_url:
            delivery = await self.send_event("users.created", user.to_api())
        return user, delivery

    async def process_meeting(
        self,
        title: str = "Weekly standup",
        *,
        with_pdf: bool = True,
        corrupt_pdf: bool = False,
        owner: str | None = None,
    ) -> Delivery:
        """Store a realistic processed meeting and deliver ``meeting.processed`` for it."""
        data = self._processed_meeting(title, owner or self.approve_as, with_pdf, corrupt_pdf)
        self.meetings[data["meetingId"]] = data
        return await self.send_event("meeting.processed", data)

    async def change_status(self, meeting_id: str, status: str) -> Delivery:
        """Move a meeting to ``status`` and deliver ``meeting.status.changed``."""
        meeting = self.meetings.get(meeting_id)
        if meeting is None:
            raise KeyError(f"no sandbox Claritalk meeting {meeting_id!r}")
        meeting["status"] = status
        meeting["updatedAt"] = _laravel_time(self.clock())
        return await self.send_event("meeting.status.changed", self._meeting_object(meeting))

    async def send_event(self, event: str, data: Json) -> Delivery:
        """Deliver one event envelope to the registered webhook URL, as Claritalk would."""
        if not self.webhook_url:
            raise RuntimeError("no Claritalk webhook URL is registered with the stand-in")
        envelope = {
            "event": event,
            "timestamp": _iso(self.clock()),
            "data": data,
            "meta": {"source": "claritalk", "version": "1.0"},
        }
        body = json.dumps(envelope).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "Claritalk-Webhook/1.0"}
        if self.webhook_hmac_secret:
            digest = hmac.new(self.webhook_hmac_secret.encode(), body, hashlib.sha256)
            headers["X-Claritalk-Signature"] = digest.hexdigest()
        return await self.outbox.send(self.webhook_url, body, headers, meta={"event": event})

    @property
    def deliveries(self) -> list[Delivery]:
        """Every webhook delivery, in the order made."""
        return self.outbox.records

    def state(self) -> Json:
        """A summary for the Providers panel."""
        return {
            "webhook_url": _redact(self.webhook_url),
            "webhook_events": self.webhook_events,
            "desktop_connected": self.desktop_connected,
            "users": [u.to_api() for u in self.users.values()],
            "meetings": [self._meeting_object(m) for m in self.meetings.values()],
            "deliveries": [{"event": d.meta["event"], "status": d.status} for d in self.deliveries],
            "access_tokens": len(self._access),
            "refresh_tokens": len(self._refresh),
        }

    # --- the meeting the stand-in invents ---

    def _processed_meeting(
        self, title: str, owner_email: str, with_pdf: bool, corrupt_pdf: bool
    ) -> Json:
        now = self.clock()
        owner = self._user(owner_email)
        ada = self.users.get("ada@example.com") or owner
        grace = self.users.get("grace@example.com") or owner
        due = datetime.fromtimestamp(now, UTC).date() + timedelta(days=7)
        summary = (
            f"{title}: the team reviewed the Q3 budget, agreed to move the offsite to October "
            "and decided to pilot the new onboarding checklist with the next two hires."
        )
        todos: list[Json] = [
            {
                "title": "Send the revised Q3 budget to finance",
                "description": "Include the travel line moved from Q4.",
                "assignee": {"name": ada.name, "email": ada.email},
                "dueDate": due.isoformat(),
                "completed": False,
            },
            {
                "title": "Book the October offsite venue",
                "assignee": {"name": grace.name, "email": grace.email},
                "dueDate": (due + timedelta(days=7)).isoformat(),
                "completed": False,
            },
            {"title": "Share the onboarding checklist draft", "assignee": None, "completed": False},
        ]
        themes = [
            {
                "title": "Budget",
                "questions": [
                    {
                        "question": "Can travel move from Q4 to Q3?",
                        "answer": "Yes, if finance agrees.",
                    },
                    {"question": "Who signs off on the revised budget?", "answer": "Ada."},
                ],
            },
            {
                "title": "Onboarding",
                "questions": [{"question": "Which hires join the pilot?", "answer": None}],
            },
        ]
        topics = [
            {
                "title": "Q3 budget",
                "summary": "Travel spending moves forward one quarter.",
                "keyPoints": ["Travel line moves to Q3", "Finance to confirm by Friday"],
            },
            {
                "title": "Offsite",
                "summary": "The offsite moves to October for venue availability.",
                "keyPoints": ["October preferred", "Grace books the venue"],
            },
        ]
        data: Json = {
            "userId": owner.id,
            "meetingId": str(uuid.uuid4()),
            "title": title,
            "status": "Meeting processed",
            "summaryQualityFlag": False,
            "createdAt": _laravel_time(now - 3600),
            "updatedAt": _laravel_time(now),
            "locale": "en",
            "themes": themes,
            "summary": {"general": {"type": "general", "content": summary}},
            "todos": todos,
            "metadata": {
                "title": title,
                "startedAt": _iso(now - 3600),
                "endedAt": _iso(now - 600),
                "duration": 3000,
                "participants": [{"name": u.name, "email": u.email} for u in (ada, grace)],
            },
            "discussionTopics": topics,
        }
        if with_pdf:
            lines = [summary[:90], "", "Action items:"]
            lines += [f"- {t['title']}" for t in todos]
            content = base64.b64encode(build_pdf_report(title, lines)).decode()
            if corrupt_pdf:
                # A delivery cut short: whole base64 quanta, so it decodes but the PDF has no end.
                content = content[: (len(content) // 2) // 4 * 4]
            data["files"] = {"filename": f"{_slug(title)}-summary-report.pdf", "content": content}
        return data

    @staticmethod
    def _meeting_object(meeting: Json) -> Json:
        keys = ("userId", "meetingId", "title", "status", "createdAt", "updatedAt", "locale")
        return {key: meeting.get(key) for key in keys}

    # --- OAuth ---

    def _issue(self, user: SandboxUser | None, kind: str, scope: str) -> tuple[str, float]:
        token = f"ctk-at-{secrets.token_urlsafe(24)}"
        expires_at = self.clock() + self.access_token_ttl
        self._access[token] = _AccessToken(user, kind, expires_at, scope)
        return token, expires_at

    def _token_answer(
        self, user: SandboxUser | None, kind: str, scope: str, client_id: str
    ) -> web.Response:
        access, _ = self._issue(user, kind, scope)
        body: Json = {
            "token_type": "Bearer",
            "expires_in": int(self.access_token_ttl),
            "access_token": access,
        }
        if user is not None and "offline_access" in scope.split():
            refresh = f"ctk-rt-{secrets.token_urlsafe(32)}"
            self._refresh[refresh] = _RefreshToken(
                user, client_id, scope, access, self.clock() + REFRESH_TOKEN_TTL
            )
            body["refresh_token"] = refresh
        return web.json_response(body)

    async def _authorize(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("client_id") != self.client_id:
            return _oauth_error("invalid_client", "Client authentication failed", 401)
        redirect_uri = query.get("redirect_uri", "")
        if redirect_uri not in self.redirect_uris:
            # Never redirect to an unregistered URI: that is how codes get stolen.
            return _oauth_error(
                "invalid_request", "The redirect_uri is not registered for this client.", 400
            )
        state = query.get("state")
        scope = query.get("scope", "")

        def back(params: Json) -> web.Response:
            if state is not None:
                params["state"] = state
            parts = urlsplit(redirect_uri)
            joined = f"{parts.query}&{urlencode(params)}" if parts.query else urlencode(params)
            location = urlunsplit(parts._replace(query=joined))
            return web.Response(status=302, headers={"Location": location})

        if query.get("response_type") != "code":
            return back({"error": "unsupported_response_type"})
        if "api.connect" not in scope.split():
            return back({"error": "invalid_scope", "error_description": "api.connect is required"})
        if self.deny_authorization:
            return back({"error": "access_denied", "error_description": "The user denied access"})
        code = secrets.token_urlsafe(32)
        self._codes[code] = _AuthCode(
            self._user(self.approve_as),
            self.client_id,
            redirect_uri,
            scope,
            self.clock() + AUTH_CODE_TTL,
        )
        return back({"code": code})

    async def _token(self, request: web.Request) -> web.Response:
        if not request.content_type.startswith("application/x-www-form-urlencoded"):
            return _oauth_error("invalid_request", "The request must be form-encoded.", 400)
        form = {k: str(v) for k, v in (await request.post()).items()}
        grant = form.get("grant_type")
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if grant == "client_credentials":
            expected = self.service_accounts.get(client_id)
            if expected is None or not hmac.compare_digest(expected, secret):
                return _oauth_error("invalid_client", "Client authentication failed", 401)
            return self._token_answer(None, "service", form.get("scope", ""), client_id)
        if grant not in ("authorization_code", "refresh_token"):
            return _oauth_error(
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server.",
                400,
            )
        if client_id != self.client_id or not hmac.compare_digest(self.client_secret, secret):
            return _oauth_error("invalid_client", "Client authentication failed", 401)
        if grant == "authorization_code":
            code = self._codes.pop(form.get("code", ""), None)  # single use, even on failure
            if (
                code is None
                or code.expires_at < self.clock()
                or code.redirect_uri != form.get("redirect_uri")
            ):
                return _oauth_error(
                    "invalid_grant", _INVALID_GRANT, 400, "Authorization code is invalid"
                )
            return self._token_answer(code.user, "oauth", code.scope, client_id)
        old = form.get("refresh_token", "")
        record = self._refresh.get(old)
        if record is None or record.client_id != client_id:
            return _oauth_error("invalid_grant", _INVALID_GRANT, 400, "Token has been revoked")
        if record.expires_at < self.clock():
            del self._refresh[old]
            return _oauth_error("invalid_grant", _INVALID_GRANT, 400, "Token has expired")
        # Passport rotates: the old refresh token and its access token are revoked.
        del self._refresh[old]
        self._access.pop(record.access_token, None)
        return self._token_answer(record.user, "oauth", record.scope, client_id)

    def _bearer(self, request: web.Request) -> _AccessToken | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        grant = self._access.get(header[len("Bearer ") :].strip())
        if grant is None:
            return None
        if grant.expires_at is not None and grant.expires_at <= self.clock():
            return None
        return grant

    # --- the API ---

    async def _register_webhook(self, request: web.Request) -> web.Response:
        if self._bearer(request) is None:
            return _message("Unauthenticated.", 401)
        try:
            body = await request.json()
        except ValueError:
            body = None
        body = body if isinstance(body, dict) else {}
        url = body.get("webhook_url") or body.get("url")
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
            problem = "The webhook url field must be a valid URL."
            return _message(problem, 422, {"webhook_url": [problem]})
        events = body.get("events")
        self.webhook_url = url
        self.webhook_events = [str(e) for e in events] if isinstance(events, list) else []
        return web.json_response({"data": {"webhook_url": url, "events": self.webhook_events}})

    async def _current_user(self, request: web.Request) -> web.Response:
        grant = self._bearer(request)
        if grant is None:
            return _message("Unauthenticated.", 401)
        if grant.user is None:
            return web.json_response({"id": "svc", "name": "Service account", "role": "service"})
        return web.json_response(grant.user.to_api())

    def _visible(self, grant: _AccessToken, meeting: Json) -> bool:
        return grant.user is None or meeting.get("userId") == grant.user.id

    def _meeting_guard(
        self, request: web.Request
    ) -> tuple[_AccessToken | None, web.Response | None]:
        grant = self._bearer(request)
        if grant is None:
            return None, _message("Unauthenticated.", 401)
        if not self.desktop_connected:
            return None, _message(DESKTOP_OFFLINE, 503)
        return grant, None

    async def _list_meetings(self, request: web.Request) -> web.Response:
        grant, refusal = self._meeting_guard(request)
        if grant is None:
            assert refusal is not None
            return refusal
        visible = [
            self._meeting_object(m) for m in self.meetings.values() if self._visible(grant, m)
        ]
        try:
            page = max(1, int(request.query.get("page", "1")))
        except ValueError:
            return _message("The page must be an integer.", 422, {"page": ["Not an integer."]})
        start = (page - 1) * self.page_size
        last_page = max(1, -(-len(visible) // self.page_size))
        next_url = None
        if page < last_page:
            next_url = str(request.url.with_query({**request.query, "page": str(page + 1)}))
        return web.json_response(
            {
                "data": visible[start : start + self.page_size],
                "links": {"next": next_url},
                "meta": {"current_page": page, "last_page": last_page, "total": len(visible)},
            }
        )

    async def _get_meeting(self, request: web.Request) -> web.Response:
        grant, refusal = self._meeting_guard(request)
        if grant is None:
            assert refusal is not None
            return refusal
        meeting = self.meetings.get(request.match_info["meeting_id"])
        if meeting is None or not self._visible(grant, meeting):
            return _message("Meeting not found.", 404)
        return web.json_response({"data": {k: v for k, v in meeting.items() if k != "files"}})

    # --- control endpoints ---

    async def _control_state(self, request: web.Request) -> web.Response:
        return web.json_response(self.state())

    async def _control_process(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        try:
            delivery = await self.process_meeting(
                str(body.get("title") or "Weekly standup"),
                with_pdf=bool(body.get("with_pdf", True)),
                corrupt_pdf=bool(body.get("corrupt_pdf", False)),
                owner=body.get("owner"),
            )
        except (RuntimeError, ValueError) as exc:
            return web.json_response({"error": str(exc)}, status=409)
        return web.json_response(_delivery_summary(delivery))

    async def _control_status(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        try:
            delivery = await self.change_status(
                request.match_info["meeting_id"], str(body.get("status", ""))
            )
        except KeyError as exc:
            return web.json_response({"error": str(exc)}, status=404)
        except RuntimeError as exc:
            return web.json_response({"error": str(exc)}, status=409)
        return web.json_response(_delivery_summary(delivery))

    async def _control_user(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        if not body.get("email") or not body.get("name"):
            return web.json_response({"error": "name and email are required"}, status=400)
        user, delivery = await self.create_user(
            str(body["name"]), str(body["email"]), str(body.get("role", "user"))
        )
        answer: Json = {"user": user.to_api()}
        if delivery is not None:
            answer["delivery"] = _delivery_summary(delivery)
        return web.json_response(answer)

    async def _control_desktop(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        self.set_desktop_connected(bool(body.get("connected", True)))
        return web.json_response({"desktop_connected": self.desktop_connected})

    async def _control_webhook(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        url = body.get("url")
        if not isinstance(url, str) or not url:
            return web.json_response({"error": "url is required"}, status=400)
        self.webhook_url = url
        return web.json_response({"webhook_url": _redact(url)})

    async def _control_revoke(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        return web.json_response({"revoked": self.revoke(str(body.get("token", "")))})


async def _json_body(request: web.Request) -> Json:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _redact(url: str | None) -> str | None:
    """The URL without its query: the ``token`` there is a secret."""
    if not url:
        return url
    return urlunsplit(urlsplit(url)._replace(query=""))


def _delivery_summary(delivery: Delivery) -> Json:
    data = delivery.json.get("data") or {}
    return {
        "event": delivery.meta["event"],
        "meeting_id": data.get("meetingId"),
        "status": delivery.status or 0,  # 0: no answer (the sandbox page says so)
        "response": delivery.response[:500],
    }


class ClaritalkPlugin(StandInPlugin[ClaritalkStandIn]):
    """Claritalk's stand-in in a World: Debrief's OAuth client (also usable as a service
    account), an admin's Personal Access Token, the webhook URL's token; once the app listens,
    its OAuth callback is registered and its webhook is set up through the API, as an operator
    would."""

    title = "Claritalk"
    state_path = "claritalk/state"

    def __init__(self, server: ClaritalkStandIn, personal_access_token: str) -> None:
        super().__init__(server)
        self.personal_access_token = personal_access_token
        self.webhook_secret = secrets.token_urlsafe(24)

    @classmethod
    def create(cls, setup: Setup, **options: Any) -> ClaritalkPlugin:
        client_id, client_secret = "debrief-" + secrets.token_hex(6), secrets.token_hex(20)
        token = "ctk-pat-sandbox-" + secrets.token_hex(12)
        server = ClaritalkStandIn(
            **{
                "client_id": client_id,
                "client_secret": client_secret,
                "service_accounts": {client_id: client_secret},
                "personal_access_tokens": {token: "ada@example.com"},
                "lock": setup.lock,
                **options,
            }
        )
        return cls(server, token)

    def settings(self) -> dict[str, Any]:
        return {
            "claritalk_api_url": self.server.url,
            "claritalk_client_id": self.server.client_id,
            "claritalk_client_secret": self.server.client_secret,
            "claritalk_token": self.personal_access_token,
            "claritalk_webhook_secret": self.webhook_secret,
        }

    async def connect(self, app: RunningApp) -> None:
        # Imported here: the stand-in itself answers like Claritalk without Debrief's code.
        from handlers.claritalk import CALLBACK_PATH, register_webhook
        from handlers.claritalk.settings import claritalk_settings
        from providers.claritalk import ClaritalkClient

        public_url = app.settings.public_url
        if public_url:
            self.server.redirect_uris.add(public_url.rstrip("/") + CALLBACK_PATH)
        client = app.services.clients[ClaritalkClient]
        if (
            client is not None
            and public_url
            and claritalk_settings(app.settings).claritalk_webhook_secret
        ):
            await register_webhook(client, app.settings)
