"""A local stand-in for Otter.ai's public API and its workspace webhooks.

It follows Otter's public API reference: Bearer keys, `GET /v1/channels`,
`GET|POST /v1/conversations`, `GET /v1/conversations/{id}[/audio]` with `include`, and
`GET /v1/workspace`. Lists are reverse-chronological with opaque cursors. More than 10 requests in
any second get a 429 with no `Retry-After`, which is reportedly what Otter sends. Error bodies are
`{"error": "…"}`: Otter's are undocumented.

Tests and the sandbox drive it with :meth:`OtterStandIn.add_conversation`,
:meth:`~OtterStandIn.finish_processing` (which sends the authenticated `conversation_completed`
webhook set with :meth:`~OtterStandIn.configure_webhook`) and the `/_sandbox/otter/...` endpoints.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import random
import secrets
import string
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

from aiohttp import web

from providers.otter.webhooks import SIGNATURE_HEADER, basic_authorization, sign
from sandbox.delivery import Deliveries, Delivery
from sandbox.lock import SandboxLock
from sandbox.plugin import RunningApp, Setup, StandInPlugin
from sandbox.server import StandIn

SANDBOX_API_KEY = "otter-sandbox-key"
RATE_LIMIT = 10
DEFAULT_PAGE_SIZE = 20
INCLUDE_OPTIONS = ("action_items", "insights", "outlines", "transcript")
FINISHED = {"abstract_summary": "finished", "action_item": "finished", "outline": "finished"}
PROCESSING = {"abstract_summary": None, "action_item": None, "outline": None}


def _user(uid: str, first: str, last: str, email: str) -> dict[str, Any]:
    return {
        "id": uid,
        "name": f"{first} {last}",
        "first_name": first,
        "last_name": last,
        "email": email,
    }


# The Slack stand-in's people, so that assignees map onto Slack users by email.
ADA = _user("usr_ada", "Ada", "Lovelace", "ada@example.com")
GRACE = _user("usr_grace", "Grace", "Hopper", "grace@example.com")
ALAN = _user("usr_alan", "Alan", "Turing", "alan@example.com")
PEOPLE = {person["email"]: person for person in (ADA, GRACE, ALAN)}
ADA_EMAIL, GRACE_EMAIL, ALAN_EMAIL = (str(p["email"]) for p in (ADA, GRACE, ALAN))

PRODUCT_SYNC_ID = "pSync7Lq2XvN8kR4tW9bYd"
ACME_CALL_ID = "acmeDisc3Hf6Jm1Qz5Ue8c"
DESIGN_REVIEW_ID = "dsgnRev9Tb4Kp2Wn7Xs5Va"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Encoding = Literal["hex", "base64"]
ActionItemSpec = tuple[str, str | None] | tuple[str, str | None, bool]


def iso(moment: datetime) -> str:
    """A timestamp as Otter writes it: `2025-07-31T12:00:00Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def person(email: str | None) -> dict[str, Any] | None:
    """The Otter user for ``email``: one of the sandbox people, or one made up from the address."""
    if not email:
        return None
    if email in PEOPLE:
        return copy.deepcopy(PEOPLE[email])
    local = email.split("@", 1)[0]
    words = [w.capitalize() for w in local.replace("_", ".").split(".") if w] or [local]
    return _user(f"usr_{local}", words[0], " ".join(words[1:]), email)


def _clock_text(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    return (
        f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
        if hours
        else f"{rest // 60:02d}:{rest % 60:02d}"
    )


def transcript_text(turns: Sequence[tuple[str, str]], *, start: float = 0.0) -> str:
    """Otter's txt transcript format for ``(speaker, words)`` turns, timed by their length."""
    moment = start
    blocks = []
    for speaker, words in turns:
        blocks.append(f"{speaker} {_clock_text(moment)}\n{words}")
        # About 15 characters a second of speech, and at least a breath between turns.
        moment += max(3.0, len(words) / 15)
    return "\n\n".join(blocks)


def _sections(items: Mapping[str, Sequence[str]], key: str) -> list[dict[str, Any]]:
    return [{key: title, "text": list(text)} for title, text in items.items()]


def action_item(
    item_id: str, text: str, assignee: str | None, *, completed: bool = False, at: datetime
) -> dict[str, Any]:
    """An action item in the shape of the reference's `include=action_items` example."""
    return {
        "id": item_id,
        "text": text,
        "assignee": person(assignee),
        "status": {
            "completed": completed,
            "created_at": iso(at),
            "last_modified_at": iso(at),
            "completed_at": iso(at) if completed else None,
        },
    }


@dataclass
class WebhookTarget:
    """Where and how the stand-in delivers its webhook, as an Otter admin would set it up."""

    url: str
    hmac_secret: str | None = None
    bearer: str | None = None
    basic: str | None = None
    encoding: Encoding = "hex"
    event: str = "conversation_completed"
    name: str = "Debrief digests"


class OtterStandIn(StandIn):
    """Otter.ai on loopback: the API under ``/v1`` (:attr:`api_url`), control in `/_sandbox/otter`.

    Args:
        api_key: the only key accepted as `Authorization: Bearer`.
        requests_per_second: requests allowed in any one-second window (None: unlimited).
        clock: monotonic seconds for the rate-limit window; inject to test throttling.
        now: wall-clock time for timestamps.
        legacy_shapes: answer with the reference's other shape (relationship key `outline`,
            insight text as a list of lists) instead of the `include=all` example's.
        seed: start with the sandbox conversations.
        lock: the sandbox lock (shared by a World's stand-ins); a fresh token by default.
    """

    name = "otter"
    outbox: Deliveries

    def __init__(
        self,
        *,
        api_key: str = SANDBOX_API_KEY,
        requests_per_second: int | None = RATE_LIMIT,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = _utcnow,
        legacy_shapes: bool = False,
        seed: bool = True,
        lock: SandboxLock | None = None,
    ) -> None:
        self.api_key = api_key
        self.requests_per_second = requests_per_second
        self.legacy_shapes = legacy_shapes
        self._clock = clock
        self._now = now
        self._window: deque[float] = deque()
        self._rng = random.Random("otter-stand-in")
        self.user = copy.deepcopy(ADA)
        self.workspace: dict[str, Any] = {
            "id": 42,
            "name": "Example Inc.",
            "owner": copy.deepcopy(ADA),
            "member_count": 3,
            "handle": "example.com",
            "type": "business",
        }
        self.channels: dict[str, dict[str, Any]] = {}
        self.conversations: dict[str, dict[str, Any]] = {}
        self._pending: dict[str, dict[str, Any]] = {}
        self.webhook: WebhookTarget | None = None
        # Otter sends each webhook once; the caller waits for the app's answer.
        self.outbox = Deliveries("otter", timeout=10.0)
        super().__init__(lock=lock)
        if seed:
            self._seed()

    @property
    def deliveries(self) -> list[Delivery]:
        """Every webhook delivery, in the order made."""
        return self.outbox.records

    @property
    def api_url(self) -> str:
        """The base URL to give ``OtterClient`` (the real one is https://api.otter.ai/v1)."""
        return f"{self.url}/v1"

    def setup_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/v1/channels", self._api(self._list_channels))
        router.add_get("/v1/conversations", self._api(self._list_conversations))
        router.add_post("/v1/conversations", self._api(self._create_conversation))
        router.add_get("/v1/conversations/{id}", self._api(self._get_conversation))
        router.add_get("/v1/conversations/{id}/audio", self._api(self._get_audio))
        router.add_get("/v1/workspace", self._api(self._get_workspace))
        router.add_get("/_sandbox/otter/conversations", self._control_list)
        router.add_post("/_sandbox/otter/conversations", self._control_add)
        router.add_post("/_sandbox/otter/conversations/{id}/finish", self._control_finish)
        router.add_post("/_sandbox/otter/webhook", self._control_webhook)
        router.add_get("/_sandbox/otter/deliveries", self._control_deliveries)
        # Where Otter's own audio links point (a CDN): not a control endpoint, so not locked.
        router.add_get("/media/audio/{id}.mp3", self._audio_file)

    # ---- driving it -------------------------------------------------------------------------

    def new_id(self) -> str:
        """A fresh conversation id shaped like Otter's."""
        alphabet = string.ascii_letters + string.digits
        while True:
            candidate = "".join(self._rng.choice(alphabet) for _ in range(22))
            if candidate not in self.conversations:
                return candidate

    def add_channel(self, channel_id: str, name: str, *, owner: str = "ada@example.com") -> None:
        """Add a channel the sandbox user is a member of."""
        self.channels[channel_id] = {
            "id": channel_id,
            "name": name,
            "member_count": len(PEOPLE),
            "owner": person(owner),
        }

    def add_record(self, record: Mapping[str, Any]) -> str:
        """Store a conversation given in API shape, relationships included; returns its id."""
        stored = copy.deepcopy(dict(record))
        if not stored.get("id"):
            stored["id"] = self.new_id()
        stored.setdefault("url", f"https://otter.ai/u/{stored['id']}")
        stored.setdefault("created_at", iso(self._now()))
        stored.setdefault("owner", copy.deepcopy(self.user))
        stored.setdefault("process_status", dict(PROCESSING))
        for key in ("calendar_guests", "shared_emails", "shared_channels"):
            stored.setdefault(key, [])
        stored.setdefault("abstract_summary", None)
        stored.setdefault("conf_join_url", None)
        relationships = stored.setdefault("relationships", {})
        for key in INCLUDE_OPTIONS:
            relationships.setdefault(key, None if key == "transcript" else [])
        relationships.setdefault("custom_prompt", None)
        self.conversations[stored["id"]] = stored
        return str(stored["id"])

    def add_conversation(
        self,
        title: str,
        *,
        conversation_id: str | None = None,
        owner: str = "ada@example.com",
        created_at: datetime | None = None,
        processing: bool = True,
        summary: str | None = None,
        action_items: Sequence[ActionItemSpec] = (),
        insights: Mapping[str, Sequence[str]] | None = None,
        outline: Mapping[str, Sequence[str]] | None = None,
        transcript: str | Sequence[tuple[str, str]] = (),
        channel_id: str | None = None,
        guests: Sequence[str] = (),
        conf_join_url: str | None = None,
    ) -> str:
        """Add a conversation; returns its id.

        While ``processing``, ``summary``, ``action_items``, ``insights`` and ``outline`` stay
        hidden (process_status is null) until :meth:`finish_processing` reveals them. Action items
        are ``(text, assignee email[, completed])``.
        """
        at = created_at or self._now()
        conversation_id = conversation_id or self.new_id()
        results = {
            "abstract_summary": summary,
            "action_items": [
                action_item(f"{conversation_id}-ai{n}", text, assignee, completed=any(done), at=at)
                for n, (text, assignee, *done) in enumerate(action_items, 1)
            ],
            "insights": _sections(insights or {}, "topic"),
            "outlines": _sections(outline or {}, "section"),
        }
        text = transcript if isinstance(transcript, str) else transcript_text(transcript)
        record: dict[str, Any] = {
            "id": conversation_id,
            "title": title,
            "owner": person(owner),
            "created_at": iso(at),
            "calendar_guests": [
                {"name": (person(g) or {}).get("name"), "email": g} for g in guests
            ],
            "shared_channels": [],
            "conf_join_url": conf_join_url,
            "relationships": {"transcript": {"content": text, "format": "txt"} if text else None},
        }
        if channel_id:
            if channel_id not in self.channels:
                raise KeyError(f"no Otter channel {channel_id!r} in the stand-in")
            record["shared_channels"] = [
                {"channel": copy.deepcopy(self.channels[channel_id]), "permission": "collaborate"}
            ]
        if processing:
            record["process_status"] = dict(PROCESSING)
            self._pending[conversation_id] = results
        else:
            record["process_status"] = dict(FINISHED)
            _apply_results(record, results)
        return self.add_record(record)

    def configure_webhook(
        self,
        url: str,
        hmac_secret: str | None = None,
        bearer: str | None = None,
        encoding: Encoding = "hex",
        *,
        basic: str | None = None,
        event: str = "conversation_completed",
    ) -> None:
        """Deliver webhooks to ``url`` with HMAC and/or Bearer or Basic authentication."""
        if bearer and basic:
            raise ValueError("Otter sends one Authorization header: choose Bearer or Basic")
        if encoding not in ("hex", "base64"):
            raise ValueError("encoding must be 'hex' or 'base64'")
        self.webhook = WebhookTarget(url, hmac_secret, bearer, basic, encoding, event)

    async def finish_processing(
        self, conversation_id: str, *, deliveries: int = 1
    ) -> list[Delivery]:
        """Finish Otter's processing and send the completion webhook ``deliveries`` times.

        Fills in whatever summary, action items, insights and outline were given when the
        conversation was added, or plausible ones generated from its title.
        """
        record = self._record(conversation_id)
        _apply_results(record, self._pending.pop(conversation_id, {}))
        # Whatever was not given when the conversation was added is made up, as Otter would.
        _apply_results(record, _generated_results(record))
        record["process_status"] = dict(FINISHED)
        if self.webhook is None:
            return []
        return [await self.deliver_webhook(conversation_id) for _ in range(deliveries)]

    def webhook_body(self, conversation_id: str, *, event: str | None = None) -> bytes:
        """The body Otter sends for ``conversation_id``, relationships at the top of `data`."""
        record = self._record(conversation_id)
        target = self.webhook or WebhookTarget(url="")
        data = self._render(record, include=None)
        relationships = self._relationships(record, INCLUDE_OPTIONS)
        data.update(relationships)
        # The webhook prose calls it `outline`; the API's include=all example says `outlines`.
        data["outline"] = data.pop("outlines", data.get("outline"))
        shared = record.get("shared_channels") or []
        channel = shared[0]["channel"] if shared else next(iter(self.channels.values()), None)
        body = {
            "meta": {
                "retrieved_at": iso(self._now()),
                "webhook": {
                    "name": target.name,
                    "source_type": "channel",
                    "event": event or target.event,
                    "destination_url": target.url,
                    "created_by": copy.deepcopy(self.user),
                    "source": {"channel": copy.deepcopy(channel)},
                },
            },
            "data": data,
        }
        return json.dumps(body, ensure_ascii=False).encode()

    def webhook_headers(self, body: bytes) -> dict[str, str]:
        """The headers Otter would send with ``body`` under the configured authentication."""
        if self.webhook is None:
            raise RuntimeError("configure_webhook() first")
        headers = {"Content-Type": "application/json", "User-Agent": "Otter-Webhooks (sandbox)"}
        if self.webhook.hmac_secret:
            headers[SIGNATURE_HEADER] = sign(body, self.webhook.hmac_secret, self.webhook.encoding)
        if self.webhook.bearer:
            headers["Authorization"] = f"Bearer {self.webhook.bearer}"
        elif self.webhook.basic:
            headers["Authorization"] = basic_authorization(self.webhook.basic)
        return headers

    async def deliver_webhook(self, conversation_id: str, *, event: str | None = None) -> Delivery:
        """Send one webhook for ``conversation_id`` now, whatever its state."""
        if self.webhook is None:
            raise RuntimeError("configure_webhook() first")
        body = self.webhook_body(conversation_id, event=event)
        return await self.outbox.send(self.webhook.url, body, self.webhook_headers(body))

    # ---- the API ------------------------------------------------------------------------------

    def _api(self, handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            if request.headers.get("Authorization", "") != f"Bearer {self.api_key}":
                return _error(401, "Invalid or missing API key")
            if self._throttled():
                # No Retry-After: the real API reportedly sends none.
                return _error(429, "Too Many Requests")
            return await handler(request)

        return guarded

    def _throttled(self) -> bool:
        if not self.requests_per_second:
            return False
        now = self._clock()
        while self._window and self._window[0] <= now - 1.0:
            self._window.popleft()
        if len(self._window) >= self.requests_per_second:
            return True
        self._window.append(now)
        return False

    def _meta(self) -> dict[str, Any]:
        return {"retrieved_at": iso(self._now())}

    async def _list_channels(self, request: web.Request) -> web.Response:
        channels = sorted(self.channels.values(), key=lambda c: str(c["name"]).lower())
        return web.json_response({"meta": self._meta(), "data": copy.deepcopy(channels)})

    async def _list_conversations(self, request: web.Request) -> web.Response:
        query = request.query
        try:
            limit = _int_param(query.get("limit"), DEFAULT_PAGE_SIZE)
            include_shared = _bool_param(query.get("include_shared"))
            after = _decode_cursor(query.get("cursor"))
        except ValueError as exc:
            return _error(400, str(exc))
        if not 1 <= limit <= 100:
            return _error(400, "limit must be between 1 and 100")
        channel_id = query.get("channel_id") or None
        if channel_id is not None and channel_id not in self.channels:
            return _error(404, "Channel not found")
        chosen = [
            record
            for record in self.conversations.values()
            if self._listed(record, channel_id=channel_id, include_shared=include_shared)
        ]
        chosen.sort(key=_order_key, reverse=True)
        if after is not None:
            chosen = [record for record in chosen if _order_key(record) < after]
        page, rest = chosen[:limit], chosen[limit:]
        meta = {
            **self._meta(),
            "has_more": bool(rest),
            "next_cursor": _encode_cursor(page[-1]) if rest else None,
        }
        data = [self._render(record, include=None) for record in page]
        return web.json_response({"meta": meta, "data": data})

    def _listed(
        self, record: dict[str, Any], *, channel_id: str | None, include_shared: bool
    ) -> bool:
        if channel_id is not None:
            shared = record.get("shared_channels") or []
            return any((s.get("channel") or {}).get("id") == channel_id for s in shared)
        owned = (record.get("owner") or {}).get("email") == self.user["email"]
        return owned or include_shared

    async def _create_conversation(self, request: web.Request) -> web.Response:
        try:
            payload = json.loads(await request.read())
        except ValueError:
            return _error(400, "body must be JSON")
        file_url = payload.get("file") if isinstance(payload, dict) else None
        parts = urlsplit(file_url) if isinstance(file_url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            return _error(400, "file must be the URL of the file to process")
        name = payload.get("name")
        if name is not None and not isinstance(name, str):
            return _error(400, "name must be a string")
        file_name = parts.path.rsplit("/", 1)[-1] or "upload"
        self.add_conversation(name or file_name, transcript="")
        completed = self._now().astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        return web.json_response(
            {"status": "success", "completed_at": completed, "file": file_name}
        )

    async def _get_conversation(self, request: web.Request) -> web.Response:
        record = self.conversations.get(request.match_info["id"])
        if record is None:
            return _error(404, "Conversation not found")
        tokens = [t.strip() for t in request.query.get("include", "").split(",") if t.strip()]
        unknown = [t for t in tokens if t not in (*INCLUDE_OPTIONS, "all")]
        if unknown:
            options = ", ".join((*INCLUDE_OPTIONS, "all"))
            return _error(400, f"unknown include {', '.join(unknown)}; options: {options}")
        data = self._render(record, include=tokens if tokens else None)
        return web.json_response({"meta": self._meta(), "data": data})

    async def _get_audio(self, request: web.Request) -> web.Response:
        conversation_id = request.match_info["id"]
        if conversation_id not in self.conversations:
            return _error(404, "Conversation not found")
        url = f"{self.url}/media/audio/{conversation_id}.mp3"
        return web.json_response({"meta": self._meta(), "data": {"url": url}})

    async def _get_workspace(self, request: web.Request) -> web.Response:
        return web.json_response({"meta": self._meta(), "data": copy.deepcopy(self.workspace)})

    def _record(self, conversation_id: str) -> dict[str, Any]:
        try:
            return self.conversations[conversation_id]
        except KeyError:
            raise KeyError(f"no Otter conversation {conversation_id!r} in the stand-in") from None

    def _render(self, record: dict[str, Any], *, include: Sequence[str] | None) -> dict[str, Any]:
        data = {k: copy.deepcopy(v) for k, v in record.items() if k != "relationships"}
        if include is not None:
            wanted = INCLUDE_OPTIONS if "all" in include else tuple(include)
            relationships = self._relationships(record, wanted)
            if "all" in include:
                relationships["custom_prompt"] = copy.deepcopy(
                    record["relationships"].get("custom_prompt")
                )
            data["relationships"] = relationships
        return data

    def _relationships(self, record: dict[str, Any], wanted: Sequence[str]) -> dict[str, Any]:
        source = record["relationships"]
        out: dict[str, Any] = {}
        for key in INCLUDE_OPTIONS:
            if key not in wanted:
                continue
            value = copy.deepcopy(source.get(key))
            if key == "outlines" and self.legacy_shapes:
                out["outline"] = value
                continue
            if key == "insights" and self.legacy_shapes and value:
                for insight in value:
                    insight["text"] = [insight["text"]]
            out[key] = value
        return out

    # ---- control endpoints --------------------------------------------------------------------

    async def _control_list(self, request: web.Request) -> web.Response:
        rows = [
            {
                "id": r["id"],
                "title": r.get("title"),
                "created_at": r.get("created_at"),
                "ready": r.get("process_status") == FINISHED,
            }
            for r in sorted(self.conversations.values(), key=_order_key, reverse=True)
        ]
        return web.json_response({"conversations": rows})

    async def _control_add(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            specs = [
                (i["text"], i.get("assignee_email"), bool(i.get("completed", False)))
                for i in body.get("action_items", [])
            ]
            conversation_id = self.add_conversation(
                str(body["title"]),
                processing=bool(body.get("processing", True)),
                summary=body.get("summary"),
                action_items=specs,
                insights=body.get("insights"),
                outline=body.get("outline"),
                transcript=[(str(s), str(w)) for s, w in body.get("transcript", [])],
                channel_id=body.get("channel_id"),
                owner=body.get("owner", self.user["email"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return _error(400, f"bad conversation: {exc}")
        return web.json_response({"id": conversation_id}, status=201)

    async def _control_finish(self, request: web.Request) -> web.Response:
        conversation_id = request.match_info["id"]
        if conversation_id not in self.conversations:
            return _error(404, "Conversation not found")
        try:
            body = await request.json() if request.can_read_body else {}
            times = int(body.get("deliveries", 1))
        except (ValueError, TypeError, AttributeError) as exc:
            return _error(400, f"bad finish request: {exc}")
        deliveries = await self.finish_processing(conversation_id, deliveries=times)
        return web.json_response({"deliveries": [_delivery_row(d) for d in deliveries]})

    async def _control_webhook(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            self.configure_webhook(
                str(body["url"]),
                hmac_secret=body.get("hmac_secret"),
                bearer=body.get("bearer"),
                encoding=body.get("encoding", "hex"),
                basic=body.get("basic"),
                event=body.get("event", "conversation_completed"),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return _error(400, f"bad webhook: {exc}")
        assert self.webhook is not None
        shown = asdict(self.webhook)
        for secret in ("hmac_secret", "bearer", "basic"):
            shown[secret] = bool(shown[secret])
        return web.json_response(shown)

    async def _control_deliveries(self, request: web.Request) -> web.Response:
        return web.json_response({"deliveries": [_delivery_row(d) for d in self.deliveries]})

    async def _audio_file(self, request: web.Request) -> web.Response:
        if request.match_info["id"] not in self.conversations:
            return _error(404, "Conversation not found")
        # An ID3 header and silence: enough for a client to see an MP3 arrive.
        return web.Response(
            body=b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(1024), content_type="audio/mpeg"
        )

    # ---- seed data ----------------------------------------------------------------------------

    def _seed(self) -> None:
        now = self._now()
        self.add_channel("ch_product_team", "Product team")
        self.add_channel("ch_customer_calls", "All customer calls", owner="grace@example.com")
        self.add_conversation(
            "Weekly product sync",
            conversation_id=PRODUCT_SYNC_ID,
            created_at=now - timedelta(hours=3),
            processing=False,
            channel_id="ch_product_team",
            guests=["grace@example.com", "alan@example.com"],
            conf_join_url="https://zoom.us/j/5551234567",
            summary=(
                "The team agreed to ship the redesigned meeting digest next Thursday behind a "
                "flag, fix the reminder time-zone bug first, and benchmark the job queue on "
                "PostgreSQL before enabling it for the larger workspaces."
            ),
            action_items=[
                ("Write the rollout plan for the new digest and share it in #product", ADA_EMAIL),
                ("Fix the time-zone bug in daily reminders before Thursday's release", GRACE_EMAIL),
                ("Benchmark the job queue on PostgreSQL with 50 concurrent workers", ALAN_EMAIL),
                ("Update the onboarding guide with the new /debrief commands", ADA_EMAIL, True),
            ],
            insights={
                "Decisions": [
                    "Ship the redesigned digest on Thursday behind a feature flag.",
                    "Keep the old digest format for two weeks as a fallback.",
                ],
                "Risks": [
                    "Reminders fire at the wrong hour for users outside UTC.",
                    "Queue throughput on PostgreSQL is unmeasured above 20 workers.",
                ],
                "Next steps": [
                    "Grace owns the reminder fix, Alan the benchmark, Ada the rollout plan.",
                ],
            },
            outline={
                "Digest redesign": [
                    "Ada walked through the new layout: summary first, action items in the thread.",
                    "Feedback from the pilot team was positive; they asked for assignee buttons.",
                ],
                "Reminder time zones": [
                    "Grace traced the wrong reminder hour to the scheduler using server time.",
                    "The fix stores each user's time zone from Slack and schedules per user.",
                ],
                "Job queue on PostgreSQL": [
                    "Alan proposed SKIP LOCKED claiming and a benchmark with 50 workers.",
                ],
                "Release plan": [
                    "Release on Thursday; the old format stays available for two weeks.",
                ],
            },
            transcript=PRODUCT_SYNC_TURNS,
        )
        self.add_conversation(
            "Customer Discovery Call – ACME Corp",
            conversation_id=ACME_CALL_ID,
            owner="grace@example.com",
            created_at=now - timedelta(days=1, hours=2),
            processing=False,
            channel_id="ch_customer_calls",
            guests=["alex.taylor@acme.example"],
            conf_join_url="https://zoom.us/j/00000000000",
            summary=(
                "Grace met ACME Corp to confirm their requirements, discuss pricing options and "
                "agree an evaluation timeline. ACME wants automated call summaries and reliable "
                "follow-up on action items."
            ),
            action_items=[
                ("Send the follow-up email with the pricing summary", "grace@example.com"),
                ("Answer ACME's security questionnaire", "alan@example.com"),
            ],
            insights={
                "Budget": [
                    "ACME has a preliminary budget and is comfortable with per-seat pricing.",
                    "They are open to a flat rate if it simplifies internal approvals.",
                ],
                "Timeline": [
                    "Evaluation completes this month; go-live at the start of next quarter.",
                ],
            },
            outline={
                "Introductions and context": [
                    "ACME described their manual note-taking and missed follow-ups.",
                ],
                "Pricing and rollout": [
                    "Per-seat and flat-rate options; rollout starting with sales.",
                ],
            },
            transcript=ACME_TURNS,
        )
        self.add_conversation(
            "Design review: digest layout",
            conversation_id=DESIGN_REVIEW_ID,
            created_at=now - timedelta(minutes=20),
            processing=True,
            guests=["grace@example.com", "alan@example.com"],
            summary=(
                "The review settled the digest layout: a compact parent message with the summary "
                "and a threaded reply per section; Alan will prototype the overflow handling."
            ),
            action_items=[
                ("Prototype overflow handling for digests longer than 50 blocks", ALAN_EMAIL),
                ("Review the colour contrast of the status badges", GRACE_EMAIL),
            ],
            insights={
                "Decisions": ["Threaded replies carry insights, outline and transcript links."]
            },
            outline={"Layout": ["Parent message with summary; details in the thread."]},
            transcript=DESIGN_REVIEW_TURNS,
        )


def _apply_results(record: dict[str, Any], results: Mapping[str, Any]) -> None:
    if results.get("abstract_summary") and not record.get("abstract_summary"):
        record["abstract_summary"] = results["abstract_summary"]
    relationships = record.setdefault("relationships", {})
    for key in ("action_items", "insights", "outlines"):
        if results.get(key) and not relationships.get(key):
            relationships[key] = copy.deepcopy(results[key])


def _generated_results(record: Mapping[str, Any]) -> dict[str, Any]:
    title = record.get("title") or "the conversation"
    return {
        "abstract_summary": f"{title}: the participants reviewed progress and agreed next steps.",
        "action_items": [],
        "insights": [{"topic": "Decisions", "text": [f"Next steps for {title} were agreed."]}],
        "outlines": [{"section": "Discussion", "text": [f"Overview of {title}."]}],
    }


def _order_key(record: Mapping[str, Any]) -> tuple[str, str]:
    return (str(record.get("created_at") or ""), str(record["id"]))


def _encode_cursor(record: Mapping[str, Any]) -> str:
    created, conversation_id = _order_key(record)
    return base64.urlsafe_b64encode(f"{created}|{conversation_id}".encode()).decode().rstrip("=")


def _decode_cursor(value: str | None) -> tuple[str, str] | None:
    # The reference's own example sends `cursor=` empty: that means the first page.
    if not value:
        return None
    try:
        text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise ValueError("invalid cursor") from None
    created, sep, conversation_id = text.partition("|")
    if not sep or not conversation_id:
        raise ValueError("invalid cursor")
    return created, conversation_id


def _int_param(value: str | None, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError("limit must be an integer") from None


def _bool_param(value: str | None) -> bool:
    if value is None or value == "":
        return False
    lowered = value.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise ValueError("include_shared must be true or false")


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _delivery_row(delivery: Delivery) -> dict[str, Any]:
    # Status 0: no answer (the sandbox page says so).
    return {"url": delivery.url, "status": delivery.status or 0, "bytes": len(delivery.body)}


_WORDS = (
    "roadmap", "customer", "latency", "rollout", "budget", "review", "migration", "onboarding",
    "security", "pricing", "dashboard", "release", "feedback", "incident", "metrics", "hiring",
    "contract", "workflow", "integration", "backlog", "quarter", "deadline", "prototype",
    "experiment", "retention", "churn", "pipeline", "forecast", "partner", "audit",
)  # fmt: skip


def _sentence(rng: random.Random, words: int) -> str:
    body = " ".join(rng.choice(_WORDS) for _ in range(words))
    return body[0].upper() + body[1:] + "."


def huge_conversation(
    action_items: int = 120,
    outline_sections: int = 40,
    transcript_bytes: int = 200_000,
    *,
    conversation_id: str = "hugeConv0StressTest00001",
    created_at: datetime | None = None,
) -> dict[str, Any]:
    """A finished conversation far beyond Slack's limits, in API shape, for stress tests.

    Deterministic for given arguments; store it with ``OtterStandIn.add_record``.
    """
    rng = random.Random(f"{action_items}/{outline_sections}/{transcript_bytes}")
    at = created_at or datetime(2025, 10, 6, 9, 0, tzinfo=UTC)
    emails = list(PEOPLE)
    items = [
        action_item(
            f"{conversation_id}-ai{n}",
            f"#{n}: {_sentence(rng, 12)}",
            emails[n % len(emails)],
            completed=n % 7 == 0,
            at=at,
        )
        for n in range(1, action_items + 1)
    ]
    outline = [
        {
            "section": f"Section {n}: {_sentence(rng, 4)}",
            "text": [_sentence(rng, 25) for _ in range(3)],
        }
        for n in range(1, outline_sections + 1)
    ]
    insights = [
        {"topic": f"Topic {n}", "text": [_sentence(rng, 20) for _ in range(2)]}
        for n in range(1, 11)
    ]
    speakers = [str(PEOPLE[e]["name"]) for e in emails]
    turns: list[tuple[str, str]] = []
    size = 0
    while size < transcript_bytes:
        words = _sentence(rng, 40)
        turns.append((speakers[len(turns) % len(speakers)], words))
        size += len(words) + 20
    return {
        "id": conversation_id,
        "title": "All-hands planning marathon",
        "url": f"https://otter.ai/u/{conversation_id}",
        "owner": copy.deepcopy(ADA),
        "created_at": iso(at),
        "process_status": dict(FINISHED),
        "calendar_guests": [{"name": PEOPLE[e]["name"], "email": e} for e in emails],
        "shared_emails": [],
        "shared_channels": [],
        "abstract_summary": " ".join(_sentence(rng, 30) for _ in range(12)),
        "conf_join_url": "https://zoom.us/j/9990001112",
        "relationships": {
            "action_items": items,
            "insights": insights,
            "outlines": outline,
            "transcript": {"content": transcript_text(turns), "format": "txt"},
            "custom_prompt": None,
        },
    }


def script(text: str) -> tuple[tuple[str, str], ...]:
    """``(speaker, words)`` turns from "Speaker: words" lines; indented lines continue a turn."""
    turns: list[list[str]] = []
    for line in text.strip("\n").splitlines():
        if line[:1].isspace() and turns:
            turns[-1][1] += " " + line.strip()
        elif line.strip():
            speaker, _, words = line.partition(":")
            turns.append([speaker.strip(), words.strip()])
    return tuple((speaker, words) for speaker, words in turns)


PRODUCT_SYNC_TURNS = script("""
Ada Lovelace: Morning everyone. Three things today: the digest redesign, the reminder bug,
  and the queue benchmark.
Grace Hopper: Sounds good. I can start with the reminder bug since it blocks the release.
Ada Lovelace: Go ahead.
Grace Hopper: Reminders are firing at the wrong hour for anyone outside UTC. The scheduler uses
  the server's clock, not the user's time zone.
Alan Turing: Do we have the user's time zone at all? Slack gives it to us in users.info.
Grace Hopper: We do, we just never stored it. The fix is to store it when we first see the user
  and schedule per user.
Ada Lovelace: How long will that take?
Grace Hopper: Two days including tests. I'd like it in before Thursday.
Ada Lovelace: Let's make that an action item for you, Grace. Before Thursday's release.
Grace Hopper: Noted.
Ada Lovelace: Next, the digest redesign. The pilot team has been using it for a week.
Ada Lovelace: Summary goes first in the parent message, action items go into the thread, and
  each item gets an assign button and a done button.
Alan Turing: What did the pilot team say?
Ada Lovelace: Mostly positive. They asked for the assignee to be told by DM, which we already
  do, and for the outline to be collapsible.
Grace Hopper: Collapsible isn't something Block Kit does. We could put the outline in the
  thread instead.
Ada Lovelace: That's the plan. I'll write up the rollout plan and share it in #product.
Alan Turing: Are we keeping the old format around?
Ada Lovelace: For two weeks, behind the flag, as a fallback.
Ada Lovelace: Alan, the queue benchmark?
Alan Turing: I have numbers on SQLite but not on PostgreSQL yet. The claim query uses SKIP
  LOCKED, so it should scale with workers.
Alan Turing: I want to run fifty concurrent workers against a real PostgreSQL and see where
  throughput flattens.
Grace Hopper: Fifty is more than we run today, right?
Alan Turing: Yes, but the larger workspaces will need it. Better to find the ceiling now.
Ada Lovelace: Agreed. Benchmark before we turn it on for the big workspaces. That's yours, Alan.
Alan Turing: I'll have numbers by Wednesday.
Ada Lovelace: Last thing: I updated the onboarding guide with the new slash commands, so that
  one is done.
Grace Hopper: Does it cover the summary command with Otter links?
Ada Lovelace: It does, links and bare ids both.
Ada Lovelace: So: release Thursday behind the flag, Grace fixes reminders first, Alan
  benchmarks the queue, and I share the rollout plan.
Alan Turing: Sounds right.
Grace Hopper: Thanks, all.
""")

ACME_TURNS = script("""
Grace Hopper: Thanks everyone for joining today. I'd love to understand how your team handles
  customer calls.
Alex Taylor: Right now we take notes manually, and we often lose track of follow-ups after the
  meeting.
Grace Hopper: That makes sense. How many calls does the team have in a typical week?
Alex Taylor: About two hundred across sales and support, mostly on Zoom, some on Teams.
Grace Hopper: Debrief would send a notetaker to each one. Summaries and action items land in
  Slack automatically, in the channel of the account.
Alex Taylor: That would help a lot with onboarding new reps. They could read the last calls
  with a customer before their first meeting.
Grace Hopper: Exactly. And each action item can be assigned from Slack, so follow-ups have an
  owner and a due date instead of living in someone's notebook.
Alex Taylor: What about pricing? Finance will ask whether it is per seat or a flat rate.
Grace Hopper: Both are possible. Per seat is simpler to start with; a flat rate can make sense
  once the whole company uses it.
Alex Taylor: We have a preliminary budget, and per seat is fine for the evaluation. A flat rate
  might be easier to get approved later.
Grace Hopper: Then let's plan the evaluation for this month and a go-live at the start of next
  quarter, starting with the sales team.
Alex Taylor: That timeline works for us.
Grace Hopper: I'll send a follow-up with pricing options and a proposed rollout timeline.
Alex Taylor: Great. Our security team will send a questionnaire as well.
Grace Hopper: Perfect, I'll make sure it gets answered quickly.
""")

# Long enough to be the meeting its summary describes: a few minutes, not a few seconds.
DESIGN_REVIEW_TURNS = script("""
Ada Lovelace: Let's look at the digest layout mock-ups. I shared three versions in the channel
  this morning; the question is what goes in the parent message and what goes in the thread.
Grace Hopper: I like the second one. The parent message has the title, when, how long, who was
  there and the summary, and nothing else competes with it.
Alan Turing: Where do the action items go in that version?
Ada Lovelace: Right under the summary, each with its assign menu, a done button and a due date.
  People told us that is the part they actually act on, so it should not hide in the thread.
Grace Hopper: Agreed. Insights, the outline and the transcript link can go in the thread then.
Alan Turing: What happens with a long meeting? A two-hour planning session can have thirty
  action items and an outline with twenty sections.
Ada Lovelace: That is the part I have not solved. Slack stops at fifty blocks per message.
Alan Turing: Then we need an overflow plan. We could keep the first ten items in the parent and
  put the rest in a second reply, with a line saying how many more there are.
Grace Hopper: As long as the assign buttons work the same way in the reply, that's fine.
Ada Lovelace: Alan, can you prototype that? Digests longer than fifty blocks, split cleanly.
Alan Turing: Yes, I'll take it. I'll try it with the longest meeting from the pilot.
Grace Hopper: One more thing: the status badges need more contrast in dark mode. The grey on
  dark grey for meeting over is hard to read.
Ada Lovelace: Good catch. Can you review the colours of all the badges?
Grace Hopper: Sure, I'll check them against the contrast guidelines and propose new ones.
Alan Turing: Should the thread replies be one per section, or one reply with everything?
Ada Lovelace: One per section. It makes it easy to link to the outline or the insights alone.
Grace Hopper: Then the parent should say what is in the thread, so people know to open it.
Ada Lovelace: Yes, a line at the bottom: outline, insights and more in the thread.
Alan Turing: Works for me.
Ada Lovelace: So we go with the second layout, Alan prototypes the overflow, Grace reviews the
  badge colours. Thanks both.
""")


class OtterPlugin(StandInPlugin[OtterStandIn]):
    """Otter's stand-in in a World: a generated API key, and the webhook an Otter admin would
    set up, HMAC-signed, once the app listens (none when the app has no webhook secret: a plan
    without webhooks, where Debrief polls)."""

    title = "Otter.ai"
    state_path = "otter/conversations"

    def __init__(self, server: OtterStandIn) -> None:
        super().__init__(server)
        self.webhook_secret = secrets.token_hex(16)

    @classmethod
    def create(cls, setup: Setup, **options: Any) -> OtterPlugin:
        api_key = "sandbox-otter-" + secrets.token_hex(8)
        return cls(OtterStandIn(api_key=api_key, lock=setup.lock, **options))

    def settings(self) -> dict[str, Any]:
        return {
            "otter_api_key": self.server.api_key,
            "otter_api_url": self.server.api_url,
            "otter_webhook_secret": self.webhook_secret,
        }

    async def connect(self, app: RunningApp) -> None:
        secret = app.settings.secret("otter_webhook_secret")
        if secret:
            # An Otter admin would pick one scheme; HMAC is the one that proves the body.
            self.server.configure_webhook(f"{app.url}/webhooks/otter", hmac_secret=secret)
        else:
            self.server.webhook = None
