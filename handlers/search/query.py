"""What a person typed after `/debrief search`: the words, and the filters among them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from bot.blockkit import mrkdwn
from bot.errors import UserFacingError
from handlers.search.index import day_after, words_of

SEARCH_USAGE = "search <words> [from:@person] [in:#channel] [after:YYYY-MM-DD] [before:YYYY-MM-DD]"
ASK_USAGE = "ask <question>"
FORGET_USAGE = "forget <digest link or meeting id>"

_FILTER = re.compile(r"^(from|in|after|before):(.*)$", re.IGNORECASE)
#: A mention as Slack escapes it (``<@U…|name>``), or a bare user id.
_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^([UW][A-Z0-9]{6,})$")
_CHANNEL = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$|^([CG][A-Z0-9]{6,})$")


@dataclass(frozen=True)
class SearchRequest:
    """`/debrief search` parsed: the words, and the filters still to be resolved with Slack."""

    words: str
    #: Slack user ids (from a mention) and plain names ("ada" from ``from:@ada``).
    user_ids: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    #: A channel id, or a ``#name`` to look up.
    channel_id: str | None = None
    channel_name: str | None = None
    #: Meetings on or after ``after``, and before ``before`` (``after:`` a day excludes it).
    after: date | None = None
    before: date | None = None


def _usage(problem: str) -> UserFacingError:
    return UserFacingError(f"{problem} Usage: `/debrief {SEARCH_USAGE}`")


def _day(kind: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _usage(
            f"`{kind}:` takes a date like 2026-11-30, not `{mrkdwn(value, 40)}`."
        ) from None


def parse_search(args: str) -> SearchRequest:
    """The words and filters of `/debrief search`.

    Raises:
        UserFacingError: no words, an empty filter or a date that is not one (the usage line).
    """
    words: list[str] = []
    user_ids: list[str] = []
    names: list[str] = []
    channel_id = channel_name = None
    after = before = None
    for token in args.split():
        found = _FILTER.match(token)
        if found is None:
            words.append(token)
            continue
        kind, value = found[1].lower(), found[2].strip()
        if not value:
            raise _usage(f"`{kind}:` needs a value.")
        if kind == "from":
            user = _USER.match(value)
            if user:
                user_ids.append(user[1] or user[2])
            elif words_of(value):
                names.append(value.lstrip("@"))
            else:
                raise _usage("`from:` takes a person, like `from:@ada`.")
        elif kind == "in":
            channel = _CHANNEL.match(value)
            if channel:
                channel_id = channel[1] or channel[2]
            elif value.startswith("#") and len(value) > 1:
                channel_name = value[1:].lower()
            else:
                raise _usage("`in:` takes a channel, like `in:#general`.")
        elif kind == "after":
            after = day_after(_day(kind, value))
        else:
            before = _day(kind, value)
    text = " ".join(words)
    if not words_of(text):
        raise _usage("Tell me what to look for.")
    return SearchRequest(
        text, tuple(user_ids), tuple(names), channel_id, channel_name, after, before
    )


def parse_question(args: str) -> str:
    """The question of `/debrief ask`.

    Raises:
        UserFacingError: nothing was asked.
    """
    if not words_of(args):
        raise UserFacingError(
            f"Ask me something about your meetings. Usage: `/debrief {ASK_USAGE}`"
        )
    return " ".join(args.split())


#: A message link: https://<workspace>.slack.com/archives/C123/p1700000000000100
_PERMALINK = re.compile(r"/archives/([CGD][A-Z0-9]+)/p(\d{10})(\d{6})")


@dataclass(frozen=True)
class MeetingRef:
    """What `/debrief forget` was given: a stored meeting's id, or a digest's message."""

    id: int | None = None
    channel_id: str | None = None
    ts: str | None = None


def parse_meeting_ref(args: str) -> MeetingRef:
    """The meeting `/debrief forget` names: the id search shows, or a link to its digest.

    Raises:
        UserFacingError: neither (the usage line).
    """
    token = args.strip().strip("<>").split("|")[0].strip()
    if token.lstrip("#").isdigit() and len(token) < 19:
        return MeetingRef(id=int(token.lstrip("#")))
    link = _PERMALINK.search(token)
    if link:
        return MeetingRef(channel_id=link[1], ts=f"{link[2]}.{link[3]}")
    raise UserFacingError(
        "Tell me which meeting: paste the link to its digest (⋯ › Copy link) or the id "
        f"`/debrief search` shows. Usage: `/debrief {FORGET_USAGE}`"
    )
