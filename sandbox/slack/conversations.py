"""The conversation half of the fake workspace: people, channels, messages, ephemeral
messages, identifiers and the event log. :class:`~sandbox.slack.workspace.Workspace` builds on it.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.slack.blocks import MESSAGE_TEXT, render, validate_blocks
from sandbox.slack.state import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    Channel,
    Ephemeral,
    Json,
    Message,
    Team,
    User,
    seed_channels,
    seed_users,
)


class SlackError(Exception):
    """A Web API failure, answered as ``{"ok": false, "error": ...}`` (HTTP 200 unless told)."""

    def __init__(self, error: str, *, status: int = 200, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.extra = extra

    def body(self) -> Json:
        return {"ok": False, "error": self.error, **self.extra}


def invalid(problems: list[Any], error: str) -> SlackError:
    """Slack's answer to Block Kit problems: ``invalid_blocks`` or ``invalid_arguments``."""
    errors, messages = render(problems)
    if error == "invalid_blocks":
        return SlackError(error, errors=errors, response_metadata={"messages": messages})
    return SlackError(error, response_metadata={"messages": messages})


@dataclass
class Change:
    """One entry of the workspace's event log (what a browser UI streams)."""

    seq: int
    kind: str
    data: Json

    def to_api(self) -> Json:
        return {"seq": self.seq, "kind": self.kind, **self.data}


@dataclass
class Conversations:
    """People, channels and messages of the fake workspace, and its event log."""

    clock: Callable[[], float] = time.time
    base_url: str = ""
    chat_write_public: bool = False
    team: Team = field(default_factory=Team)
    users: dict[str, User] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)
    history: dict[str, list[Message]] = field(default_factory=dict)
    ephemerals: list[Ephemeral] = field(default_factory=list)
    # What people entered in inputs and selects, per message ("<channel>:<ts>") or view id.
    inputs: dict[str, dict[str, dict[str, Json]]] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    listeners: list[Callable[[Change], None]] = field(default_factory=list)
    _counter: int = 0
    _last_us: int = 0

    def __post_init__(self) -> None:
        if not self.users:
            self.users = {u.id: u for u in seed_users()}
        if not self.channels:
            humans = [u.id for u in self.users.values() if not u.is_bot]
            self.channels = {c.id: c for c in seed_channels(humans)}
        for channel_id in self.channels:
            self.history.setdefault(channel_id, [])

    # ---- identifiers and the event log

    @property
    def bot(self) -> User:
        return self.users[BOT_USER_ID]

    def next_ts(self) -> str:
        """A message ts: microseconds since the epoch, unique and increasing."""
        self._last_us = max(int(self.clock() * 1_000_000), self._last_us + 1)
        seconds, micros = divmod(self._last_us, 1_000_000)
        return f"{seconds}.{micros:06d}"

    def new_id(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter:08d}"

    def short_id(self) -> str:
        """A Slack-looking random id (auto block_id/action_id), deterministic per workspace."""
        self._counter += 1
        digest = hashlib.sha1(f"{self.team.id}:{self._counter}".encode()).digest()
        return base64.b64encode(digest).decode()[:5].replace("/", "x").replace("+", "z")

    def emit(self, kind: str, **data: Any) -> Change:
        change = Change(len(self.changes) + 1, kind, data)
        self.changes.append(change)
        for listener in list(self.listeners):
            listener(change)
        return change

    # ---- people and conversations

    def user(self, user_id: str) -> User:
        user = self.users.get(user_id)
        if user is None:
            raise SlackError("user_not_found")
        return user

    def channel(self, ref: str, *, allow_user: bool = False) -> Channel:
        """Resolve an id or ``#name``; ``allow_user``: a user id means the bot's DM with them."""
        ref = (ref or "").strip()
        if ref in self.channels:
            return self.channels[ref]
        if allow_user and ref in self.users and not self.users[ref].is_bot:
            return self.open_im(ref)
        name = ref.removeprefix("#")
        for channel in self.channels.values():
            if not channel.is_im and channel.name == name:
                return channel
        raise SlackError("channel_not_found")

    def visible(self, ref: str, *, allow_user: bool = False) -> Channel:
        """A channel the bot can see: private channels it is not in do not exist for it."""
        channel = self.channel(ref, allow_user=allow_user)
        if channel.is_private and not channel.is_member:
            raise SlackError("channel_not_found")
        return channel

    def readable(self, ref: str) -> Channel:
        """A channel whose history the bot may read."""
        channel = self.visible(ref)
        if not channel.is_member and not channel.is_im:
            raise SlackError("not_in_channel")
        return channel

    def postable(self, ref: str, *, allow_user: bool = False) -> Channel:
        """A channel the bot may post into (chat:write.public lifts the membership need)."""
        channel = self.visible(ref, allow_user=allow_user)
        if not channel.is_member and not (channel.is_im or self.chat_write_public):
            raise SlackError("not_in_channel")
        if channel.is_archived:
            raise SlackError("is_archived")
        return channel

    def open_im(self, user_id: str) -> Channel:
        """The bot's DM with ``user_id`` (created on first use, like conversations.open)."""
        channel_id = "D" + user_id[1:]
        channel = self.channels.get(channel_id)
        if channel is None:
            channel = Channel(
                channel_id,
                channel_id,
                is_im=True,
                im_user=user_id,
                members={user_id, BOT_USER_ID},
                created=int(self.clock()),
            )
            self.channels[channel_id] = channel
            self.history[channel_id] = []
            self.emit("im_opened", channel=channel_id, user=user_id)
        return channel

    def join(self, channel: Channel, user_id: str = BOT_USER_ID) -> None:
        channel.members.add(user_id)
        if user_id == BOT_USER_ID and not channel.is_member:
            channel.is_member = True
            self.emit("channel_joined", channel=channel.id, user=user_id)

    # ---- messages

    def check_content(self, text: Any, blocks: Any, attachments: Any, *, need: bool = True) -> None:
        """Raise Slack's answer to bad content: invalid_blocks, msg_too_long, no_text."""
        if blocks is not None:
            if not isinstance(blocks, list):
                raise SlackError("invalid_blocks_format")
            problems = validate_blocks(blocks)
            if problems:
                raise invalid(problems, "invalid_blocks")
        if attachments is not None and not isinstance(attachments, list):
            raise SlackError("invalid_attachments")
        if isinstance(text, str) and len(text) > MESSAGE_TEXT:
            raise SlackError("msg_too_long")
        if need and not text and not blocks and not attachments:
            raise SlackError("no_text")

    def stamp_ids(self, blocks: list[Json] | None) -> list[Json]:
        """Copy ``blocks``, adding block_id and action_id where missing, as Slack does."""
        stamped = copy.deepcopy(blocks or [])
        for block in stamped:
            block.setdefault("block_id", self.short_id())
            for element in interactive_elements(block):
                element.setdefault("action_id", self.short_id())
        return stamped

    def find(self, channel_id: str, ts: str) -> Message | None:
        return next((m for m in self.history.get(channel_id, []) if m.ts == ts), None)

    def replies(self, channel_id: str, ts: str) -> list[Message]:
        return [m for m in self.history.get(channel_id, []) if m.thread_ts == ts and m.ts != ts]

    def top_level(self, channel_id: str) -> list[Message]:
        return [m for m in self.history.get(channel_id, []) if not m.is_reply or m.reply_broadcast]

    def message_api(self, message: Message) -> Json:
        """A message as the Web API shows it, with thread details and the bot profile."""
        data = message.to_api(self.team.id)
        replies = self.replies(message.channel, message.ts)
        if replies:
            users = list(dict.fromkeys(r.user for r in replies if r.user))
            data.update(
                thread_ts=message.ts,
                reply_count=len(replies),
                reply_users_count=len(users),
                reply_users=users,
                latest_reply=replies[-1].ts,
                is_locked=False,
                subscribed=False,
            )
        elif message.is_reply and message.thread_ts:
            parent = self.find(message.channel, message.thread_ts)
            data["parent_user_id"] = parent.user if parent else None
        if message.bot_id:
            data["bot_profile"] = {
                "id": message.bot_id,
                "app_id": message.app_id,
                "name": self.bot.real_name,
                "deleted": False,
                "team_id": self.team.id,
            }
        return data

    def post(
        self,
        channel: Channel,
        *,
        user: str = BOT_USER_ID,
        text: str = "",
        blocks: list[Json] | None = None,
        thread_ts: str | None = None,
        reply_broadcast: bool = False,
        attachments: list[Json] | None = None,
        files: list[Json] | None = None,
        metadata: Json | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
    ) -> Message:
        """Store a new message (no checks: callers validate first)."""
        if thread_ts:
            parent = self.find(channel.id, thread_ts)
            if parent is not None and parent.is_reply:
                # Replying to a reply lands in the same thread, under the parent.
                thread_ts = parent.thread_ts
        is_bot = user == BOT_USER_ID
        broadcast = bool(reply_broadcast and thread_ts)
        message = Message(
            channel=channel.id,
            ts=self.next_ts(),
            text=text or "",
            blocks=self.stamp_ids(blocks),
            user=user,
            bot_id=BOT_ID if is_bot else None,
            app_id=APP_ID if is_bot else None,
            thread_ts=thread_ts or None,
            reply_broadcast=broadcast,
            subtype="thread_broadcast" if broadcast else None,
            attachments=copy.deepcopy(attachments or []),
            files=files or [],
            metadata=copy.deepcopy(metadata),
            unfurl_links=unfurl_links,
            unfurl_media=unfurl_media,
        )
        self.history[channel.id].append(message)
        self.emit(
            "message_posted", channel=channel.id, ts=message.ts, message=self.message_api(message)
        )
        return message

    def update(
        self,
        message: Message,
        *,
        text: str | None = None,
        blocks: list[Json] | None = None,
        attachments: list[Json] | None = None,
        metadata: Json | None = None,
    ) -> None:
        """Edit in place; fields not given keep their value (as chat.update does)."""
        if text is not None:
            message.text = text
        if blocks is not None:
            message.blocks = self.stamp_ids(blocks)
        if attachments is not None:
            message.attachments = copy.deepcopy(attachments)
        if metadata is not None:
            message.metadata = copy.deepcopy(metadata)
        message.edited = {"user": BOT_USER_ID, "ts": self.next_ts()}
        # A re-rendered message forgets what people had picked in it, as Slack clients do.
        self.inputs.pop(f"{message.channel}:{message.ts}", None)
        self.emit(
            "message_updated",
            channel=message.channel,
            ts=message.ts,
            message=self.message_api(message),
        )

    def delete(self, message: Message) -> None:
        """Remove a message; a parent with replies stays as a tombstone, as in Slack."""
        if self.replies(message.channel, message.ts):
            message.text, message.blocks, message.attachments = "This message was deleted.", [], []
            message.subtype, message.bot_id, message.user = "tombstone", None, "USLACKBOT"
        else:
            self.history[message.channel].remove(message)
        self.emit("message_deleted", channel=message.channel, ts=message.ts)

    def post_ephemeral(
        self,
        channel: Channel,
        user: str,
        *,
        text: str = "",
        blocks: list[Json] | None = None,
        attachments: list[Json] | None = None,
        thread_ts: str | None = None,
    ) -> Ephemeral:
        ephemeral = Ephemeral(
            channel.id,
            user,
            self.next_ts(),
            text or "",
            self.stamp_ids(blocks),
            copy.deepcopy(attachments or []),
            thread_ts or None,
        )
        self.ephemerals.append(ephemeral)
        self.emit(
            "ephemeral_posted",
            channel=channel.id,
            user=user,
            ts=ephemeral.ts,
            message=ephemeral.to_api(),
        )
        return ephemeral

    def find_ephemeral(self, channel_id: str, ts: str) -> Ephemeral | None:
        return next((e for e in self.ephemerals if e.channel == channel_id and e.ts == ts), None)

    def permalink(self, channel_id: str, ts: str, thread_ts: str | None = None) -> str:
        link = f"{self.base_url}/archives/{channel_id}/p{ts.replace('.', '')}"
        if thread_ts and thread_ts != ts:
            link += f"?thread_ts={thread_ts}&cid={channel_id}"
        return link


def interactive_elements(block: Json) -> list[Json]:
    """The elements of a block that can carry an action_id."""
    if block.get("type") == "actions":
        return [e for e in block.get("elements") or [] if isinstance(e, dict)]
    found = []
    for key in ("accessory", "element"):
        element = block.get(key)
        if isinstance(element, dict) and element.get("type") != "image":
            found.append(element)
    return found


def flag(value: Any) -> bool:
    """Slack's loose booleans: true/false, "true"/"1"/"0"."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes"}
    return bool(value)
