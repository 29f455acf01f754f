"""A local stand-in for Attendee: its bot API, its bots' lives and its signed webhooks.

It answers like the real server does (recorded in ``tests/payloads/attendee``): the same JSON
shapes, validation messages, 400s for impossible state changes, cursor paging, and webhook
deliveries that are signed, retried and sent with Python's default ``json.dumps`` separators and
Postgres ``jsonb`` key order. Bots move through their states when told to (Python methods, or the
``/_sandbox/attendee/...`` control endpoints), or by themselves with ``auto_join=True``; with
``waiting_room_timeout`` they wait in the meeting's waiting room until someone admits them (or
turns them away), as a real host does.

Its calendar API (calendars, their events, syncs and the bots made from events) is
:class:`~sandbox.attendee_calendars.CalendarStandIn`, mounted as ``AttendeeStandIn.calendars``.

Known differences from Attendee: no chat, media output or bot PATCH; no POST throttling
(use :meth:`StandIn.fail` with status 429); the recording URL points at the stand-in itself.
Ending a meeting goes ``joined_recording → post_processing`` (``meeting_ended``) as recorded
from a real server, not through ``leaving``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import logging
import re
import secrets
import string
import uuid
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from aiohttp import web

from handlers.calendar.consent import CALLBACK_PATH as CALENDAR_CALLBACK
from providers.attendee.models import (
    IN_MEETING_STATES,
    LEAVABLE_STATES,
    TERMINAL_STATES,
    BotEventType,
    BotState,
    WebhookTrigger,
)
from providers.attendee.webhooks import SIGNATURE_HEADER, sign
from sandbox.delivery import Deliveries, Delivery
from sandbox.lock import SandboxLock
from sandbox.oauth import OAuthStandIn
from sandbox.plugin import PromptCommand, RunningApp, Setup, StandInPlugin
from sandbox.server import StandIn

if TYPE_CHECKING:
    from sandbox.attendee_calendars import CalendarStandIn

log = logging.getLogger(__name__)

DEFAULT_API_KEY = "sandbox-attendee-key"
DEFAULT_TRIGGERS = (
    WebhookTrigger.BOT_STATE_CHANGE,
    WebhookTrigger.TRANSCRIPT_UPDATE,
    WebhookTrigger.PARTICIPANT_JOIN_LEAVE,
    WebhookTrigger.CALENDAR_EVENTS_UPDATE,
    WebhookTrigger.CALENDAR_STATE_CHANGE,
)
Clock = Callable[[], datetime]

# Field order matters: Attendee (DRF) reports field errors in declaration order.
_CREATE_FIELDS = (
    "meeting_url",
    "bot_name",
    "bot_image",
    "metadata",
    "bot_chat_message",
    "join_at",
    "calendar_event_id",
    "deduplication_key",
    "webhooks",
    "callback_settings",
    "external_media_storage_settings",
    "voice_agent_settings",
    "transcription_settings",
    "websocket_settings",
    "rtmp_settings",
    "recording_settings",
    "google_meet_settings",
    "teams_settings",
    "zoom_settings",
    "debug_settings",
    "automatic_leave_settings",
    "kubernetes_settings",
)
_OBJECT_FIELDS = _CREATE_FIELDS[9:]
_REQUIRED = "This field is required."
_DEDUPLICATION_IN_USE = (
    "Deduplication key already in use. A bot in a non-terminal state with this deduplication "
    "key already exists. Please use a different deduplication key or wait for that bot to "
    "terminate."
)
# Attendee's own order, as its 400 for a refused leave lists them.
_LEAVE_ALLOWED = (
    "joined_recording_paused, joined_recording, joined_not_recording, "
    "joined_recording_permission_denied, waiting_room, joining, joining_breakout_room, "
    "leaving_breakout_room"
)
_ZOOM = re.compile(r"^https://([\w-]+\.)*(zoom\.us|zoomgov\.com)/(j|wc|s|my|w)/\S+", re.I)
_MEET = re.compile(r"^https://meet\.google\.com/[a-z]{3}-[a-z]{4}-[a-z]{3}(\?\S*)?$")
_TEAMS = re.compile(r"^https://teams\.(microsoft\.com|live\.com|microsoft\.us)/\S+", re.I)
_DATETIME_FORMAT_ERROR = (
    "Datetime has wrong format. Use one of these formats instead: "
    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
)
# A few bytes that start like an MP4, so a browser shows something plausible.
_FAKE_MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 32

#: A realistic meeting for the sandbox: (speaker, words). About four minutes, four people.
SAMPLE_TRANSCRIPT: tuple[tuple[str, str], ...] = (
    (
        "Ada Lovelace",
        "Morning everyone. Let's keep this to fifteen minutes. Three things today: "
        "the Slack integration launch, the flaky webhook retries, and the customer pilot.",
    ),
    (
        "Grace Hopper",
        "Sounds good. On the launch, the slash command and the digest are done. "
        "The only open piece is the recording link, which still 404s when storage isn't set up.",
    ),
    ("Ada Lovelace", "Can we just say no recording available in that case instead of failing?"),
    ("Grace Hopper", "Yes, that's a small change. I'll do it today."),
    (
        "Alan Turing",
        "On retries: Attendee retries three times and sends the same idempotency key, "
        "so we should deduplicate on that key in the inbox. Right now we insert twice.",
    ),
    (
        "Katherine Johnson",
        "I saw that in the logs yesterday. Two digests for the same meeting in the design channel.",
    ),
    (
        "Alan Turing",
        "Exactly. I'll add a unique constraint on the provider event id and answer "
        "two hundred for duplicates.",
    ),
    ("Ada Lovelace", "Great. Also deliveries arrive out of order sometimes, right?"),
    (
        "Alan Turing",
        "They do. We compare the created at timestamp and never let an older state "
        "overwrite a newer one.",
    ),
    (
        "Katherine Johnson",
        "For the pilot, Northwind wants to start on the first of next month. "
        "They need the bot to join their Teams calls and post to a private channel.",
    ),
    ("Ada Lovelace", "Is Teams supported end to end?"),
    (
        "Katherine Johnson",
        "Joining works. I haven't tested the digest with a private channel yet. "
        "I'll run the whole flow against their staging workspace by Thursday.",
    ),
    (
        "Grace Hopper",
        "Remember the bot has to be invited to the private channel first, or the "
        "post fails with not in channel.",
    ),
    ("Katherine Johnson", "Good point. I'll put that in the onboarding checklist."),
    ("Ada Lovelace", "What about the rate limits? Northwind has about forty meetings a day."),
    (
        "Alan Turing",
        "That's nowhere near the limit. Only bot creation is throttled, three "
        "thousand a minute on a self-hosted server.",
    ),
    (
        "Grace Hopper",
        "Slack is the tighter one. One message per second per channel, so the "
        "digest job should pace itself if several meetings end together.",
    ),
    (
        "Katherine Johnson",
        "One more thing on the pilot. Their security team asked where transcripts are stored "
        "and for how long.",
    ),
    (
        "Grace Hopper",
        "Everything stays in their own database. We keep digests, not audio, and the retention "
        "job purges transcripts after ninety days by default.",
    ),
    (
        "Alan Turing",
        "And the webhook secrets are encrypted at rest, so a database dump alone doesn't let "
        "anyone forge deliveries.",
    ),
    (
        "Katherine Johnson",
        "Great, I'll put that in a short security note for them. Can someone review it before "
        "it goes out?",
    ),
    ("Grace Hopper", "Send it to me, I'll review it on Wednesday afternoon."),
    (
        "Ada Lovelace",
        "Let's also agree who is on call during the pilot's first week. I can take the first "
        "three days.",
    ),
    ("Alan Turing", "I'll take Thursday and Friday then."),
    (
        "Ada Lovelace",
        "Okay. So decision: we launch on Friday with the recording fallback and "
        "the duplicate fix. The pilot starts on the first if Thursday's test passes.",
    ),
    ("Alan Turing", "Agreed. I'll have the dedup change reviewed by Wednesday."),
    ("Grace Hopper", "I'll also update the docs page about storage for recordings."),
    (
        "Katherine Johnson",
        "And I'll send Northwind the install link and the checklist tomorrow morning.",
    ),
    ("Ada Lovelace", "Perfect. Anything else? No? Then thanks everyone, see you Friday."),
)


def _jsonb(value: Any) -> Any:
    """``value`` with keys in Postgres ``jsonb`` order (shorter first), as Attendee sends them."""
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (len(k.encode()), k.encode()))
        return {k: _jsonb(value[k]) for k in keys}
    if isinstance(value, list):
        return [_jsonb(v) for v in value]
    return value


def _rest_time(moment: datetime) -> str:
    """Django REST framework's datetime format: ISO 8601 in UTC with ``Z``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_datetime(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "speaker"


def is_meeting_url(url: str) -> bool:
    """Whether Attendee would accept ``url``: a Zoom, Google Meet or Teams meeting link."""
    return bool(_ZOOM.match(url) or _MEET.match(url) or _TEAMS.match(url))


@dataclass
class _Subscription:
    url: str
    triggers: frozenset[str]


@dataclass
class _Utterance:
    data: dict[str, Any]
    updated_at: datetime


@dataclass
class _Bot:
    id: str
    seq: int
    name: str
    meeting_url: str
    metadata: dict[str, Any] | None
    join_at: datetime | None
    deduplication_key: str | None
    created_at: datetime
    state: str
    webhooks: list[_Subscription] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    utterances: list[_Utterance] = field(default_factory=list)
    participants: dict[str, dict[str, Any]] = field(default_factory=dict)
    transcription_state: str = "not_started"
    recording_state: str = "not_started"
    joined_at: datetime | None = None
    recorded: bool = False
    has_recording: bool = False
    #: The calendar event it was made from (Attendee moves or deletes it with the event);
    #: not part of the bot's answer, as in Attendee.
    calendar_event_id: str | None = None

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "metadata": self.metadata,
            "meeting_url": self.meeting_url,
            "state": self.state,
            "events": [dict(e) for e in self.events],
            "transcription_state": self.transcription_state,
            "recording_state": self.recording_state,
            "join_at": _rest_time(self.join_at) if self.join_at else None,
            "deduplication_key": self.deduplication_key,
        }

    def transcript(self, updated_after: datetime | None = None) -> list[dict[str, Any]]:
        lines = [
            u
            for u in self.utterances
            if (u.data.get("transcription") or {}).get("transcript")
            and (updated_after is None or u.updated_at > updated_after)
        ]
        lines.sort(key=lambda u: u.data["timestamp_ms"])
        return [
            {
                "speaker_name": u.data["speaker_name"],
                "speaker_uuid": u.data["speaker_uuid"],
                "speaker_user_uuid": u.data["speaker_user_uuid"],
                "speaker_is_host": u.data["speaker_is_host"],
                "timestamp_ms": u.data["timestamp_ms"],
                "duration_ms": u.data["duration_ms"],
                "transcription": u.data["transcription"],
            }
            for u in lines
        ]


def _error(message: str, status: int = 400) -> web.Response:
    return web.json_response({"error": message}, status=status)


class AttendeeStandIn(StandIn):
    """A fake Attendee server on loopback; drive its bots with the methods below.

    Args:
        api_key: the key clients must send as ``Authorization: Token <key>``.
        webhook_secret: the project's webhook secret (base64); generated when omitted.
        page_size: bots per page of ``GET /bots`` (Attendee: 25).
        auto_join: created bots join by themselves after ``auto_join_delay`` seconds (scheduled
            ones at their ``join_at``); a meeting URL containing ``404`` fails to join instead.
            Bots let in by :meth:`join` then live on as these do (transcript, end).
        waiting_room_timeout: with ``auto_join``, bots go to the waiting room instead of joining
            and stay there until :meth:`join` admits them or :meth:`fail_to_join` turns them
            away; after this many seconds they give up with ``waiting_room_timeout_exceeded``
            (Attendee's ``automatic_leave_settings.waiting_room_timeout_seconds``, 900 by
            default). None: no waiting room, they join at once.
        auto_transcript: bots that join by themselves then "hear" :data:`SAMPLE_TRANSCRIPT`,
            one line every ``utterance_interval`` seconds.
        auto_end_after: seconds after joining by themselves at which meetings end; never if None.
        recordings: whether bots that recorded have a recording file once ended.
        step_delay: seconds between the automatic steps after a leave or a meeting end.
        webhook_attempts: delivery attempts per webhook (Attendee: 3); only 2xx counts.
        webhook_backoff: seconds before the first retry, doubling after each.
        webhook_timeout: seconds a delivery may take (Attendee: 10).
        recording_url_ttl: seconds a recording URL stays valid (Attendee: 30 minutes).
        allow_http_bot_webhooks: accept ``http://`` bot-level webhooks (Attendee never does;
            tests need it to receive them on loopback).
        clock: the current time, timezone-aware; for tests.
        calendar_sync_delay: seconds between a calendar's POST/PATCH and the sync it starts.
        lock: the sandbox lock (shared by a World's stand-ins); a fresh token by default.
    """

    name = "attendee"
    outbox: Deliveries

    def __init__(
        self,
        *,
        api_key: str = DEFAULT_API_KEY,
        webhook_secret: str | None = None,
        page_size: int = 25,
        auto_join: bool = False,
        auto_join_delay: float = 0.5,
        waiting_room_timeout: float | None = None,
        auto_transcript: bool = False,
        utterance_interval: float = 0.0,
        auto_end_after: float | None = None,
        recordings: bool = False,
        step_delay: float = 0.2,
        webhook_attempts: int = 3,
        webhook_backoff: float = 1.0,
        webhook_timeout: float = 10.0,
        recording_url_ttl: float = 1800.0,
        allow_http_bot_webhooks: bool = False,
        clock: Clock | None = None,
        calendar_sync_delay: float = 0.0,
        lock: SandboxLock | None = None,
    ) -> None:
        self.api_key = api_key
        self.webhook_secret = webhook_secret or base64.b64encode(secrets.token_bytes(32)).decode()
        self.page_size = page_size
        self.auto_join = auto_join
        self.auto_join_delay = auto_join_delay
        self.waiting_room_timeout = waiting_room_timeout
        self.auto_transcript = auto_transcript
        self.utterance_interval = utterance_interval
        self.auto_end_after = auto_end_after
        self.recordings = recordings
        self.step_delay = step_delay
        self.recording_url_ttl = recording_url_ttl
        self.allow_http_bot_webhooks = allow_http_bot_webhooks
        self._clock: Clock = clock or (lambda: datetime.now(UTC))
        self.bots: dict[str, _Bot] = {}
        self.project_webhooks: list[_Subscription] = []
        # Attendee retries anything but a 2xx on the side: later deliveries overtake a retry.
        self.outbox = Deliveries(
            "attendee",
            attempts=webhook_attempts,
            backoff=webhook_backoff,
            timeout=webhook_timeout,
            retry_client_errors=True,
            in_order=False,
        )
        self._seq = 0
        self._media_key = secrets.token_bytes(16)
        self._idle = asyncio.Event()
        self._idle.set()
        self._tasks: set[asyncio.Task[Any]] = set()
        # Set when a bot's state changes: what a bot waiting for a person's decision waits on.
        self._moves: dict[str, asyncio.Event] = {}
        # Imported here: the calendar module builds on this one's helpers.
        from sandbox.attendee_calendars import CalendarStandIn

        self.calendars: CalendarStandIn = CalendarStandIn(self, sync_delay=calendar_sync_delay)
        super().__init__(lock=lock)

    # --- life cycle -------------------------------------------------------------------------

    @property
    def deliveries(self) -> list[Delivery]:
        """Every delivery attempt, in the order made (a copy of the delivery after each)."""
        return self.outbox.log

    async def stop(self) -> None:
        """Stop serving; pending deliveries and scheduled bot steps are cancelled, not sent."""
        pending = list(self._tasks)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        self._tasks.clear()
        self._update_idle()
        await super().stop()

    async def __aenter__(self) -> AttendeeStandIn:
        await self.start()
        return self

    async def settle(self, within: float = 5.0) -> None:
        """Wait until every queued delivery, retry and automatic bot step has finished."""
        async with asyncio.timeout(within):
            while True:
                await self._idle.wait()
                await self.outbox.settle()
                if self._idle.is_set() and self.outbox.idle:
                    return

    def _update_idle(self) -> None:
        if self._tasks:
            self._idle.clear()
        else:
            self._idle.set()

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        self._update_idle()
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        self._update_idle()
        if not task.cancelled() and task.exception() is not None:
            log.error(
                "attendee stand-in task %s failed", task.get_name(), exc_info=task.exception()
            )

    # --- project set-up ---------------------------------------------------------------------

    def configure_webhook(
        self,
        url: str,
        secret_b64: str | None = None,
        triggers: Iterable[str] = DEFAULT_TRIGGERS,
    ) -> str:
        """Add (or replace) a project-level webhook; returns the project's secret (base64)."""
        if secret_b64:
            self.webhook_secret = secret_b64
        self.project_webhooks = [s for s in self.project_webhooks if s.url != url]
        self.project_webhooks.append(_Subscription(url, frozenset(str(t) for t in triggers)))
        return self.webhook_secret

    def hold_webhooks(self) -> None:
        """Keep deliveries back until :meth:`release_webhooks` (to reorder them)."""
        self.outbox.hold()

    def release_webhooks(self, order: str = "fifo", *, seed: int | None = None) -> int:
        """Send held deliveries in ``order``: ``fifo``, ``reversed`` or ``shuffled``."""
        return self.outbox.release(order, seed=seed)

    def duplicate_next_webhooks(self, count: int = 1) -> None:
        """Send each of the next ``count`` deliveries twice, with the same idempotency key."""
        self.outbox.duplicate(count)

    def delivered(self, trigger: str | None = None) -> list[dict[str, Any]]:
        """Envelopes of the deliveries answered 2xx, in the order they were accepted."""
        return [
            d.json
            for d in self.deliveries
            if d.ok and (trigger is None or d.meta["trigger"] == trigger)
        ]

    # --- driving bots -----------------------------------------------------------------------

    def bot(self, bot_id: str) -> dict[str, Any]:
        """A bot as ``GET /bots/{id}`` shows it."""
        return self._get(bot_id).to_api()

    def advance(
        self,
        bot_id: str,
        new_state: str,
        event_type: str,
        sub_type: str | None = None,
        event_metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Record an event that moves the bot to ``new_state`` and send ``bot.state_change``."""
        bot = self._get(bot_id)
        now = self._clock()
        old_state = bot.state
        event: dict[str, Any] = {"type": event_type, "created_at": _rest_time(now)}
        if sub_type:
            event["sub_type"] = sub_type
        bot.events.append(event)
        bot.state = new_state
        moved = self._moves.pop(bot_id, None)
        if moved is not None:
            moved.set()
        if new_state == BotState.JOINED_RECORDING and not bot.recorded:
            bot.recorded = True
            bot.transcription_state = bot.recording_state = "in_progress"
        if new_state in IN_MEETING_STATES and bot.joined_at is None:
            bot.joined_at = now
        if new_state == BotState.ENDED and bot.recorded:
            bot.transcription_state = bot.recording_state = "complete"
            bot.has_recording = bot.has_recording or self.recordings
        if new_state == BotState.FATAL_ERROR and bot.recorded:
            bot.transcription_state = bot.recording_state = "failed"
        if event_metadata is None:
            event_metadata = self._event_metadata(bot, event_type, now)
        self._emit(
            bot,
            WebhookTrigger.BOT_STATE_CHANGE,
            {
                "new_state": new_state,
                "old_state": old_state,
                "created_at": now.isoformat(),
                "event_type": event_type,
                "event_metadata": event_metadata,
                "event_sub_type": sub_type,
            },
        )
        return bot.to_api()

    def join(self, bot_id: str) -> dict[str, Any]:
        """Let the bot in: ``joining`` → ``joined_not_recording`` → ``joined_recording``."""
        bot = self._get(bot_id)
        if bot.state in (BotState.SCHEDULED, BotState.STAGED, BotState.READY):
            self.advance(bot_id, BotState.JOINING, BotEventType.JOIN_REQUESTED)
        if bot.state not in (BotState.JOINING, BotState.WAITING_ROOM):
            raise ValueError(f"bot {bot_id} is {bot.state}; it can only join from joining")
        self.advance(bot_id, BotState.JOINED_NOT_RECORDING, BotEventType.JOINED_MEETING)
        joined = self.advance(
            bot_id, BotState.JOINED_RECORDING, BotEventType.RECORDING_PERMISSION_GRANTED
        )
        if self.auto_join:
            # However it got in (by itself, or admitted by a person), it hears the meeting.
            self._spawn(self._in_meeting(bot_id), f"attendee-meeting-{bot_id}")
        return joined

    def waiting_room(self, bot_id: str) -> dict[str, Any]:
        """Put a joining bot in the meeting's waiting room."""
        self._require(bot_id, {BotState.JOINING}, "be put in the waiting room")
        return self.advance(bot_id, BotState.WAITING_ROOM, BotEventType.PUT_IN_WAITING_ROOM)

    def fail_to_join(self, bot_id: str, sub_type: str = "meeting_not_found") -> dict[str, Any]:
        """The bot gives up joining: ``fatal_error`` with ``could_not_join_meeting``."""
        self._require(bot_id, {BotState.JOINING, BotState.WAITING_ROOM}, "fail to join")
        return self.advance(
            bot_id, BotState.FATAL_ERROR, BotEventType.COULD_NOT_JOIN_MEETING, sub_type
        )

    def end_meeting(self, bot_id: str) -> dict[str, Any]:
        """The meeting ends: ``post_processing`` now, ``ended`` after ``step_delay``."""
        self._require(bot_id, IN_MEETING_STATES, "see the meeting end")
        bot = self.advance(bot_id, BotState.POST_PROCESSING, BotEventType.MEETING_ENDED)
        self._spawn(self._finish_processing(bot_id), f"attendee-process-{bot_id}")
        return bot

    def say(
        self,
        bot_id: str,
        speaker: str,
        text: str,
        *,
        is_host: bool | None = None,
        duration_ms: int | None = None,
    ) -> dict[str, Any]:
        """Someone speaks in the meeting: a transcript line and a ``transcript.update`` webhook."""
        bot = self._get(bot_id)
        if bot.state not in IN_MEETING_STATES:
            raise ValueError(f"bot {bot_id} is {bot.state}, not in the meeting")
        now = self._clock()
        # People take turns: a line starts when it is said, or once the line before it is over,
        # so that the talk time of everyone together never exceeds how long the meeting lasted.
        start = max(
            [_ms(now)] + [u.data["timestamp_ms"] + u.data["duration_ms"] for u in bot.utterances]
        )
        utterance = self._add_utterance(bot, speaker, text, start, is_host, duration_ms, now)
        self._emit(bot, WebhookTrigger.TRANSCRIPT_UPDATE, utterance.data)
        return dict(utterance.data)

    def seed_transcript(
        self,
        bot_id: str,
        lines: Sequence[tuple[str, str]] = SAMPLE_TRANSCRIPT,
        *,
        start: datetime | None = None,
    ) -> int:
        """Give the bot a transcript without webhooks (any state); returns the line count."""
        bot = self._get(bot_id)
        at = _ms(start or bot.joined_at or self._clock())
        now = self._clock()
        for speaker, text in lines:
            utterance = self._add_utterance(bot, speaker, text, at, None, None, now)
            at += utterance.data["duration_ms"] + 1200
        return len(lines)

    def set_recording(self, bot_id: str, available: bool = True) -> None:
        """Whether ``GET /bots/{id}/recording`` finds a file for this bot."""
        self._get(bot_id).has_recording = available

    # --- internals --------------------------------------------------------------------------

    def _get(self, bot_id: str) -> _Bot:
        try:
            return self.bots[bot_id]
        except KeyError:
            raise LookupError(f"no Attendee bot {bot_id}") from None

    def _require(self, bot_id: str, states: Iterable[str], action: str) -> _Bot:
        bot = self._get(bot_id)
        if bot.state not in set(states):
            raise ValueError(f"bot {bot_id} is {bot.state}; it cannot {action}")
        return bot

    def _event_metadata(self, bot: _Bot, event_type: str, now: datetime) -> dict[str, Any]:
        if event_type == BotEventType.JOIN_REQUESTED:
            return {"source": "scheduler" if bot.join_at else "api"}
        if event_type in (
            BotEventType.POST_PROCESSING_COMPLETED,
            BotEventType.COULD_NOT_JOIN_MEETING,
            BotEventType.FATAL_ERROR,
        ):
            start = bot.joined_at or now
            return {"bot_duration_seconds": max(0, int((now - start).total_seconds()))}
        return {}

    def _add_utterance(
        self,
        bot: _Bot,
        speaker: str,
        text: str,
        timestamp_ms: int,
        is_host: bool | None,
        duration_ms: int | None,
        now: datetime,
    ) -> _Utterance:
        participant = bot.participants.get(speaker)
        if participant is None:
            participant = {
                "uuid": f"sim-{_slug(speaker)}",
                "is_host": not bot.participants if is_host is None else is_host,
            }
            bot.participants[speaker] = participant
            if bot.state in IN_MEETING_STATES:
                self._emit(
                    bot,
                    WebhookTrigger.PARTICIPANT_JOIN_LEAVE,
                    {
                        "id": f"pe_{secrets.token_urlsafe(12)[:16]}",
                        "event_data": {},
                        "event_type": "join",
                        "timestamp_ms": timestamp_ms,
                        "participant_name": speaker,
                        "participant_uuid": participant["uuid"],
                        "participant_is_host": participant["is_host"],
                        "participant_user_uuid": None,
                    },
                )
        words = len(text.split())
        utterance = _Utterance(
            {
                "duration_ms": duration_ms if duration_ms is not None else 400 + 400 * words,
                "speaker_name": speaker,
                "speaker_uuid": participant["uuid"],
                "timestamp_ms": timestamp_ms,
                "transcription": {"transcript": text},
                "speaker_is_host": participant["is_host"],
                "speaker_user_uuid": None,
            },
            now,
        )
        bot.utterances.append(utterance)
        return utterance

    def _new_bot_id(self) -> str:
        alphabet = string.ascii_letters + string.digits
        while True:
            bot_id = "bot_" + "".join(secrets.choice(alphabet) for _ in range(16))
            if bot_id not in self.bots:
                return bot_id

    def _emit(self, bot: _Bot, trigger: str, data: dict[str, Any]) -> None:
        subscriptions = (
            bot.webhooks or self.project_webhooks
        )  # bot-level ones replace the project's
        for subscription in subscriptions:
            if trigger not in subscription.triggers:
                continue
            envelope = {
                "idempotency_key": str(uuid.uuid4()),
                "bot_id": bot.id,
                "bot_metadata": _jsonb(bot.metadata),
                "trigger": str(trigger),
                "data": _jsonb(data),
            }
            self.outbox.submit(
                subscription.url,
                json.dumps(envelope).encode(),
                {
                    "Content-Type": "application/json",
                    "User-Agent": "Attendee-Webhook/1.0",
                    SIGNATURE_HEADER: sign(envelope, self.webhook_secret),
                },
                meta={"trigger": str(trigger), "bot_id": bot.id},
            )

    async def _finish_processing(self, bot_id: str) -> None:
        await asyncio.sleep(self.step_delay)
        if self.bots.get(bot_id) and self.bots[bot_id].state == BotState.POST_PROCESSING:
            self.advance(bot_id, BotState.ENDED, BotEventType.POST_PROCESSING_COMPLETED)

    async def _finish_leaving(self, bot_id: str) -> None:
        await asyncio.sleep(self.step_delay)
        if self.bots.get(bot_id) and self.bots[bot_id].state == BotState.LEAVING:
            self.advance(bot_id, BotState.POST_PROCESSING, BotEventType.LEFT_MEETING)
            await self._finish_processing(bot_id)

    async def _live(self, bot_id: str) -> None:
        """What a bot does by itself with ``auto_join``: ask to join, then get in or wait."""
        bot = self._get(bot_id)
        if bot.join_at is not None:
            # A calendar bot's join_at moves with its event: wait until the current one.
            while (wait := (bot.join_at - self._clock()).total_seconds()) > 0:
                await asyncio.sleep(min(wait, 1.0))
                if bot.state != BotState.SCHEDULED or self.bots.get(bot_id) is not bot:
                    return
            if bot.state != BotState.SCHEDULED or self.bots.get(bot_id) is not bot:
                return
            self.advance(bot_id, BotState.JOINING, BotEventType.JOIN_REQUESTED)
        await asyncio.sleep(self.auto_join_delay)
        if bot.state != BotState.JOINING:
            return
        if "404" in urlsplit(bot.meeting_url).path:
            self.fail_to_join(bot_id, "meeting_not_found")
            return
        if self.waiting_room_timeout is None:
            self.join(bot_id)
            return
        self.waiting_room(bot_id)
        moved = self._moves.setdefault(bot_id, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.waiting_room_timeout):
                await moved.wait()
        if bot.state == BotState.WAITING_ROOM:
            self.fail_to_join(bot_id, "waiting_room_timeout_exceeded")

    async def _in_meeting(self, bot_id: str) -> None:
        """A bot in the meeting (``auto_join``): it hears the sample meeting, which may end."""
        bot = self._get(bot_id)
        if self.auto_transcript:
            for speaker, text in SAMPLE_TRANSCRIPT:
                if bot.state not in IN_MEETING_STATES:
                    return
                self.say(bot_id, speaker, text)
                await asyncio.sleep(self.utterance_interval)
        if self.auto_end_after is not None:
            await asyncio.sleep(self.auto_end_after)
            if bot.state in IN_MEETING_STATES:
                self.end_meeting(bot_id)

    # --- HTTP -------------------------------------------------------------------------------

    def setup_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/api/v1/bots", self._create)
        router.add_get("/api/v1/bots", self._list)
        router.add_get("/api/v1/bots/{bot_id}", self._retrieve)
        router.add_delete("/api/v1/bots/{bot_id}", self._delete)
        router.add_post("/api/v1/bots/{bot_id}/leave", self._leave)
        self.calendars.setup_routes(router)
        router.add_get("/api/v1/bots/{bot_id}/transcript", self._transcript)
        router.add_get("/api/v1/bots/{bot_id}/recording", self._recording)
        router.add_route("*", "/api/v1/{tail:.*}", self._not_found)
        router.add_get("/media/recordings/{bot_id}.mp4", self._media)
        router.add_get("/_sandbox/attendee", self._control_state)
        router.add_post("/_sandbox/attendee/webhook", self._control_webhook)
        router.add_post("/_sandbox/attendee/bots/{bot_id}/{action}", self._control_bot)

    def _unauthorised(self, request: web.Request) -> web.Response | None:
        header = request.headers.get("Authorization")
        if not header:
            return web.json_response({"detail": "Missing Authorization header"}, status=401)
        scheme, _, key = header.partition(" ")
        if scheme != "Token" or not hmac.compare_digest(key.strip(), self.api_key):
            return web.json_response({"detail": "Invalid API key"}, status=401)
        return None

    async def _authorised_bot(self, request: web.Request) -> _Bot | web.Response:
        refusal = self._unauthorised(request)
        if refusal is not None:
            return refusal
        bot = self.bots.get(request.match_info["bot_id"])
        return bot if bot is not None else _error("Bot not found", 404)

    async def _not_found(self, request: web.Request) -> web.Response:
        return _error("Not found", 404)

    async def json_body(self, request: web.Request) -> dict[str, Any] | web.Response:
        """An authorised request's JSON object, or Attendee's answer refusing it (401, or
        400 in Django REST framework's words), for every POST and PATCH of its API."""
        refusal = self._unauthorised(request)
        if refusal is not None:
            return refusal
        try:
            payload = json.loads(await request.read() or b"{}")
        except ValueError as exc:
            return web.json_response({"detail": f"JSON parse error - {exc}"}, status=400)
        if not isinstance(payload, dict):
            kind = type(payload).__name__
            return web.json_response(
                {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {kind}."]},
                status=400,
            )
        return payload

    async def _create(self, request: web.Request) -> web.Response:
        payload = await self.json_body(request)
        if isinstance(payload, web.Response):
            return payload
        event_id = None
        if payload.get("calendar_event_id"):
            # As Attendee does before validating: the event's link and start fill the bot's.
            found = self.calendars.bot_from_event(payload)
            if isinstance(found, web.Response):
                return found
            event_id = found
        errors = self._field_errors(payload)
        if errors:
            return web.json_response(errors, status=400)
        unexpected = sorted(set(payload) - set(_CREATE_FIELDS))
        if unexpected:
            message = (
                f"Unexpected field(s): {', '.join(unexpected)}. "
                f"Allowed fields are: {', '.join(sorted(_CREATE_FIELDS))}"
            )
            return web.json_response({"non_field_errors": [message]}, status=400)
        hooks = payload.get("webhooks") or []
        if len(hooks) > 2:
            return _error("You have reached the maximum number of webhooks for a single bot")
        if len({h["url"] for h in hooks}) < len(hooks):
            return _error("URL already subscribed for this bot")
        key = payload.get("deduplication_key")
        if key and any(
            b.deduplication_key == key and b.state not in TERMINAL_STATES
            for b in self.bots.values()
        ):
            return _error(_DEDUPLICATION_IN_USE)

        join_at = _parse_datetime(payload.get("join_at"))
        self._seq += 1
        bot = _Bot(
            id=self._new_bot_id(),
            seq=self._seq,
            name=payload["bot_name"],
            meeting_url=payload["meeting_url"],
            metadata=payload.get("metadata"),
            join_at=join_at,
            deduplication_key=key,
            created_at=self._clock(),
            state=BotState.SCHEDULED if join_at else BotState.READY,
            webhooks=[_Subscription(h["url"], frozenset(h["triggers"])) for h in hooks],
            calendar_event_id=event_id,
        )
        self.bots[bot.id] = bot
        if not join_at:
            self.advance(bot.id, BotState.JOINING, BotEventType.JOIN_REQUESTED)
        if self.auto_join:
            self._spawn(self._live(bot.id), f"attendee-bot-{bot.id}")
        return web.json_response(bot.to_api(), status=201)

    def _field_errors(self, payload: dict[str, Any]) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        for name in ("meeting_url", "bot_name"):
            value = payload.get(name)
            if name not in payload:
                errors[name] = [_REQUIRED]
            elif value is None:
                errors[name] = ["This field may not be null."]
            elif not isinstance(value, str):
                errors[name] = ["Not a valid string."]
            elif not value.strip():
                errors[name] = ["This field may not be blank."]
            elif name == "meeting_url" and not is_meeting_url(value):
                errors[name] = ["Invalid meeting URL"]
        image = payload.get("bot_image")
        if image is not None and not (
            isinstance(image, dict)
            and image.get("type") in ("image/png", "image/jpeg")
            and isinstance(image.get("data"), str)
        ):
            errors["bot_image"] = ["Invalid image content type"]
        metadata = payload.get("metadata")
        if metadata is not None:
            if not isinstance(metadata, dict):
                errors["metadata"] = ["Metadata must be an object not an array or other type"]
            elif not metadata:
                errors["metadata"] = ["Metadata must have at least one key"]
        chat = payload.get("bot_chat_message")
        if chat is not None and not (
            isinstance(chat, dict) and isinstance(chat.get("message"), str)
        ):
            errors["bot_chat_message"] = ["message: This field is required."]
        if payload.get("join_at") is not None:
            join_at = _parse_datetime(payload["join_at"])
            if join_at is None:
                errors["join_at"] = [_DATETIME_FORMAT_ERROR]
            elif join_at < self._clock():
                errors["join_at"] = ["join_at cannot be in the past"]
        key = payload.get("deduplication_key")
        if key is not None and not isinstance(key, str):
            errors["deduplication_key"] = ["Not a valid string."]
        hooks_error = self._webhooks_error(payload.get("webhooks"))
        if hooks_error:
            errors["webhooks"] = [hooks_error]
        for name in _OBJECT_FIELDS:
            value = payload.get(name)
            if value is not None and not isinstance(value, dict):
                errors[name] = [f"{json.dumps(value)} is not of type 'object'"]
        return {name: errors[name] for name in _CREATE_FIELDS if name in errors}

    def _webhooks_error(self, hooks: Any) -> str | None:
        if hooks is None:
            return None
        if not isinstance(hooks, list):
            return f"{json.dumps(hooks)} is not of type 'array'"
        known = sorted(str(t) for t in WebhookTrigger)
        for hook in hooks:
            if not isinstance(hook, dict):
                return f"{json.dumps(hook)} is not of type 'object'"
            for required in ("url", "triggers"):
                if required not in hook:
                    return f"'{required}' is a required property"
            extra = sorted(set(hook) - {"url", "triggers"})
            if extra:
                return f"Additional properties are not allowed ('{extra[0]}' was unexpected)"
            url, triggers = hook["url"], hook["triggers"]
            if not isinstance(url, str):
                return f"{json.dumps(url)} is not of type 'string'"
            allowed = url.startswith("https://") or (
                self.allow_http_bot_webhooks and url.startswith("http://")
            )
            if not allowed:
                return f"'{url}' does not match '^https://.*'"
            if not isinstance(triggers, list) or not triggers:
                return f"{json.dumps(triggers)} should be non-empty"
            for trigger in triggers:
                if trigger not in known:
                    return f"{json.dumps(trigger)} is not one of {known}"
        return None

    async def _list(self, request: web.Request) -> web.Response:
        refusal = self._unauthorised(request)
        if refusal is not None:
            return refusal
        query = request.query
        bots = sorted(self.bots.values(), key=lambda b: b.seq)
        if query.get("meeting_url"):
            bots = [b for b in bots if b.meeting_url == query["meeting_url"]]
        if query.get("deduplication_key"):
            bots = [b for b in bots if b.deduplication_key == query["deduplication_key"]]
        states = query.getall("states", [])
        valid = [str(s) for s in BotState]
        for state in states:
            if state not in valid:
                return _error(f"Invalid state: {state}. Valid states are: {', '.join(valid)}")
        if states:
            bots = [b for b in bots if b.state in states]
        for name, keep in (
            ("join_at_after", lambda at, limit: at > limit),
            ("join_at_before", lambda at, limit: at < limit),
        ):
            if query.get(name):
                limit = _parse_datetime(query[name])
                if limit is None:
                    return _error(
                        f"Invalid {name} format. Use ISO 8601 format (e.g., 2024-01-18T12:34:56Z)"
                    )
                bots = [b for b in bots if b.join_at is not None and keep(b.join_at, limit)]

        if not query.get("cursor"):
            page = bots[: self.page_size]
        else:
            try:
                reverse, seq = _decode_cursor(query["cursor"])
            except ValueError:
                return web.json_response({"detail": "Invalid cursor"}, status=404)
            if reverse:
                page = [b for b in bots if b.seq < seq][-self.page_size :]
            else:
                page = [b for b in bots if b.seq > seq][: self.page_size]
        later = bool(page) and any(b.seq > page[-1].seq for b in bots)
        earlier = bool(page) and any(b.seq < page[0].seq for b in bots)
        return web.json_response(
            {
                "next": self._page_url(request, _encode_cursor(False, page[-1].seq))
                if later
                else None,
                "previous": self._page_url(request, _encode_cursor(True, page[0].seq))
                if earlier
                else None,
                "results": [b.to_api() for b in page],
            }
        )

    def _page_url(self, request: web.Request, cursor: str) -> str:
        params = [(k, v) for k, v in request.query.items() if k != "cursor"]
        return f"{self.url}{request.path}?{urlencode([('cursor', cursor), *params])}"

    async def _retrieve(self, request: web.Request) -> web.Response:
        bot = await self._authorised_bot(request)
        if isinstance(bot, web.Response):
            return bot
        return web.json_response(bot.to_api())

    async def _delete(self, request: web.Request) -> web.Response:
        bot = await self._authorised_bot(request)
        if isinstance(bot, web.Response):
            return bot
        if bot.state != BotState.SCHEDULED:
            return _error(
                f"Bot is in state {bot.state} but can only be deleted when in scheduled state"
            )
        del self.bots[bot.id]
        return web.Response(status=200)

    async def _leave(self, request: web.Request) -> web.Response:
        bot = await self._authorised_bot(request)
        if isinstance(bot, web.Response):
            return bot
        if bot.state not in LEAVABLE_STATES:
            return _error(
                f"Event leave_requested not allowed when bot is in state {bot.state}. "
                f"It is only allowed in these states: {_LEAVE_ALLOWED}"
            )
        answer = self.advance(
            bot.id, BotState.LEAVING, BotEventType.LEAVE_REQUESTED, "user_requested"
        )
        self._spawn(self._finish_leaving(bot.id), f"attendee-leave-{bot.id}")
        return web.json_response(answer)

    async def _transcript(self, request: web.Request) -> web.Response:
        bot = await self._authorised_bot(request)
        if isinstance(bot, web.Response):
            return bot
        updated_after = None
        if request.query.get("updated_after"):
            updated_after = _parse_datetime(request.query["updated_after"])
            if updated_after is None:
                return _error(
                    "Invalid updated_after format. Use ISO 8601 format (e.g., 2024-01-18T12:34:56Z)"
                )
        return web.json_response(bot.transcript(updated_after))

    async def _recording(self, request: web.Request) -> web.Response:
        bot = await self._authorised_bot(request)
        if isinstance(bot, web.Response):
            return bot
        if not bot.has_recording:
            return _error("No recording file found for bot", 404)
        expires = int(self._clock().timestamp() + self.recording_url_ttl)
        signature = self._media_signature(bot.id, expires)
        return web.json_response(
            {
                "url": f"{self.url}/media/recordings/{bot.id}.mp4?"
                + urlencode({"expires": expires, "signature": signature}),
                "start_timestamp_ms": _ms(bot.joined_at or bot.created_at),
            }
        )

    def _media_signature(self, bot_id: str, expires: int) -> str:
        message = f"{bot_id}:{expires}".encode()
        return hmac.new(self._media_key, message, hashlib.sha256).hexdigest()

    async def _media(self, request: web.Request) -> web.Response:
        bot_id = request.match_info["bot_id"]
        try:
            expires = int(request.query.get("expires", ""))
        except ValueError:
            expires = 0
        signature = request.query.get("signature", "")
        if not hmac.compare_digest(signature, self._media_signature(bot_id, expires)):
            return web.Response(status=403, text="SignatureDoesNotMatch")
        if self._clock().timestamp() > expires:
            return web.Response(status=403, text="Request has expired")
        return web.Response(body=_FAKE_MP4, content_type="video/mp4")

    # --- control endpoints (for the sandbox's Providers panel) ------------------------------

    async def _control_state(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "webhook_secret": self.webhook_secret,
                "webhooks": [
                    {"url": s.url, "triggers": sorted(s.triggers)} for s in self.project_webhooks
                ],
                "calendars": self.calendars.control_state(),
                "bots": [
                    {**b.to_api(), "transcript_lines": len(b.utterances)}
                    for b in sorted(self.bots.values(), key=lambda b: b.seq)
                ],
                "deliveries": [
                    {
                        "url": d.url,
                        "trigger": d.meta["trigger"],
                        "bot_id": d.meta["bot_id"],
                        "attempt": d.attempts,
                        "status": d.status,
                        "error": d.error,
                    }
                    for d in self.deliveries[-100:]
                ],
            }
        )

    async def _control_webhook(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        if not isinstance(body.get("url"), str):
            return _error("url is required")
        secret = self.configure_webhook(
            body["url"], body.get("secret_b64"), body.get("triggers") or DEFAULT_TRIGGERS
        )
        return web.json_response({"secret_b64": secret})

    async def _control_bot(self, request: web.Request) -> web.Response:
        bot_id, action = request.match_info["bot_id"], request.match_info["action"]
        body = await _json_body(request)
        actions: dict[str, Callable[[], Any]] = {
            "join": lambda: self.join(bot_id),
            "waiting_room": lambda: self.waiting_room(bot_id),
            "fail_to_join": lambda: self.fail_to_join(
                bot_id, body.get("sub_type", "meeting_not_found")
            ),
            "end_meeting": lambda: self.end_meeting(bot_id),
            "say": lambda: self.say(bot_id, str(body["speaker"]), str(body["text"])),
            "advance": lambda: self.advance(
                bot_id, body["new_state"], body["event_type"], body.get("sub_type")
            ),
            "recording": lambda: self.set_recording(bot_id, bool(body.get("available", True))),
            "seed_transcript": lambda: self.seed_transcript(bot_id),
        }
        if action not in actions:
            return _error(f"unknown action {action}", 404)
        try:
            actions[action]()
        except LookupError:
            return _error("Bot not found", 404)
        except (KeyError, ValueError) as exc:
            return _error(str(exc))
        return web.json_response(self.bots[bot_id].to_api() if bot_id in self.bots else {})


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.read() or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _encode_cursor(reverse: bool, seq: int) -> str:
    raw = f"r=1&p={seq}" if reverse else f"p={seq}"
    return base64.b64encode(raw.encode()).decode()


def _decode_cursor(cursor: str) -> tuple[bool, int]:
    """``(reverse, position)`` from a cursor; ``ValueError`` when it is not one of ours."""
    try:
        raw = base64.b64decode(cursor, validate=True).decode()
        fields = dict(part.split("=", 1) for part in raw.split("&"))
        return fields.get("r") == "1", int(fields["p"])
    except (ValueError, KeyError, UnicodeDecodeError):
        raise ValueError("invalid cursor") from None


# --- in a World ---------------------------------------------------------------------------------

#: Bot states of a notetaker in the meeting, and of one still knocking.
IN_MEETING = frozenset({"joined_not_recording", "joined_recording", "joined_recording_paused"})
NOT_YET_IN = frozenset({"ready", "joining", "waiting_room"})


class AttendeePlugin(StandInPlugin[AttendeeStandIn]):
    """Attendee's stand-in in a World: a generated API key, the project webhook registered
    once the app listens, and the prompt's ``admit``/``end`` (the person trying the sandbox
    is the meeting's host)."""

    title = "Attendee"
    state_path = "attendee"
    lively: ClassVar[dict[str, Any]] = {
        # Notetakers ask to join by themselves, then wait in the meeting's waiting room until
        # the person trying the sandbox (the meeting's host) admits them or makes them fail to
        # join from the Providers panel, for as long as Attendee lets a bot wait. Once in, they
        # hear the sample meeting, as a real bot would.
        "auto_join": True,
        "auto_join_delay": 3.0,
        "waiting_room_timeout": 900.0,
        "auto_transcript": True,
        "utterance_interval": 2.0,
        "step_delay": 0.5,
        "recordings": True,
        "webhook_backoff": 0.5,
        # The calendar's DMs come within a minute of connecting one, not at 8 tomorrow.
        "calendar_tour": True,
    }
    #: Whose morning it is in the sandbox: Ada Lovelace's (the page's first person).
    TOUR_ZONE = "Europe/London"

    def __init__(
        self, server: AttendeeStandIn, oauth: OAuthStandIn, *, calendar_tour: bool = False
    ) -> None:
        super().__init__(server)
        #: Google's and Microsoft's OAuth, for connecting the calendars Attendee syncs.
        self.oauth = oauth
        self.calendar_tour = calendar_tour

    @classmethod
    def create(cls, setup: Setup, **options: Any) -> AttendeePlugin:
        api_key = "sandbox-attendee-" + secrets.token_hex(8)
        tour = bool(options.pop("calendar_tour", False))
        server = AttendeeStandIn(api_key=api_key, lock=setup.lock, **options)
        return cls(server, OAuthStandIn(lock=setup.lock), calendar_tour=tour)

    async def start(self, host: str) -> None:
        await self.server.start(host)
        await self.oauth.start(host)

    async def stop(self) -> None:
        await self.oauth.stop()
        await self.server.stop()

    def settings(self) -> dict[str, Any]:
        return {
            "attendee_api_key": self.server.api_key,
            "attendee_api_url": self.server.url,
            "attendee_webhook_secret": self.server.webhook_secret,
            **self.oauth.settings(),
            **(self._tour_settings() if self.calendar_tour else {}),
        }

    def _tour_settings(self) -> dict[str, Any]:
        """For ``debrief sandbox``: the morning DM is due now (it may come up to three hours
        after its hour), and the reminder of the week's meeting that starts in about a quarter of
        an hour is due at once."""
        hour = datetime.now(ZoneInfo(self.TOUR_ZONE)).hour
        return {"calendar_morning_hour": hour, "calendar_reminder_minutes": 20}

    async def connect(self, app: RunningApp) -> None:
        self.server.configure_webhook(f"{app.url}/webhooks/attendee")
        self.oauth.register_redirect(app.url + CALENDAR_CALLBACK)

    async def settle(self, within: float) -> None:
        # Its automatic bot steps too, not only its outbox.
        await self.server.settle(within)

    def prompt(self) -> tuple[PromptCommand, ...]:
        return (
            PromptCommand(
                "admit",
                "admit [<bot-id>]",
                "let a notetaker in from the waiting room (the newest by default)",
                self._admit,
            ),
            PromptCommand(
                "end",
                "end [<bot-id>]",
                "the meeting of an Attendee notetaker ends (the newest by default)",
                self._end,
            ),
        )

    def _newest(self, bot_id: str | None, states: frozenset[str]) -> str:
        """``bot_id``, or the newest bot in one of ``states``; LookupError says who there is."""
        bots = sorted(self.server.bots.values(), key=lambda b: b.seq)
        if bot_id is None:
            live = [b for b in bots if b.state in states]
            if not live:
                raise LookupError("Send one with /debrief join <zoom link>.")
            return live[-1].id
        if bot_id not in self.server.bots:
            active = ", ".join(b.id for b in bots) or "none"
            raise LookupError(f"No notetaker {bot_id}. Active: {active}.")
        return bot_id

    def _admit(self, rest: str) -> str:
        bot_id = rest or None
        try:
            bot_id = self._newest(bot_id, NOT_YET_IN)
            self.server.join(bot_id)
        except LookupError as exc:
            return f"No notetaker is waiting to be admitted. {exc}" if bot_id is None else str(exc)
        except ValueError as exc:
            return str(exc)
        return f"{bot_id} is in the meeting and recording; type end to end its meeting."

    def _end(self, rest: str) -> str:
        bot_id = rest or None
        try:
            bot_id = self._newest(bot_id, IN_MEETING | NOT_YET_IN)
            if self.server.bots[bot_id].state in NOT_YET_IN:
                self.server.join(bot_id)
            self.server.end_meeting(bot_id)
        except LookupError as exc:
            return f"No notetaker is in a meeting. {exc}" if bot_id is None else str(exc)
        except ValueError as exc:
            return str(exc)
        return f"The meeting of {bot_id} ended; the digest follows when Attendee has processed it."
