"""Reading `/debrief join <meeting-url> [at <time>] [as "<title>"]`: which meetings we accept,
when, and what the person calls the meeting."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from urllib.parse import urlsplit, urlunsplit

from bot.blockkit import unescape
from bot.errors import UserFacingError
from bot.urls import MeetingId, meeting_id

JOIN_USAGE = 'join <meeting-url> [at <time>] [as "<title>"]'
#: The longest title a person may give a meeting (a digest's header holds 150 characters).
TITLE_MAX = 140
_AS = re.compile(r"(?:^|\s)as(?:\s+|(?=[\"“”‘’']))(?P<title>.*)$", re.IGNORECASE | re.DOTALL)
_QUOTES = "\"'“”‘’"
JOIN_EXAMPLE = "`/debrief join https://zoom.us/j/123456789 at 14:30`"


@dataclass(frozen=True)
class MeetingLink:
    url: str
    platform: str
    host: str
    #: The meeting itself, whatever else the link carries (a password, a context, its case).
    meeting: MeetingId


def clean_url(text: str) -> str:
    """Undo Slack's link escaping: ``<https://x|label>`` and ``<https://x>`` become the URL."""
    text = text.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].split("|", 1)[0]
    return text.replace("&amp;", "&")


def meeting_link(text: str) -> MeetingLink:
    """The meeting behind a Zoom, Google Meet or Teams link, or a clear refusal."""
    url = clean_url(text)
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        parts, host = None, ""
    if parts is None or parts.scheme not in ("https", "http") or not host:
        raise UserFacingError(
            f"`{url}` is not a meeting link. Paste the Zoom, Google Meet or Teams link, "
            f"e.g. {JOIN_EXAMPLE}."
        )
    meeting = meeting_id(url)
    if meeting is None:
        raise UserFacingError(
            f"I can only send notetakers to Zoom, Google Meet and Microsoft Teams meetings, "
            f"and `{url}` does not look like one of those."
        )
    # The link goes to Attendee as pasted: its password is how the bot gets in, and a Teams
    # /v2/ link names its meeting in the fragment.
    normal = urlunsplit(("https", parts.netloc.lower(), parts.path, parts.query, parts.fragment))
    return MeetingLink(normal, meeting.name, host, meeting)


@dataclass(frozen=True)
class When:
    """A requested join time, read in the requester's time zone."""

    text: str

    def resolve(self, now: datetime, tz: tzinfo) -> datetime:
        """The moment meant, as an aware datetime; a time already past is refused."""
        return parse_when(self.text, now, tz)


_RELATIVE = re.compile(r"^in\s+(\d{1,4})\s*(m|min|mins|minutes?|h|hr|hrs|hours?)$")
_CLOCK = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$")


def parse_when(text: str, now: datetime, tz: tzinfo) -> datetime:
    """Read ``14:30``, ``2pm``, ``tomorrow 9:00``, ``2026-11-23 09:00``, ``in 15 minutes`` or
    an ISO 8601 time with offset. Bare clock times that have passed today mean tomorrow.
    """
    raw = " ".join(text.lower().split())
    if not raw:
        raise UserFacingError(f"Say when after `at`, e.g. {JOIN_EXAMPLE}.")
    if m := _RELATIVE.match(raw):
        amount = int(m.group(1))
        delta = timedelta(hours=amount) if m.group(2).startswith("h") else timedelta(minutes=amount)
        return _future(now + delta, now, text)
    try:
        iso = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        iso = None
    if iso is not None and iso.tzinfo is not None:
        return _future(iso, now, text)
    local_now = now.astimezone(tz)
    day: date | None = None
    rest = raw
    if iso is not None:  # a date and time without offset: the requester's zone
        return _future(iso.replace(tzinfo=tz), now, text)
    first, _, tail = raw.partition(" ")
    if first == "today":
        day, rest = local_now.date(), tail
    elif first == "tomorrow":
        day, rest = local_now.date() + timedelta(days=1), tail
    else:
        try:
            day, rest = date.fromisoformat(first), tail
        except ValueError:
            day = None
    clock = _CLOCK.match(rest.strip())
    if clock is None:
        raise UserFacingError(
            f"I could not read the time `{text}`. Try `14:30`, `2pm`, `tomorrow 9:00`, "
            "`2026-11-23 09:00` or `in 15 minutes`."
        )
    hour, minute = int(clock.group(1)), int(clock.group(2) or 0)
    if clock.group(3):
        if not 1 <= hour <= 12:
            raise UserFacingError(f"`{text}` is not a time of day.")
        hour = hour % 12 + (12 if clock.group(3) == "pm" else 0)
    if hour > 23 or minute > 59:
        raise UserFacingError(f"`{text}` is not a time of day.")
    explicit_day = day is not None
    when = datetime.combine(day or local_now.date(), time(hour, minute), tzinfo=tz)
    if not explicit_day and when <= now:
        when += timedelta(days=1)
    return _future(when, now, text)


def _future(when: datetime, now: datetime, text: str) -> datetime:
    if when <= now:
        raise UserFacingError(f"`{text}` has already passed. Leave out `at` to join right away.")
    if when - now > timedelta(days=90):
        raise UserFacingError(f"`{text}` is more than 90 days away; schedule it closer to the day.")
    return when


@dataclass(frozen=True)
class JoinRequest:
    link: MeetingLink
    when: When | None
    #: The meeting's name for its digest, as the person gave it (`as "<title>"`).
    title: str | None = None


def split_title(tail: str) -> tuple[str, str | None]:
    """``at 14:30 as "Weekly sync"`` -> (``at 14:30``, ``Weekly sync``); no ``as``: no title.

    Raises:
        UserFacingError: ``as`` with no title after it, or one too long.
    """
    found = _AS.search(tail)
    if found is None:
        return tail, None
    title = " ".join(unescape(found["title"]).strip().strip(_QUOTES).split())
    if not title:
        raise UserFacingError(
            f'Give the meeting\'s title after `as`, e.g. `as "Weekly sync"`. '
            f"Usage: `/debrief {JOIN_USAGE}`."
        )
    if len(title) > TITLE_MAX:
        raise UserFacingError(f"That title is too long: keep it under {TITLE_MAX} characters.")
    return tail[: found.start()].strip(), title


def parse_join(args: str) -> JoinRequest:
    """Split `<meeting-url> [at <time>] [as "<title>"]` and check each part's syntax."""
    words = args.split(maxsplit=1)
    if not words:
        raise UserFacingError(f"Usage: `/debrief {JOIN_USAGE}` — for example {JOIN_EXAMPLE}.")
    link = meeting_link(words[0])
    when = None
    tail, title = split_title(words[1].strip()) if len(words) > 1 else ("", None)
    if tail:
        keyword, _, time_text = tail.partition(" ")
        if keyword.lower() != "at":
            raise UserFacingError(f"I did not understand `{tail}`. Usage: `/debrief {JOIN_USAGE}`.")
        when = When(time_text.strip())
    return JoinRequest(link, when, title)


def deduplication_key(team_id: str, channel_id: str, meeting: MeetingId, when: When | None) -> str:
    """The same meeting asked for from the same channel gets the same key, whichever link to it
    was pasted: Debrief and Attendee then refuse a twin."""
    when_text = " ".join(when.text.lower().split()) if when else "now"
    raw = "\n".join((team_id, channel_id, meeting.key, when_text))
    return "debrief-" + hashlib.sha256(raw.encode()).hexdigest()[:40]
