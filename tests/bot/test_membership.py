"""Channel membership and admin flags from the Slack stand-in: paged, cached, and expired."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.membership import PAGE_SIZE, SlackMembership
from sandbox.slack import SlackStandIn
from sandbox.slack.state import Channel
from tests.conftest import FakeTime


@pytest.fixture
async def client(slack: SlackStandIn) -> AsyncIterator[AsyncWebClient]:
    async with aiohttp.ClientSession() as session:
        yield AsyncWebClient(token=slack.bot_token, base_url=slack.api_url, session=session)


async def test_members_follow_every_page(slack: SlackStandIn, client: AsyncWebClient) -> None:
    crowd = {f"U{n:06d}" for n in range(PAGE_SIZE * 2 + 17)}
    slack.workspace.channels["C0ENG"].members |= crowd
    membership = SlackMembership(client, ttl=60, clock=FakeTime())
    members = await membership.members("C0ENG")
    assert members is not None and crowd <= members and "U0ALAN" in members
    calls = slack.calls_of("conversations.members")
    assert len(calls) == 3, "three pages of 200"
    assert [bool(c.get("cursor")) for c in calls] == [False, True, True]
    # The last member of the last page counts like the first.
    assert await membership.is_member(max(crowd), "C0ENG") is True


async def test_answers_are_reused_until_they_expire(
    slack: SlackStandIn, client: AsyncWebClient
) -> None:
    time = FakeTime()
    membership = SlackMembership(client, ttl=60, clock=time)
    assert await membership.is_member("U0ALAN", "C0LEADERSHIP") is False
    slack.workspace.channels["C0LEADERSHIP"].members.add("U0ALAN")
    time.advance(59)
    assert await membership.is_member("U0ALAN", "C0LEADERSHIP") is False, "still cached"
    assert len(slack.calls_of("conversations.members")) == 1
    time.advance(2)
    assert await membership.is_member("U0ALAN", "C0LEADERSHIP") is True
    assert len(slack.calls_of("conversations.members")) == 2

    assert await membership.is_admin("U0ADA") is True
    assert await membership.is_admin("U0ADA") is True
    assert len(slack.calls_of("users.info")) == 1
    slack.workspace.users["U0ADA"].is_admin = False
    time.advance(61)
    assert await membership.is_admin("U0ADA") is False


async def test_a_persons_channels_are_paged_and_answer_membership(
    slack: SlackStandIn, client: AsyncWebClient
) -> None:
    for n in range(PAGE_SIZE + 5):
        slack.workspace.channels[f"C{n:07d}"] = Channel(
            f"C{n:07d}", f"room-{n}", members={"U0GRACE"}
        )
    membership = SlackMembership(client, ttl=60, clock=FakeTime())
    channels = await membership.channels_of("U0GRACE")
    assert channels is not None and "C0LEADERSHIP" in channels and "C0000204" in channels
    assert len(slack.calls_of("users.conversations")) == 2
    # Answered from that list: no conversations.members call at all.
    assert await membership.is_member("U0GRACE", "C0LEADERSHIP") is True
    assert await membership.is_member("U0GRACE", "C0RANDOM") is True
    assert await membership.is_member("U0GRACE", "C0HR") is False
    assert slack.calls_of("conversations.members") == []


async def test_what_slack_will_not_say_is_unknown_and_not_cached(
    slack: SlackStandIn, client: AsyncWebClient
) -> None:
    membership = SlackMembership(client, ttl=60, clock=FakeTime())
    # #hr is private and Debrief is not in it: Slack answers channel_not_found.
    assert await membership.members("C0HR") is None
    assert await membership.is_member("U0ADA", "C0HR") is None
    assert len(slack.calls_of("conversations.members")) == 2, "asked again, not cached"
    assert await membership.is_admin("U0NOBODY") is None
