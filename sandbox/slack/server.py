"""The Slack stand-in server: Web API under /api/, upload and response URLs, sandbox control
endpoints, and the driver methods that send signed requests to the app as Slack does.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from sandbox.lock import SandboxLock
from sandbox.server import StandIn
from sandbox.slack import driver
from sandbox.slack.api import METHODS, NO_AUTH, decode_args
from sandbox.slack.pacing import Pacer
from sandbox.slack.signing import signed_headers
from sandbox.slack.socket_mode import SocketMode
from sandbox.slack.state import Ephemeral, Json, Message, View
from sandbox.slack.ui import SandboxUI
from sandbox.slack.workspace import Change, SlackError, Workspace

FORM = "application/x-www-form-urlencoded"
ACK_DEADLINE = 3.0


@dataclass(frozen=True)
class Delivery:
    """What the app answered to a request sent as Slack; unpacks as (status, body, elapsed)."""

    status: int
    body: str
    elapsed: float
    error: str | None = None

    def __iter__(self) -> Iterator[Any]:
        return iter((self.status, self.body, self.elapsed))

    def failed(self, error: str) -> Delivery:
        """This delivery, marked with the error Slack would show."""
        return replace(self, error=error)

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def late(self) -> bool:
        """Slack gives up after three seconds and shows the user a timeout."""
        return self.elapsed > ACK_DEADLINE


class SlackStandIn(StandIn):
    """A fake Slack workspace and Web API, plus Slack's client side for driving an app."""

    name = "slack"

    def __init__(
        self,
        *,
        signing_secret: str = "sandbox-signing-secret",
        bot_token: str = "xoxb-sandbox-bot-token",
        verification_token: str = "sandbox-verification-token",
        clock: Callable[[], float] = time.time,
        enforce_rate_limits: bool = False,
        chat_write_public: bool = False,
        default_user: str = "U0ADA",
        default_channel: str = "C0GENERAL",
        events_path: str = "/slack/events",
        lock: SandboxLock | None = None,
        app_token: str | None = None,
    ) -> None:
        self.signing_secret = signing_secret
        #: With an app-level token, requests reach the app over Socket Mode instead of HTTP.
        self.socket = SocketMode(app_token) if app_token else None
        self.bot_token = bot_token
        self.verification_token = verification_token
        self.clock = clock
        self.enforce_rate_limits = enforce_rate_limits
        self.default_user = default_user
        self.default_channel = default_channel
        self.events_path = events_path
        self.workspace = Workspace(clock=clock, chat_write_public=chat_write_public)
        self.pacer = Pacer(clock)
        self._queues: list[asyncio.Queue[Change]] = []
        self._waiters: set[asyncio.Event] = set()
        self._event_counter = 0
        self.workspace.listeners.append(self._on_change)
        # Set by the World: where the page's commands and clicks go, and the provider stand-ins
        # its Providers panel drives ({name: base URL}), with each one's section there
        # ({name: {title, state}}: the heading, and the control path its state is read from).
        self.app_url = ""
        self.providers: dict[str, str] = {}
        self.panels: dict[str, dict[str, str]] = {}
        self.ui = SandboxUI(self)
        super().__init__(lock=lock)

    def setup_routes(self, router: web.UrlDispatcher) -> None:
        router.add_route("*", "/api/{method}", self._api)
        router.add_post("/upload/v1/{token}", self._upload)
        router.add_get("/files/{file_id}/{tail:.*}", self._file)
        router.add_post("/hooks/response/{team}/{token}", self._response_url)
        router.add_get("/_sandbox/state", self._state)
        router.add_get("/_sandbox/events", self._events)
        if self.socket is not None:
            self.socket.add_routes(router)
        self.ui.add_routes(self.app)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        url = await super().start(host, port)
        self.workspace.base_url = url
        if self.socket is not None:
            self.socket.base_url = url
        return url

    async def stop(self) -> None:
        if self.socket is not None:
            await self.socket.close()
        await super().stop()

    async def __aenter__(self) -> SlackStandIn:
        await self.start()
        return self

    @property
    def api_url(self) -> str:
        """The base_url to give slack_sdk's clients (``SLACK_API_URL``)."""
        return f"{self.url}/api/"

    @property
    def page_url(self) -> str:
        """The sandbox page, with the token that opens it (what ``debrief sandbox`` prints)."""
        return self.lock.url(self.url)

    # ---- HTTP handlers

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args, arg_token = decode_args(
            request.query, request.headers.get("Content-Type", ""), await request.read()
        )
        if method == "apps.connections.open" and self.socket is not None:
            token = _bearer(request.headers.get("Authorization")) or arg_token
            return web.json_response(self.socket.connections_open(token))
        handler = METHODS.get(method)
        if handler is None:
            return web.json_response(
                {"ok": False, "error": "unknown_method", "req_method": method}, status=404
            )
        if method not in NO_AUTH:
            token = _bearer(request.headers.get("Authorization")) or arg_token
            if not token:
                return web.json_response({"ok": False, "error": "not_authed"})
            if token != self.bot_token:
                return web.json_response({"ok": False, "error": "invalid_auth"})
        if self.enforce_rate_limits:
            wait = self.pacer.check(method, self._channel_key(args.get("channel")))
            if wait is not None:
                return web.json_response(
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": str(wait)},
                )
        try:
            result = handler(self.workspace, args)
        except SlackError as exc:
            return web.json_response(exc.body(), status=exc.status)
        return web.json_response({"ok": True, **result})

    def _channel_key(self, ref: Any) -> str | None:
        if not isinstance(ref, str):
            return None
        if ref in self.workspace.users:
            return "D" + ref[1:]
        try:
            return self.workspace.channel(ref).id
        except SlackError:
            return ref

    async def _upload(self, request: web.Request) -> web.Response:
        upload = self.workspace.uploads.get(request.match_info["token"])
        if upload is None:
            return web.Response(status=404, text="invalid upload url", content_type="text/plain")
        body = await request.read()
        if request.content_type == "multipart/form-data":
            parts = [
                v
                for v in decode_args({}, request.headers["Content-Type"], body)[0].values()
                if isinstance(v, bytes)
            ]
            body = parts[0] if parts else b""
        upload.file.content = body
        upload.received = True
        return web.Response(text=f"OK - {len(body)}", content_type="text/plain")

    async def _file(self, request: web.Request) -> web.Response:
        """url_private / url_private_download: the uploaded bytes, for the bot token only."""
        file = self.workspace.files.get(request.match_info["file_id"])
        if _bearer(request.headers.get("Authorization")) != self.bot_token:
            return web.Response(status=403, text="forbidden")
        if file is None or file.content is None:
            return web.Response(status=404, text="file not found")
        return web.Response(body=file.content, content_type=file.mimetype)

    async def _response_url(self, request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.read())
        except (UnicodeDecodeError, json.JSONDecodeError):
            body = None
        if not isinstance(body, dict):
            return web.json_response({"ok": False, "error": "invalid_payload"}, status=400)
        try:
            self.workspace.respond(request.match_info["token"], body)
        except SlackError as exc:
            return web.json_response(exc.body(), status=exc.status if exc.status != 200 else 400)
        return web.json_response({"ok": True})

    async def _state(self, request: web.Request) -> web.Response:
        return web.json_response(self.snapshot())

    async def _events(self, request: web.Request) -> web.Response:
        try:
            after = int(request.query.get("after", "0"))
        except ValueError:
            after = 0
        changes = self.workspace.changes[max(0, after) :]
        return web.json_response(
            {"changes": [c.to_api() for c in changes], "last": len(self.workspace.changes)}
        )

    # ---- state accessors for tests and the UI

    def messages(self, channel: str) -> list[Message]:
        """The channel's visible messages, oldest first (thread replies only if broadcast)."""
        return self.workspace.top_level(self.workspace.channel(channel, allow_user=True).id)

    def thread(self, channel: str, ts: str) -> list[Message]:
        """The thread's parent followed by its replies."""
        channel_id = self.workspace.channel(channel, allow_user=True).id
        parent = self.workspace.find(channel_id, ts)
        return ([parent] if parent else []) + self.workspace.replies(channel_id, ts)

    def ephemerals(self, user: str, channel: str | None = None) -> list[Ephemeral]:
        """Ephemeral messages shown to ``user`` (optionally in one channel)."""
        channel_id = self.workspace.channel(channel).id if channel else None
        return [
            e
            for e in self.workspace.ephemerals
            if e.user == user and (channel_id is None or e.channel == channel_id)
        ]

    def dms(self, user: str) -> list[Message]:
        """The messages of the bot's DM with ``user``."""
        channel_id = "D" + user[1:]
        return self.workspace.top_level(channel_id) if channel_id in self.workspace.channels else []

    def home(self, user: str) -> View | None:
        """The App Home view published for ``user``."""
        view_id = self.workspace.homes.get(user)
        return self.workspace.views[view_id] if view_id else None

    def modals(self, user: str) -> list[View]:
        """The user's open modal stack, bottom first."""
        return [self.workspace.views[v] for v in self.workspace.stacks.get(user, [])]

    def view(self, view_id: str) -> View:
        return self.workspace.views[view_id]

    def calls_of(self, method: str) -> list[Json]:
        """Decoded arguments (token removed) of every call to a Web API method, in order."""
        found = []
        for call in self.calls:
            if call.path == f"/api/{method}":
                content_type = next(
                    (v for k, v in call.headers.items() if k.lower() == "content-type"), ""
                )
                found.append(decode_args(call.query, content_type, call.body)[0])
        return found

    def snapshot(self) -> Json:
        """The whole workspace as JSON (what GET /_sandbox/state answers)."""
        return self.workspace.snapshot()

    def issue_trigger(self, user_id: str | None = None) -> str:
        """A fresh trigger_id, as if ``user_id`` had just interacted."""
        return self.workspace.issue_trigger(user_id or self.default_user)

    def ratelimit(self, method: str, *, retry_after: int = 1, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with Slack's 429."""
        self.fail(
            f"^/api/{method.replace('.', '[.]')}$",
            status=429,
            times=times,
            headers={"Retry-After": str(retry_after)},
            body={"ok": False, "error": "ratelimited"},
        )

    def say(
        self, channel: str, text: str, *, user_id: str | None = None, thread_ts: str | None = None
    ) -> Message:
        """Post a message as a person (what someone typing in the sandbox UI does)."""
        user = self.workspace.user(user_id or self.default_user)
        return self.workspace.post(
            self.workspace.channel(channel, allow_user=True),
            user=user.id,
            text=text,
            thread_ts=thread_ts,
        )

    # ---- the event log

    @property
    def last_seq(self) -> int:
        """The seq of the latest change; pass it as ``since`` to wait for what comes next."""
        return len(self.workspace.changes)

    def subscribe(self) -> asyncio.Queue[Change]:
        """A queue that receives every later change (for a streaming UI)."""
        queue: asyncio.Queue[Change] = asyncio.Queue()
        self._queues.append(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Change]) -> None:
        if queue in self._queues:
            self._queues.remove(queue)

    def _on_change(self, change: Change) -> None:
        for queue in self._queues:
            queue.put_nowait(change)
        for waiter in self._waiters:
            waiter.set()

    async def wait_for(
        self, kind: str, *, since: int = 0, within: float = 5.0, **match: Any
    ) -> Change:
        """The first change of ``kind`` after seq ``since`` whose data has ``match``'s values."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            for change in self.workspace.changes[since:]:
                if change.kind == kind and all(change.data.get(k) == v for k, v in match.items()):
                    return change
            since = len(self.workspace.changes)
            waiter = asyncio.Event()
            self._waiters.add(waiter)
            try:
                await asyncio.wait_for(waiter.wait(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                raise TimeoutError(f"no {kind} change matching {match} in {within}s") from None
            finally:
                self._waiters.discard(waiter)

    # ---- Slack's client side: signed requests to the app

    def _events_url(self, app_url: str) -> str:
        base = app_url.rstrip("/")
        return base if base.endswith(self.events_path) else base + self.events_path

    async def deliver(
        self,
        app_url: str,
        body: bytes,
        content_type: str = FORM,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Delivery:
        """POST ``body`` signed as Slack does; override ``timestamp``/``signature`` in tests.

        In Socket Mode (an app token given) the same request travels as an envelope on the
        app's socket instead, and the ack's payload is the answer.
        """
        if self.socket is not None:
            status, text, elapsed = await self.socket.deliver(body, content_type, headers or {})
            return Delivery(status, text, elapsed)
        stamp = int(self.clock()) if timestamp is None else timestamp
        sent = signed_headers(self.signing_secret, stamp, body, content_type)
        if signature is not None:
            sent["X-Slack-Signature"] = signature
        sent.update(headers or {})
        started = time.perf_counter()
        status, text = await self.post(self._events_url(app_url), body, sent)
        return Delivery(status, text, time.perf_counter() - started)

    async def _deliver_payload(self, app_url: str, payload: Json) -> Delivery:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self.deliver(app_url, body)

    async def command(
        self,
        app_url: str,
        command: str,
        text: str = "",
        *,
        user_id: str | None = None,
        channel_id: str | None = None,
    ) -> Delivery:
        """Type ``command text`` in a channel; Slack's handling of the answer is applied."""
        form = driver.command_form(
            self.workspace,
            command=command,
            text=text,
            user_id=user_id or self.default_user,
            channel_id=channel_id or self.default_channel,
            verification_token=self.verification_token,
        )
        delivery = await self.deliver(app_url, urlencode(form).encode())
        token = form["response_url"].rsplit("/", 1)[-1]
        channel, user = form["channel_id"], form["user_id"]
        if delivery.status != 200 or delivery.late:
            reason = "operation_timeout" if delivery.late else "dispatch_failed"
            self.workspace.post_ephemeral(
                self.workspace.channels[channel],
                user,
                text=f'{command} failed with the error "{reason}"',
            )
            return delivery.failed(reason)
        if delivery.body.strip():
            try:
                answer = json.loads(delivery.body)
            except json.JSONDecodeError:
                answer = None
            if not isinstance(answer, dict):
                # Slack shows a plain-text answer as it is.
                answer = {"text": delivery.body}
            try:
                self.workspace.respond(token, answer, consume=False)
            except SlackError as exc:
                return delivery.failed(exc.error)
        return delivery

    def fill(
        self, target: driver.Target, action_id: str, value: Any, *, block_id: str | None = None
    ) -> None:
        """Enter ``value`` into an input or select, without sending anything (as typing does)."""
        driver.enter(self.workspace, target, action_id, value, block_id)

    async def click(
        self,
        app_url: str,
        target: driver.Target,
        action_id: str,
        *,
        value: Any = None,
        selected_user: str | None = None,
        selected_date: str | None = None,
        selected_option: Any = None,
        selected_options: list[Any] | None = None,
        block_id: str | None = None,
        user_id: str | None = None,
    ) -> Delivery:
        """Click a button or choose in a select of a message or view: sends block_actions."""
        found_block, element = driver.find_element(target.blocks, action_id, block_id)
        kind = element.get("type")
        if kind == "button":
            if value is not None and value != element.get("value"):
                raise ValueError(
                    f"button {action_id!r} carries {element.get('value')!r}, not {value!r}"
                )
            state = None
        else:
            chosen = next(
                (
                    v
                    for v in (
                        selected_user,
                        selected_date,
                        selected_option,
                        selected_options,
                        value,
                    )
                    if v is not None
                ),
                None,
            )
            if kind == "overflow":
                state = driver.element_state(element, chosen)
            else:
                state = driver.enter(self.workspace, target, action_id, chosen, found_block)[2]
        act = driver.action(element, found_block, state, self.workspace.next_ts())
        payload = driver.block_actions(
            self.workspace,
            target,
            act,
            user_id=user_id or self._viewer(target),
            verification_token=self.verification_token,
        )
        return await self._deliver_payload(app_url, payload)

    def _viewer(self, target: driver.Target) -> str:
        if isinstance(target, View | Ephemeral):
            return target.user_id if isinstance(target, View) else target.user
        return self.default_user

    async def view_submission(
        self,
        app_url: str,
        view: View,
        *,
        values: dict[str, Any] | None = None,
        user_id: str | None = None,
    ) -> Delivery:
        """Press the modal's submit button; the app's response_action is applied."""
        for action_id, value in (values or {}).items():
            self.fill(view, action_id, value)
        view.errors = {}
        payload = driver.view_payload(
            self.workspace,
            "view_submission",
            view,
            user_id=user_id or view.user_id,
            verification_token=self.verification_token,
        )
        delivery = await self._deliver_payload(app_url, payload)
        if delivery.status != 200 or delivery.late:
            return delivery.failed("operation_timeout" if delivery.late else "dispatch_failed")
        try:
            self._apply_view_response(view, delivery.json if delivery.body.strip() else None)
        except (SlackError, ValueError) as exc:
            return delivery.failed(str(exc))
        return delivery

    def _apply_view_response(self, view: View, answer: Any) -> None:
        action = answer.get("response_action") if isinstance(answer, dict) else None
        ws = self.workspace
        if action is None:
            ws.close_modal(view)
        elif action == "clear":
            ws.close_modal(view, clear=True)
        elif action == "errors":
            view.errors = dict(answer.get("errors") or {})
            ws.emit("view_errors", user=view.user_id, view_id=view.id, errors=view.errors)
        elif action == "update":
            ws.replace_view(view, ws.check_view(answer.get("view"), "modal"))
        elif action == "push":
            ws.push_modal(view.user_id, ws.check_view(answer.get("view"), "modal"))
        else:
            raise ValueError(f"unknown response_action {action!r}")

    async def close_view(
        self, app_url: str, view: View, *, user_id: str | None = None
    ) -> Delivery | None:
        """Press the modal's close button: view_closed is sent only if notify_on_close."""
        delivery = None
        if view.notify_on_close:
            payload = driver.view_payload(
                self.workspace,
                "view_closed",
                view,
                user_id=user_id or view.user_id,
                verification_token=self.verification_token,
            )
            delivery = await self._deliver_payload(app_url, payload)
        self.workspace.close_modal(view, clear=view.clear_on_close)
        return delivery

    async def event(
        self,
        app_url: str,
        event: Json,
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> Delivery:
        """Send an Events API callback wrapping ``event``; retries carry X-Slack-Retry-*."""
        if event_id is None:
            self._event_counter += 1
            event_id = f"Ev{self._event_counter:08d}"
        envelope = driver.event_envelope(
            self.workspace, event, event_id=event_id, verification_token=self.verification_token
        )
        headers = {}
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        body = json.dumps(envelope).encode()
        return await self.deliver(app_url, body, "application/json", headers=headers)

    async def open_home(self, app_url: str, user_id: str | None = None) -> Delivery:
        """Open the app's Home tab: sends app_home_opened."""
        event = driver.app_home_opened(self.workspace, user_id or self.default_user)
        return await self.event(app_url, event)

    async def url_verification(
        self, app_url: str, challenge: str = "sandbox-challenge"
    ) -> Delivery:
        """The handshake Slack sends when the Request URL is saved; the app echoes it."""
        body = json.dumps(
            {"token": self.verification_token, "challenge": challenge, "type": "url_verification"}
        ).encode()
        return await self.deliver(app_url, body, "application/json")


def _bearer(header: str | None) -> str | None:
    if header and header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None
