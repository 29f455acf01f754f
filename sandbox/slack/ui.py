"""The sandbox page: the browser UI the Slack stand-in serves, and the endpoints it calls.

``GET /`` is the page (static files from ``sandbox/ui/``, served under ``/_sandbox/ui/``). The page
reads ``GET /_sandbox/config`` (the app URL, the provider stand-ins the World started and their
sections of the Providers panel: ``panels``, ``{name: {title, state}}``),
``GET /_sandbox/ui/state`` (the workspace snapshot plus what only a UI needs) and listens to
``GET /_sandbox/stream`` (server-sent events, one per workspace change; ``Last-Event-ID`` or
``?after=<seq>`` resumes). What a person does goes through the stand-in's own driver, so the app
receives exactly what Slack would send:

- ``POST /_sandbox/command`` ``{user, channel, text}``: ``/debrief …`` as a signed slash command;
- ``POST /_sandbox/say`` ``{user, channel, text, thread_ts?}``: a person posts a message;
- ``POST /_sandbox/click`` ``{user, container, action_id, block_id?, value?, values?}``: a click
  or a choice (signed ``block_actions``); ``container`` is ``{type: "message"|"ephemeral",
  channel, ts}`` or ``{type: "view", view_id}``; ``value`` (or ``selected_user``,
  ``selected_date``, ``selected_option``… as Slack names them) is what was chosen: an option's
  value, a user id, a date, a list for multi-selects; ``values`` ``{block_id: {action_id:
  value}}`` is what was entered elsewhere in the same message or view before the click;
- ``POST /_sandbox/view_submission`` ``{user, view_id, values?}`` and ``POST /_sandbox/view_close``;
- ``POST /_sandbox/home`` ``{user}``: opens the App Home tab (``app_home_opened``);
- ``GET /_sandbox/files/{file_id}``: an uploaded file's bytes, for the page's file previews;
- ``/_sandbox/providers/{name}/{path}``: the provider stand-in's own ``/_sandbox/{path}`` control
  endpoint, proxied so that the page never needs CORS.

All of them, and the page itself, are behind the stand-in's lock (:mod:`sandbox.lock`): the
run's token (``?token=`` in the printed URL, then a cookie), the server's own Host and Origin,
and ``application/json`` on every POST.

Each answers ``{"ok": bool, "status", "elapsed", "error", "body"}`` (what the app answered).
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from sandbox.slack.driver import Target, find_element
from sandbox.slack.state import BOT_USER_ID, Json, View
from sandbox.slack.workspace import Change, SlackError

if TYPE_CHECKING:
    from sandbox.slack.server import Delivery, SlackStandIn

UI_DIR = Path(__file__).resolve().parent.parent / "ui"
STATIC_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html"}
_STATIC_NAME = re.compile(r"^[a-z0-9_-]+\.(js|css|html)$")
# Where a click's choice may be given: ``value``, or the key Slack itself would use.
CHOICE_KEYS = (
    "value",
    "selected_option",
    "selected_options",
    "selected_user",
    "selected_users",
    "selected_date",
    "selected_time",
    "selected_date_time",
    "selected_channel",
    "selected_channels",
    "selected_conversation",
    "selected_conversations",
)
HEARTBEAT = 15.0
PROXY_TIMEOUT = 15.0


class SandboxUI:
    """The page and its endpoints, registered on a :class:`SlackStandIn`'s router."""

    def __init__(self, slack: SlackStandIn, static_dir: Path = UI_DIR) -> None:
        self.slack = slack
        self.static_dir = static_dir
        self._closing = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None

    def add_routes(self, app: web.Application) -> None:
        """Register the page, its endpoints and the clean-up of open streams."""
        router = app.router
        router.add_get("/", self._page)
        router.add_get("/_sandbox/ui/state", self._state)
        router.add_get("/_sandbox/ui/{name}", self._static)
        router.add_get("/_sandbox/config", self._config)
        router.add_get("/_sandbox/stream", self._stream)
        router.add_post("/_sandbox/command", self._command)
        router.add_post("/_sandbox/say", self._say)
        router.add_post("/_sandbox/click", self._click)
        router.add_post("/_sandbox/view_submission", self._view_submission)
        router.add_post("/_sandbox/view_close", self._view_close)
        router.add_post("/_sandbox/home", self._home)
        router.add_get("/_sandbox/files/{file_id}", self._file)
        router.add_route("*", "/_sandbox/providers/{name}/{tail:.*}", self._proxy)
        # Open event streams would hold the server's shutdown until its timeout; end them first.
        app.on_startup.append(self._on_startup)
        app.on_shutdown.append(self._on_shutdown)
        app.on_cleanup.append(self._on_cleanup)

    def config(self) -> Json:
        """What the page needs to know about the world it is in."""
        slack = self.slack
        return {
            "app_url": slack.app_url,
            "providers": dict(slack.providers),
            "panels": dict(slack.panels),
            "default_user": slack.default_user,
            "default_channel": slack.default_channel,
            "bot_user_id": BOT_USER_ID,
            "team": slack.workspace.team.to_api(),
        }

    def state(self) -> Json:
        """The workspace snapshot, plus who is in which channel and the errors of open modals."""
        ws = self.slack.workspace
        snapshot = self.slack.snapshot()
        snapshot["members"] = {c.id: sorted(c.members) for c in ws.channels.values()}
        snapshot["view_errors"] = {v.id: dict(v.errors) for v in ws.views.values() if v.errors}
        return snapshot

    # ---- pages and state

    async def _page(self, request: web.Request) -> web.StreamResponse:
        return self._serve("index.html")

    async def _static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if not _STATIC_NAME.match(name):
            raise web.HTTPNotFound()
        return self._serve(name)

    def _serve(self, name: str) -> web.StreamResponse:
        path = self.static_dir / name
        if not path.is_file():
            raise web.HTTPNotFound()
        return web.Response(
            body=path.read_bytes(),
            content_type=STATIC_TYPES[path.suffix],
            charset="utf-8",
            headers={"Cache-Control": "no-store"},
        )

    async def _config(self, request: web.Request) -> web.Response:
        return web.json_response(self.config())

    async def _state(self, request: web.Request) -> web.Response:
        return web.json_response(self.state())

    async def _file(self, request: web.Request) -> web.Response:
        file = self.slack.workspace.files.get(request.match_info["file_id"])
        if file is None or file.content is None:
            raise web.HTTPNotFound()
        content_type = file.mimetype
        charset = "utf-8" if content_type.startswith("text/") else None
        return web.Response(body=file.content, content_type=content_type, charset=charset)

    # ---- the live channel

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: every change after ``after``, then each one as it happens."""
        after = _int(request.headers.get("Last-Event-ID") or request.query.get("after"), 0)
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        queue = self.slack.subscribe()
        try:
            # Subscribed before replaying, so nothing falls between the replay and the queue.
            sent = max(0, after)
            for change in self.slack.workspace.changes[sent:]:
                await response.write(_event(change))
                sent = change.seq
            while not self._closing.is_set():
                latest = await self._next(queue)
                if latest is None:
                    await response.write(b": keep-alive\n\n")
                elif latest.seq > sent:
                    await response.write(_event(latest))
                    sent = latest.seq
        except ConnectionError:
            pass  # the page went away
        finally:
            self.slack.unsubscribe(queue)
        return response

    async def _next(self, queue: asyncio.Queue[Change]) -> Change | None:
        """The next change, or None after a heartbeat interval or when the server closes."""
        getter = asyncio.ensure_future(queue.get())
        closing = asyncio.ensure_future(self._closing.wait())
        done, pending = await asyncio.wait(
            {getter, closing}, timeout=HEARTBEAT, return_when=asyncio.FIRST_COMPLETED
        )
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        return getter.result() if getter in done else None

    async def _on_startup(self, app: web.Application) -> None:
        self._closing.clear()

    async def _on_shutdown(self, app: web.Application) -> None:
        self._closing.set()

    async def _on_cleanup(self, app: web.Application) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ---- what a person does

    def _app_url(self) -> str:
        if not self.slack.app_url:
            raise _refusal("no_app", "the stand-in does not know the app's URL yet", status=409)
        return self.slack.app_url

    async def _command(self, request: web.Request) -> web.Response:
        body = await _body(request)
        text = str(body.get("text") or "").strip()
        command, _, rest = text.partition(" ")
        if not command.startswith("/") or len(command) < 2:
            raise _refusal("not_a_command", "a slash command starts with /, like /debrief help")
        delivery = await self._guard(
            self.slack.command(
                self._app_url(),
                command,
                rest.strip(),
                user_id=self._user(body),
                channel_id=self._channel(body),
            )
        )
        return _answer(delivery)

    async def _say(self, request: web.Request) -> web.Response:
        body = await _body(request)
        text = str(body.get("text") or "")
        if not text.strip():
            raise _refusal("no_text", "nothing to say")
        try:
            message = self.slack.say(
                self._channel(body),
                text,
                user_id=self._user(body),
                thread_ts=body.get("thread_ts") or None,
            )
        except SlackError as exc:
            raise _refusal(exc.error, str(exc)) from exc
        return web.json_response({"ok": True, "ts": message.ts, "channel": message.channel})

    async def _click(self, request: web.Request) -> web.Response:
        body = await _body(request)
        user = self._user(body)
        target = self._target(body.get("container"))
        action_id = str(body.get("action_id") or "")
        block_id = body.get("block_id") or None
        try:
            found_block, element = find_element(target.blocks, action_id, block_id)
            self._fill(target, body.get("values"), skip=(found_block, action_id))
        except (LookupError, ValueError, SlackError) as exc:
            raise _refusal("invalid_action", str(exc)) from exc
        # A button carries its own value; for everything else ``value`` is what was chosen.
        chosen = None
        if element.get("type") != "button":
            chosen = next((body[k] for k in CHOICE_KEYS if body.get(k) is not None), None)
        delivery = await self._guard(
            self.slack.click(
                self._app_url(),
                target,
                action_id,
                value=chosen,
                block_id=found_block,
                user_id=user,
            )
        )
        return _answer(delivery)

    async def _view_submission(self, request: web.Request) -> web.Response:
        body = await _body(request)
        user = self._user(body)
        view = self._view(body.get("view_id"))
        try:
            self._fill(view, body.get("values"))
        except (LookupError, ValueError, SlackError) as exc:
            raise _refusal("invalid_values", str(exc)) from exc
        delivery = await self._guard(
            self.slack.view_submission(self._app_url(), view, user_id=user)
        )
        return _answer(delivery, errors=view.errors)

    async def _view_close(self, request: web.Request) -> web.Response:
        body = await _body(request)
        view = self._view(body.get("view_id"))
        delivery = await self._guard(
            self.slack.close_view(self._app_url(), view, user_id=self._user(body))
        )
        if delivery is None:
            return web.json_response({"ok": True, "status": None, "error": None})
        return _answer(delivery)

    async def _home(self, request: web.Request) -> web.Response:
        body = await _body(request)
        delivery = await self._guard(self.slack.open_home(self._app_url(), self._user(body)))
        return _answer(delivery)

    async def _guard(self, sending: Any) -> Delivery:
        """Await a delivery to the app; an unreachable app is a 502 the page can show."""
        try:
            delivery: Delivery = await sending
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _refusal(
                "app_unreachable", f"the app did not answer: {type(exc).__name__}", status=502
            ) from exc
        return delivery

    def _fill(self, target: Target, values: Any, skip: tuple[str, str] | None = None) -> None:
        if not values:
            return
        if not isinstance(values, dict):
            raise ValueError("values must be {block_id: {action_id: value}}")
        for block_id, actions in values.items():
            if not isinstance(actions, dict):
                raise ValueError("values must be {block_id: {action_id: value}}")
            for action_id, value in actions.items():
                if (block_id, action_id) != skip:
                    self.slack.fill(target, action_id, _blank_to_none(value), block_id=block_id)

    def _user(self, body: Json) -> str:
        user = str(body.get("user") or self.slack.default_user)
        if user not in self.slack.workspace.users or user == BOT_USER_ID:
            raise _refusal("user_not_found", f"no person {user!r} in the sandbox workspace")
        return user

    def _channel(self, body: Json) -> str:
        ref = str(body.get("channel") or self.slack.default_channel)
        try:
            return self.slack.workspace.channel(ref, allow_user=True).id
        except SlackError as exc:
            raise _refusal("channel_not_found", f"no channel {ref!r}") from exc

    def _view(self, view_id: Any) -> View:
        view = self.slack.workspace.views.get(str(view_id or ""))
        if view is None:
            raise _refusal("view_not_found", f"no view {view_id!r}", status=404)
        return view

    def _target(self, container: Any) -> Target:
        """The message, ephemeral message or view a click happened in."""
        if not isinstance(container, dict):
            raise _refusal("invalid_container", "container is required")
        kind = container.get("type")
        ws = self.slack.workspace
        if kind == "view":
            return self._view(container.get("view_id"))
        channel_id, ts = str(container.get("channel") or ""), str(container.get("ts") or "")
        found: Target | None
        if kind == "ephemeral":
            found = ws.find_ephemeral(channel_id, ts)
        elif kind == "message":
            found = ws.find(channel_id, ts)
        else:
            raise _refusal("invalid_container", f"unknown container type {kind!r}")
        if found is None:
            raise _refusal("message_not_found", f"no message {ts} in {channel_id}", status=404)
        return found

    # ---- the provider stand-ins' control endpoints

    async def _proxy(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        base = self.slack.providers.get(name)
        if not base:
            raise _refusal("unknown_provider", f"no {name} stand-in in this sandbox", status=404)
        url = f"{base.rstrip('/')}/_sandbox/{request.match_info['tail']}"
        if request.query_string:
            url += f"?{request.query_string}"
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=PROXY_TIMEOUT)
            )
        # The provider stand-in wears the same lock; the page's cookie is not for its port.
        headers = self.slack.lock.headers()
        if request.content_type:
            headers["Content-Type"] = request.content_type
        try:
            async with self._session.request(
                request.method, url, data=await request.read(), headers=headers
            ) as answer:
                payload = await answer.read()
                return web.Response(
                    status=answer.status,
                    body=payload,
                    content_type=answer.content_type or "application/octet-stream",
                )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _refusal(
                "provider_unreachable", f"{name} did not answer: {type(exc).__name__}", status=502
            ) from exc


def _event(change: Change) -> bytes:
    data = json.dumps(change.to_api(), separators=(",", ":"))
    return f"id: {change.seq}\nevent: change\ndata: {data}\n\n".encode()


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value else default
    except ValueError:
        return default


def _blank_to_none(value: Any) -> Any:
    return None if value == "" else value


async def _body(request: web.Request) -> Json:
    try:
        body = json.loads(await request.read() or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _refusal("invalid_json", "the body must be a JSON object") from exc
    if not isinstance(body, dict):
        raise _refusal("invalid_json", "the body must be a JSON object")
    return body


def _refusal(error: str, detail: str, *, status: int = 400) -> web.HTTPException:
    """An error answer the page shows: ``{"ok": false, "error", "detail"}``."""
    exc_class: type[web.HTTPException] = {
        404: web.HTTPNotFound,
        409: web.HTTPConflict,
        502: web.HTTPBadGateway,
    }.get(status, web.HTTPBadRequest)
    body = json.dumps({"ok": False, "error": error, "detail": detail})
    return exc_class(text=body, content_type="application/json")


def _answer(delivery: Delivery, **extra: Any) -> web.Response:
    ok = delivery.status == 200 and delivery.error is None
    return web.json_response(
        {
            "ok": ok,
            "status": delivery.status,
            "elapsed": round(delivery.elapsed, 3),
            "error": delivery.error,
            "body": delivery.body[:4000],
            **extra,
        }
    )
