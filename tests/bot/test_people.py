"""Who people are (``users.info``): one cached answer per person, shared by every use of it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.membership import SlackMembership
from bot.slack import ChannelPacer, People, SlackMessenger, create_slack_client
from handlers.claritalk.slack_names import slack_names
from sandbox.claritalk import ClaritalkStandIn
from sandbox.slack import SlackStandIn
from tests.conftest import FakeTime
from tests.handlers.claritalk.support import rig


@pytest.fixture
async def client(slack: SlackStandIn) -> AsyncIterator[AsyncWebClient]:
    async with aiohttp.ClientSession() as session:
        yield create_slack_client(slack.bot_token, slack.api_url, session)


async def test_one_users_info_serves_the_time_zone_the_admin_flag_and_the_name(
    sqlite_url: str,
) -> None:
    """The app's time zones, admin checks and connect-page names share one cache."""
    async with ClaritalkStandIn() as claritalk, rig(sqlite_url, claritalk) as r:
        zone = await r.services.slack.user_timezone("U0ADA")
        admin = await r.services.membership.is_admin("U0ADA")
        names = await slack_names(r.services, "", "U0ADA")
        assert zone == ZoneInfo("Europe/London")
        assert admin is True
        assert names.user == "Ada Lovelace (@ada)"
        assert [c["user"] for c in r.slack.calls_of("users.info")] == ["U0ADA"]


async def test_a_person_is_asked_for_again_once_the_answer_expires(
    slack: SlackStandIn, client: AsyncWebClient
) -> None:
    time = FakeTime()
    people = People(client, ttl=60, clock=time)
    messenger = SlackMessenger(client, ChannelPacer(0), people=people)
    membership = SlackMembership(client, ttl=60, clock=time, people=people)
    assert await membership.is_admin("U0ADA") is True
    time.now += 59
    assert await messenger.user_timezone("U0ADA") == ZoneInfo("Europe/London")
    assert len(slack.calls_of("users.info")) == 1
    slack.workspace.users["U0ADA"].is_admin = False
    time.now += 2
    assert await membership.is_admin("U0ADA") is False, "an admin flag taken away stops counting"
    assert len(slack.calls_of("users.info")) == 2


async def test_a_failed_lookup_is_not_kept(slack: SlackStandIn, client: AsyncWebClient) -> None:
    messenger = SlackMessenger(client, ChannelPacer(0))
    membership = SlackMembership(client, people=messenger.people)
    assert await messenger.user_timezone("U0NOBODY") == UTC
    assert await membership.is_admin("U0NOBODY") is None
    assert len(slack.calls_of("users.info")) == 2, "Slack is asked again, not a cached failure"
