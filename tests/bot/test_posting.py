"""The posting ledger on top of the Web API wrapper: one pacing for both, and what it keeps."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.posting import PostKey, PostLedger
from bot.slack import ChannelPacer, SlackMessenger, create_slack_client
from bot.store.db import create_engine, create_sessionmaker
from sandbox.slack import SlackStandIn


class Waits:
    """A pacer clock that stands still, recording every wait."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.seconds.append(seconds)


@pytest.fixture
async def paced(
    slack: SlackStandIn, database_url: str
) -> AsyncIterator[tuple[SlackMessenger, PostLedger, Waits]]:
    waits = Waits()
    engine = create_engine(database_url)
    async with aiohttp.ClientSession() as session:
        client = create_slack_client(slack.bot_token, slack.api_url, session)
        messenger = SlackMessenger(client, ChannelPacer(1.0, clock=lambda: 0.0, sleep=waits.sleep))
        yield messenger, PostLedger(messenger, create_sessionmaker(engine)), waits
    await engine.dispose()


async def test_the_ledger_and_the_messenger_share_one_pacing_per_channel(
    slack: SlackStandIn, paced: tuple[SlackMessenger, PostLedger, Waits]
) -> None:
    messenger, posts, waits = paced
    await posts.upsert(PostKey("otter", "m1", "C0MEETINGS", "digest"), "first")
    await messenger.post("C0MEETINGS", "second")
    await posts.upsert(PostKey("otter", "m2", "C0MEETINGS", "digest"), "third")
    assert waits.seconds == [1.0, 2.0], "a ledger post waits its turn behind a plain one"
    assert [m.text for m in slack.messages("C0MEETINGS")] == ["first", "second", "third"]


async def test_an_unchanged_message_costs_no_slack_call_and_is_remembered(
    slack: SlackStandIn, paced: tuple[SlackMessenger, PostLedger, Waits]
) -> None:
    _, posts, _ = paced
    key = PostKey("whereby", "room-1", "C0MEETINGS", "room")
    posted = await posts.upsert(key, "Room open", thread_ts=None)
    calls = len(slack.calls)
    assert not (await posts.upsert(key, "Room open")).changed
    assert len(slack.calls) == calls, "the ledger answered from the database alone"
    (stored,) = await posts.parts("whereby", "room-1", "C0MEETINGS")
    assert (stored.part, stored.ts) == ("room", posted.ts)
