"""Who is in which Slack channel, and who is a workspace admin, as Slack says, cached briefly.

Everything Debrief lists or lets people change follows channel membership (``handlers.access``
decides); this module only asks Slack: ``conversations.members`` for a channel's people,
``users.conversations`` for a person's channels (both paged, private channels included where
Debrief is a member: ``channels:read``, ``groups:read``) and ``users.info`` for the admin flags.

Answers are kept ``ttl`` seconds per process: long enough that listing twenty notetakers asks
Slack once, short enough that someone who left a channel loses access within a minute. When Slack
will not answer, the result is None (unknown) and nothing is cached, so the next check asks again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.cache import TTLCache
from bot.slack import People, slack_error

log = logging.getLogger(__name__)

#: Members or channels asked for per page (Slack's recommended maximum is 200… 1000).
PAGE_SIZE = 200
#: Pages followed at most: 200,000 members or channels, far past any real workspace.
MAX_PAGES = 1000
#: The conversation types whose membership counts (what ``channels:read`` and ``groups:read``
#: let Debrief see).
TYPES = "public_channel,private_channel"


class SlackMembership:
    """Channel members, a person's channels and admin flags, from Slack, cached ``ttl`` seconds.

    Args:
        client: the Web API client (``bot.slack.create_slack_client``).
        ttl: seconds an answer is reused (``DEBRIEF_MEMBERSHIP_TTL``); 0 asks Slack every time.
        clock: monotonic seconds, injectable for tests.
        people: the ``users.info`` lookup the admin flags come from; share the messenger's
            (``SlackMessenger.people``) so that one answer serves every use of a person.
    """

    def __init__(
        self,
        client: AsyncWebClient,
        ttl: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        *,
        people: People | None = None,
    ) -> None:
        self.client = client
        self.people = people or People(client, ttl, clock)
        self._members: TTLCache[frozenset[str]] = TTLCache(ttl, clock)
        self._channels: TTLCache[frozenset[str]] = TTLCache(ttl, clock)

    async def members(self, channel_id: str) -> frozenset[str] | None:
        """The user ids in a channel (``conversations.members``); None when Slack would not say
        (a private channel Debrief is not in, a DM between other people, an error)."""
        cached = self._members.get(channel_id)
        if cached is not None:
            return cached
        found = await self._collect(
            lambda cursor: self.client.conversations_members(
                channel=channel_id, limit=PAGE_SIZE, cursor=cursor
            ),
            lambda page: page.get("members") or [],
            f"members of {channel_id}",
        )
        if found is not None:
            self._members.put(channel_id, found)
        return found

    async def channels_of(self, user_id: str) -> frozenset[str] | None:
        """The channels a person is in that Debrief can see (``users.conversations``)."""
        cached = self._channels.get(user_id)
        if cached is not None:
            return cached
        found = await self._collect(
            lambda cursor: self.client.users_conversations(
                user=user_id, types=TYPES, limit=PAGE_SIZE, cursor=cursor
            ),
            lambda page: [c.get("id") for c in page.get("channels") or [] if isinstance(c, dict)],
            f"channels of {user_id}",
        )
        if found is not None:
            self._channels.put(user_id, found)
        return found

    async def is_member(self, user_id: str, channel_id: str) -> bool | None:
        """Whether a person is in a channel; None when Slack would not say."""
        mine = self._channels.get(user_id)
        if mine is not None and (channel_id in mine or not channel_id.startswith("D")):
            # users.conversations lists every channel of theirs Debrief can see; a DM is not
            # among the types asked for, so for a DM the channel's own members decide.
            return channel_id in mine
        members = await self.members(channel_id)
        return None if members is None else user_id in members

    async def is_admin(self, user_id: str) -> bool | None:
        """Whether a person is a workspace admin or owner (``users.info``); None when Slack
        would not say."""
        try:
            person = await self.people.get(user_id)
        except SlackApiError as exc:
            log.warning("cannot check whether %s is an admin: %s", user_id, slack_error(exc))
            return None
        return person.is_admin

    async def _collect(
        self,
        call: Callable[[str | None], Awaitable[Any]],
        items: Callable[[Any], list[Any]],
        what: str,
    ) -> frozenset[str] | None:
        found: set[str] = set()
        try:
            async for page in _pages(call):
                found.update(str(i) for i in items(page) if i)
        except SlackApiError as exc:
            log.info("Slack would not list the %s: %s", what, slack_error(exc))
            return None
        return frozenset(found)


async def _pages(call: Callable[[str | None], Awaitable[Any]]) -> AsyncIterator[Any]:
    """Every page of a cursor-paged Web API method."""
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = await call(cursor)
        yield page
        cursor = str((page.get("response_metadata") or {}).get("next_cursor") or "") or None
        if cursor is None:
            return
    log.warning("stopped paging after %d pages", MAX_PAGES)
