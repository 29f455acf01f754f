"""`/debrief room [<minutes>] [<name>]`: reading the arguments and naming the room."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.blockkit import unescape
from bot.errors import UserFacingError

ROOM_USAGE = "room [<minutes>] [<name>]"
DEFAULT_MINUTES = 60
MIN_MINUTES = 5
MAX_MINUTES = 24 * 60
#: Whereby's limit for ``roomNamePrefix``.
MAX_PREFIX = 39
MAX_TITLE = 80
FALLBACK_PREFIX = "debrief"
#: What Slack sends as ``channel_name`` for conversations whose name it does not give.
UNNAMED_CHANNELS = frozenset({"privategroup", "directmessage", "mpdm"})

_MINUTES = re.compile(r"(?P<n>[+-]?\d+)\s*(?:m|min|mins|minutes?)?", re.I)
_HOURS = re.compile(r"(?P<n>[+-]?\d+)\s*(?:h|hr|hrs|hours?)", re.I)
_NUMBERISH = re.compile(r"[+-]?\d")
_UNIT = re.compile(r"m|min|mins|minutes?|h|hr|hrs|hours?", re.I)
_NOT_ALLOWED = re.compile(r"[^a-z0-9-]+")


@dataclass(frozen=True)
class RoomRequest:
    """What `/debrief room` was asked for."""

    minutes: int
    name: str | None


def parse_room_args(text: str) -> RoomRequest:
    """Minutes (default 60, ``45``, ``45m``, ``2h``) then an optional name.

    Raises:
        UserFacingError: minutes that are not a whole number in range.
    """
    words = text.strip().split(maxsplit=2)
    if not words:
        return RoomRequest(DEFAULT_MINUTES, None)
    first = words[0]
    if not _NUMBERISH.match(first):
        return RoomRequest(DEFAULT_MINUTES, _title(text))
    rest = " ".join(words[1:])
    if len(words) > 1 and _UNIT.fullmatch(words[1]):
        # "45 min", "2 hours": the unit is part of the duration, not the room's name.
        first, rest = first + words[1], " ".join(words[2:])
    minutes_match = _MINUTES.fullmatch(first)
    hours_match = _HOURS.fullmatch(first)
    if minutes_match:
        minutes = int(minutes_match["n"])
    elif hours_match:
        minutes = int(hours_match["n"]) * 60
    else:
        raise UserFacingError(
            f"`{first}` is not a number of minutes. Usage: `/debrief {ROOM_USAGE}`, "
            "for example `/debrief room 30 Sprint review`."
        )
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise UserFacingError(
            f"A room can last from {MIN_MINUTES} to {MAX_MINUTES} minutes (24 hours); "
            f"you asked for {minutes}. Usage: `/debrief {ROOM_USAGE}`."
        )
    return RoomRequest(minutes, _title(rest))


def _title(text: str) -> str | None:
    # Stored as typed (Slack sent it escaped); every message escapes it again where it shows.
    title = " ".join(unescape(text).split())[:MAX_TITLE]
    return title or None


def room_prefix(name: str | None) -> str | None:
    """A ``roomNamePrefix`` Whereby accepts: lowercase letters, digits and single dashes, at
    most 39 characters; None when nothing usable is left of ``name``."""
    if not name:
        return None
    text = name.lstrip("#").lower()
    text = _NOT_ALLOWED.sub("-", text).strip("-")
    text = re.sub(r"-{2,}", "-", text)[:MAX_PREFIX].strip("-")
    return text or None


def channel_name(slack_name: str | None) -> str | None:
    """The channel's name as Slack sent it with the command, unless Slack withheld it."""
    if not slack_name or slack_name in UNNAMED_CHANNELS:
        return None
    return slack_name
