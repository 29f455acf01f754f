"""The fake workspace's records (team, users, channels, messages, views, files) and seeds."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Json = dict[str, Any]

# Used only when the machine has no tz database; standard-time offsets in seconds.
_FALLBACK_OFFSETS = {
    "Europe/London": 0,
    "America/New_York": -5 * 3600,
    "America/Los_Angeles": -8 * 3600,
    "Asia/Tokyo": 9 * 3600,
    "UTC": 0,
}


def tz_offset(tz: str, at: float) -> int:
    """The UTC offset of ``tz`` in seconds at unix time ``at``, as Slack reports ``tz_offset``."""
    try:
        offset = datetime.fromtimestamp(at, UTC).astimezone(ZoneInfo(tz)).utcoffset()
    except ZoneInfoNotFoundError:
        return _FALLBACK_OFFSETS.get(tz, 0)
    return int(offset.total_seconds()) if offset is not None else 0


@dataclass
class Team:
    """The one workspace the stand-in serves."""

    id: str = "T0SANDBOX"
    name: str = "Debrief Sandbox"
    domain: str = "debrief-sandbox"
    email_domain: str = "example.com"

    def to_api(self) -> Json:
        return {
            "id": self.id,
            "name": self.name,
            "domain": self.domain,
            "email_domain": self.email_domain,
            "icon": {"image_default": True},
        }


@dataclass
class User:
    """A workspace member (a person or the app's bot user)."""

    id: str
    name: str
    real_name: str
    email: str | None = None
    tz: str = "UTC"
    is_admin: bool = False
    is_bot: bool = False
    bot_id: str | None = None
    app_id: str | None = None
    deleted: bool = False

    def to_api(self, team_id: str, now: float) -> Json:
        """The ``user`` object of users.info / users.list."""
        offset = tz_offset(self.tz, now)
        profile: Json = {
            "real_name": self.real_name,
            "display_name": self.name,
            "real_name_normalized": self.real_name,
            "display_name_normalized": self.name,
            "team": team_id,
            "image_48": f"https://avatars.example.com/{self.id}_48.png",
        }
        if self.email and not self.is_bot:
            profile["email"] = self.email
        if self.bot_id:
            profile["bot_id"] = self.bot_id
            profile["api_app_id"] = self.app_id
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_label": self.tz,
            "tz_offset": offset,
            "profile": profile,
            "is_admin": self.is_admin,
            "is_owner": self.is_admin,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": 1700000000,
        }


@dataclass
class Channel:
    """A conversation: public or private channel, or the bot's IM with one person."""

    id: str
    name: str
    is_private: bool = False
    is_im: bool = False
    im_user: str | None = None
    is_member: bool = True
    is_archived: bool = False
    members: set[str] = field(default_factory=set)
    created: int = 1700000000
    topic: str = ""
    purpose: str = ""

    @property
    def slash_name(self) -> str:
        """What Slack sends as ``channel_name`` in commands and actions."""
        if self.is_im:
            return "directmessage"
        return "privategroup" if self.is_private else self.name

    def to_api(self, team_id: str) -> Json:
        """The ``channel`` object of conversations.info / conversations.list."""
        if self.is_im:
            return {
                "id": self.id,
                "created": self.created,
                "is_im": True,
                "is_org_shared": False,
                "user": self.im_user,
                "is_user_deleted": False,
                "priority": 0,
            }
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "is_archived": self.is_archived,
            "is_general": self.name == "general",
            "is_shared": False,
            "is_org_shared": False,
            "is_ext_shared": False,
            "is_member": self.is_member,
            "created": self.created,
            "creator": "U0ADA",
            "context_team_id": team_id,
            "num_members": len(self.members),
            "topic": {"value": self.topic, "creator": "", "last_set": 0},
            "purpose": {"value": self.purpose, "creator": "", "last_set": 0},
        }


@dataclass
class Message:
    """A message in a channel; updated in place, so a held reference always shows the latest."""

    channel: str
    ts: str
    text: str = ""
    blocks: list[Json] = field(default_factory=list)
    user: str | None = None
    bot_id: str | None = None
    app_id: str | None = None
    thread_ts: str | None = None
    reply_broadcast: bool = False
    subtype: str | None = None
    edited: Json | None = None
    attachments: list[Json] = field(default_factory=list)
    files: list[Json] = field(default_factory=list)
    metadata: Json | None = None
    unfurl_links: bool | None = None
    unfurl_media: bool | None = None

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def to_api(self, team_id: str) -> Json:
        """The message object as conversations.history and chat.postMessage return it."""
        data: Json = {"type": "message", "ts": self.ts, "text": self.text}
        if self.user:
            data["user"] = self.user
        if self.bot_id:
            data["bot_id"] = self.bot_id
            data["app_id"] = self.app_id
        data["team"] = team_id
        if self.subtype:
            data["subtype"] = self.subtype
        if self.blocks:
            data["blocks"] = copy.deepcopy(self.blocks)
        if self.attachments:
            data["attachments"] = copy.deepcopy(self.attachments)
        if self.files:
            data["files"] = copy.deepcopy(self.files)
            data["upload"] = True
        if self.thread_ts:
            data["thread_ts"] = self.thread_ts
        if self.edited:
            data["edited"] = dict(self.edited)
        if self.metadata:
            data["metadata"] = copy.deepcopy(self.metadata)
        return data


@dataclass
class Ephemeral:
    """An ephemeral message: only ``user`` sees it, it is never in history and can't be updated."""

    channel: str
    user: str
    ts: str
    text: str = ""
    blocks: list[Json] = field(default_factory=list)
    attachments: list[Json] = field(default_factory=list)
    thread_ts: str | None = None

    def to_api(self) -> Json:
        data: Json = {"type": "message", "ts": self.ts, "text": self.text, "is_ephemeral": True}
        if self.blocks:
            data["blocks"] = copy.deepcopy(self.blocks)
        if self.thread_ts:
            data["thread_ts"] = self.thread_ts
        return data


@dataclass
class View:
    """A modal or an App Home tab, as stored after views.open/push/update/publish."""

    id: str
    team_id: str
    user_id: str
    type: str
    blocks: list[Json] = field(default_factory=list)
    title: Json | None = None
    submit: Json | None = None
    close: Json | None = None
    private_metadata: str = ""
    callback_id: str = ""
    external_id: str = ""
    hash: str = ""
    root_view_id: str | None = None
    previous_view_id: str | None = None
    app_id: str = ""
    bot_id: str = ""
    clear_on_close: bool = False
    notify_on_close: bool = False
    errors: dict[str, str] = field(default_factory=dict)

    def to_api(self, state_values: Json | None = None) -> Json:
        data: Json = {
            "id": self.id,
            "team_id": self.team_id,
            "type": self.type,
            "blocks": copy.deepcopy(self.blocks),
            "private_metadata": self.private_metadata,
            "callback_id": self.callback_id,
            "state": {"values": copy.deepcopy(state_values or {})},
            "hash": self.hash,
            "clear_on_close": self.clear_on_close,
            "notify_on_close": self.notify_on_close,
            "close": self.close,
            "submit": self.submit,
            "previous_view_id": self.previous_view_id,
            "root_view_id": self.root_view_id,
            "app_id": self.app_id,
            "external_id": self.external_id,
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        if self.title is not None:
            data["title"] = self.title
        return data


@dataclass
class File:
    """A file uploaded through files.getUploadURLExternal and friends."""

    id: str
    name: str
    length: int
    user: str
    created: int
    title: str = ""
    alt_txt: str | None = None
    content: bytes | None = None
    shares: dict[str, list[Json]] = field(default_factory=dict)

    @property
    def mimetype(self) -> str:
        suffix = self.name.rsplit(".", 1)[-1].lower() if "." in self.name else ""
        return {
            "txt": "text/plain",
            "md": "text/markdown",
            "json": "application/json",
            "pdf": "application/pdf",
            "png": "image/png",
            "vtt": "text/vtt",
            "csv": "text/csv",
        }.get(suffix, "application/octet-stream")

    def to_api(self, base_url: str, team_id: str) -> Json:
        suffix = self.name.rsplit(".", 1)[-1].lower() if "." in self.name else "binary"
        data: Json = {
            "id": self.id,
            "created": self.created,
            "timestamp": self.created,
            "name": self.name,
            "title": self.title or self.name,
            "mimetype": self.mimetype,
            "filetype": suffix,
            "pretty_type": suffix.upper(),
            "user": self.user,
            "user_team": team_id,
            "editable": False,
            "size": len(self.content) if self.content is not None else self.length,
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": bool(self.shares),
            "public_url_shared": False,
            "display_as_bot": False,
            "url_private": f"{base_url}/files/{self.id}/{self.name}",
            "url_private_download": f"{base_url}/files/{self.id}/download/{self.name}",
            "permalink": f"{base_url}/files/{self.id}",
            "shares": {"public": copy.deepcopy(self.shares)} if self.shares else {},
            "channels": sorted(self.shares),
            "groups": [],
            "ims": [],
            "has_rich_preview": False,
            "file_access": "visible",
        }
        if self.alt_txt:
            data["alt_txt"] = self.alt_txt
        return data


BOT_USER_ID = "U0DEBRIEF"
BOT_ID = "B0DEBRIEF"
APP_ID = "A0DEBRIEF"


def seed_users() -> list[User]:
    """A few realistic people in different time zones, plus the app's bot user."""
    return [
        User("U0ADA", "ada", "Ada Lovelace", "ada@example.com", "Europe/London", is_admin=True),
        User("U0GRACE", "grace", "Grace Hopper", "grace@example.com", "America/New_York"),
        User("U0ALAN", "alan", "Alan Turing", "alan@example.com", "Europe/London"),
        User(
            "U0KATHERINE",
            "katherine",
            "Katherine Johnson",
            "katherine@example.com",
            "America/Los_Angeles",
        ),
        User("U0LINUS", "linus", "Linus Torvalds", "linus@example.com", "Asia/Tokyo"),
        User(
            BOT_USER_ID,
            "debrief",
            "Debrief",
            None,
            "UTC",
            is_bot=True,
            bot_id=BOT_ID,
            app_id=APP_ID,
        ),
    ]


def seed_channels(humans: list[str]) -> list[Channel]:
    """Public #general, #meetings, #eng and #random (bot not in it), private #leadership and #hr."""
    everyone = set(humans)
    with_bot = everyone | {BOT_USER_ID}
    return [
        Channel("C0GENERAL", "general", members=set(with_bot), purpose="Company-wide"),
        Channel("C0MEETINGS", "meetings", members=set(with_bot), purpose="Meeting digests"),
        Channel("C0ENG", "eng", members=set(with_bot), purpose="Engineering"),
        Channel("C0RANDOM", "random", is_member=False, members=set(everyone)),
        Channel(
            "C0LEADERSHIP", "leadership", is_private=True, members={"U0ADA", "U0GRACE", BOT_USER_ID}
        ),
        Channel("C0HR", "hr", is_private=True, is_member=False, members={"U0ADA"}),
    ]
