"""The fake workspace: conversations plus triggers, response URLs, views and files. Pure Python,
no HTTP, so the Web API, the driver and a browser UI all act on the same state.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from typing import Any

from sandbox.slack.blocks import validate_view
from sandbox.slack.conversations import (
    Change,
    Conversations,
    SlackError,
    flag,
    interactive_elements,
    invalid,
)
from sandbox.slack.state import APP_ID, BOT_ID, BOT_USER_ID, Channel, File, Json, Message, View

__all__ = ["Change", "SlackError", "Workspace", "flag", "interactive_elements", "invalid"]

RESPONSE_URL_USES = 5
RESPONSE_URL_TTL = 30 * 60.0
TRIGGER_TTL = 3.0
MODAL_STACK = 3


@dataclass
class Trigger:
    """A trigger_id the stand-in issued with an interaction; views.open/push may use it once."""

    id: str
    user_id: str
    issued: float
    used: bool = False


@dataclass
class ResponseTarget:
    """Where a response_url's messages go, and what they may replace."""

    token: str
    channel: str
    user: str
    issued: float
    message_ts: str | None = None
    is_ephemeral: bool = False
    uses: int = 0


@dataclass
class Upload:
    """A file announced by files.getUploadURLExternal, waiting for its bytes and completion."""

    file: File
    token: str
    received: bool = False


@dataclass
class Workspace(Conversations):
    """All the state of the fake Slack workspace and the operations on it."""

    trigger_ttl: float = TRIGGER_TTL
    views: dict[str, View] = field(default_factory=dict)
    homes: dict[str, str] = field(default_factory=dict)
    stacks: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, File] = field(default_factory=dict)
    uploads: dict[str, Upload] = field(default_factory=dict)
    triggers: dict[str, Trigger] = field(default_factory=dict)
    response_targets: dict[str, ResponseTarget] = field(default_factory=dict)

    # ---- triggers and response URLs

    def issue_trigger(self, user_id: str) -> str:
        """A fresh trigger_id, as Slack sends with every interaction."""
        now = self.clock()
        self._counter += 1
        secret = hashlib.sha1(f"trigger:{self._counter}:{now}".encode()).hexdigest()[:24]
        trigger_id = f"{int(now)}{self._counter:04d}.{self.team.id}.{secret}"
        self.triggers[trigger_id] = Trigger(trigger_id, user_id, now)
        return trigger_id

    def take_trigger(self, trigger_id: str) -> Trigger:
        """Spend a trigger_id: it must be ours, unused and younger than three seconds."""
        trigger = self.triggers.get(trigger_id)
        if trigger is None:
            raise SlackError("invalid_trigger_id")
        if trigger.used:
            raise SlackError("exchanged_trigger_id")
        if self.clock() - trigger.issued > self.trigger_ttl:
            raise SlackError("expired_trigger_id")
        trigger.used = True
        return trigger

    def issue_response_url(
        self, channel: str, user: str, *, message_ts: str | None = None, is_ephemeral: bool = False
    ) -> str:
        self._counter += 1
        token = hashlib.sha1(f"response:{self._counter}:{self.clock()}".encode()).hexdigest()[:24]
        self.response_targets[token] = ResponseTarget(
            token, channel, user, self.clock(), message_ts, is_ephemeral
        )
        return f"{self.base_url}/hooks/response/{self.team.id}/{token}"

    def respond(self, token: str, body: Json, *, consume: bool = True) -> None:
        """Apply a response_url message; a command's own answer passes ``consume=False``."""
        target = self.response_targets.get(token)
        if target is None or self.clock() - target.issued > RESPONSE_URL_TTL:
            raise SlackError("expired_url", status=404)
        if target.uses >= RESPONSE_URL_USES:
            raise SlackError("used_url", status=404)
        channel = self.channels[target.channel]
        if flag(body.get("delete_original")):
            target.uses += consume
            self._delete_original(target)
            return
        text, blocks, attachments = body.get("text"), body.get("blocks"), body.get("attachments")
        self.check_content(text, blocks, attachments)
        target.uses += consume
        if flag(body.get("replace_original")) and target.message_ts:
            self._replace_original(target, text or "", blocks or [], attachments or [])
        elif body.get("response_type") == "in_channel":
            self.post(
                channel,
                text=text or "",
                blocks=blocks,
                attachments=attachments,
                thread_ts=body.get("thread_ts"),
            )
        else:
            # As Slack does: a response_url's ephemeral answer shows in the channel whatever
            # thread_ts says (only an in_channel one goes into the thread it names); a private
            # answer in a thread takes chat.postEphemeral with thread_ts.
            self.post_ephemeral(
                channel, target.user, text=text or "", blocks=blocks, attachments=attachments
            )

    def _replace_original(
        self, target: ResponseTarget, text: str, blocks: list[Json], attachments: list[Json]
    ) -> None:
        assert target.message_ts is not None
        if target.is_ephemeral:
            ephemeral = self.find_ephemeral(target.channel, target.message_ts)
            if ephemeral is None:
                raise SlackError("message_not_found", status=404)
            ephemeral.text, ephemeral.blocks = text, self.stamp_ids(blocks)
            ephemeral.attachments = copy.deepcopy(attachments)
            self.emit(
                "ephemeral_updated",
                channel=target.channel,
                user=ephemeral.user,
                ts=ephemeral.ts,
                message=ephemeral.to_api(),
            )
            return
        message = self.find(target.channel, target.message_ts)
        if message is None:
            raise SlackError("message_not_found", status=404)
        self.update(message, text=text, blocks=blocks, attachments=attachments)

    def _delete_original(self, target: ResponseTarget) -> None:
        if target.message_ts is None:
            return
        if target.is_ephemeral:
            ephemeral = self.find_ephemeral(target.channel, target.message_ts)
            if ephemeral is not None:
                self.ephemerals.remove(ephemeral)
                self.emit(
                    "ephemeral_deleted",
                    channel=target.channel,
                    user=ephemeral.user,
                    ts=ephemeral.ts,
                )
            return
        message = self.find(target.channel, target.message_ts)
        if message is not None:
            self.delete(message)

    # ---- views

    def check_view(self, spec: Any, kind: str) -> Json:
        if not isinstance(spec, dict):
            raise SlackError(
                "invalid_arguments",
                response_metadata={"messages": ["[ERROR] missing required field: view"]},
            )
        problems = validate_view(spec)
        if problems:
            raise invalid(problems, "invalid_arguments")
        if spec.get("type") != kind:
            raise SlackError(
                "invalid_arguments",
                response_metadata={
                    "messages": [f"[ERROR] must be {kind} [json-pointer:/view/type]"]
                },
            )
        return spec

    def build_view(
        self,
        user_id: str,
        spec: Json,
        *,
        view_id: str | None = None,
        root: str | None = None,
        previous: str | None = None,
    ) -> View:
        view_id = view_id or self.new_id("V")
        view = View(
            id=view_id,
            team_id=self.team.id,
            user_id=user_id,
            type=spec["type"],
            blocks=self.stamp_ids(spec.get("blocks")),
            title=spec.get("title"),
            submit=spec.get("submit"),
            close=spec.get("close"),
            private_metadata=spec.get("private_metadata") or "",
            callback_id=spec.get("callback_id") or "",
            external_id=spec.get("external_id") or "",
            hash=f"{int(self.clock())}.{self.short_id()}",
            root_view_id=root or view_id,
            previous_view_id=previous,
            app_id=APP_ID,
            bot_id=BOT_ID,
            clear_on_close=bool(spec.get("clear_on_close")),
            notify_on_close=bool(spec.get("notify_on_close")),
        )
        self.views[view_id] = view
        return view

    def open_modal(self, user_id: str, spec: Json) -> View:
        view = self.build_view(user_id, spec)
        for old in self.stacks.get(user_id, []):
            self.inputs.pop(old, None)
        self.stacks[user_id] = [view.id]
        self.emit("view_opened", user=user_id, view=view.to_api())
        return view

    def push_modal(self, user_id: str, spec: Json) -> View:
        stack = self.stacks.get(user_id) or []
        if not stack:
            raise SlackError("not_found")
        if len(stack) >= MODAL_STACK:
            raise SlackError("push_limit_reached")
        view = self.build_view(user_id, spec, root=stack[0], previous=stack[-1])
        stack.append(view.id)
        self.emit("view_pushed", user=user_id, view=view.to_api())
        return view

    def find_view(self, view_id: str | None, external_id: str | None) -> View:
        if view_id and view_id in self.views:
            return self.views[view_id]
        if external_id:
            for view in self.views.values():
                if view.external_id == external_id:
                    return view
        raise SlackError("not_found")

    def replace_view(self, old: View, spec: Json, hash_: str | None = None) -> View:
        if hash_ and hash_ != old.hash:
            raise SlackError("hash_conflict")
        view = self.build_view(
            old.user_id, spec, view_id=old.id, root=old.root_view_id, previous=old.previous_view_id
        )
        kind = "home_published" if view.type == "home" else "view_updated"
        self.emit(kind, user=view.user_id, view=view.to_api(self.inputs.get(view.id)))
        return view

    def publish_home(self, user_id: str, spec: Json, hash_: str | None = None) -> View:
        current = self.homes.get(user_id)
        if current is not None:
            return self.replace_view(self.views[current], spec, hash_)
        view = self.build_view(user_id, spec)
        self.homes[user_id] = view.id
        self.emit("home_published", user=user_id, view=view.to_api())
        return view

    def close_modal(self, view: View, *, clear: bool = False) -> None:
        """Close ``view`` (and the views above it), or the whole stack with ``clear``."""
        stack = self.stacks.get(view.user_id, [])
        if view.id not in stack:
            return
        cut = 0 if clear else stack.index(view.id)
        for closed in stack[cut:]:
            self.inputs.pop(closed, None)
            self.emit("view_closed", user=view.user_id, view_id=closed)
        del stack[cut:]
        if not stack:
            self.stacks.pop(view.user_id, None)

    # ---- files

    def start_upload(self, filename: str, length: int, alt_txt: str | None) -> Upload:
        file = File(
            self.new_id("F"), filename, length, BOT_USER_ID, int(self.clock()), alt_txt=alt_txt
        )
        self._counter += 1
        token = hashlib.sha1(f"upload:{file.id}:{self._counter}".encode()).hexdigest()[:20]
        upload = Upload(file, token)
        self.uploads[token] = upload
        self.files[file.id] = file
        return upload

    def share_files(
        self, files: list[File], channel: Channel, comment: str, thread_ts: str | None
    ) -> Message:
        message = self.post(
            channel,
            text=comment,
            thread_ts=thread_ts,
            files=[f.to_api(self.base_url, self.team.id) for f in files],
        )
        for file in files:
            file.shares.setdefault(channel.id, []).append(
                {
                    "ts": message.ts,
                    "channel_name": channel.name,
                    "team_id": self.team.id,
                    "share_user_id": BOT_USER_ID,
                    **({"thread_ts": message.thread_ts} if message.thread_ts else {}),
                }
            )
        message.files = [f.to_api(self.base_url, self.team.id) for f in files]
        self.emit("file_shared", channel=channel.id, ts=message.ts, files=[f.id for f in files])
        return message

    # ---- whole-state view for a browser UI

    def snapshot(self) -> Json:
        """Everything a browser UI shows, as plain JSON."""
        now = self.clock()
        channels = []
        for channel in self.channels.values():
            top = self.top_level(channel.id)
            channels.append(
                {
                    **channel.to_api(self.team.id),
                    "messages": [self.message_api(m) for m in top],
                    "threads": {
                        m.ts: [self.message_api(r) for r in self.replies(channel.id, m.ts)]
                        for m in top
                        if self.replies(channel.id, m.ts)
                    },
                }
            )
        return {
            "team": self.team.to_api(),
            "bot": {"user_id": BOT_USER_ID, "bot_id": BOT_ID, "app_id": APP_ID},
            "users": [u.to_api(self.team.id, now) for u in self.users.values()],
            "channels": channels,
            "ephemerals": [
                {**e.to_api(), "channel": e.channel, "user": e.user} for e in self.ephemerals
            ],
            "homes": {u: self.views[v].to_api(self.inputs.get(v)) for u, v in self.homes.items()},
            "modals": {
                u: [self.views[v].to_api(self.inputs.get(v)) for v in stack]
                for u, stack in self.stacks.items()
            },
            "files": [f.to_api(self.base_url, self.team.id) for f in self.files.values()],
            "last_change": len(self.changes),
        }
