"""Fixtures of the bot/ tests that talk to Slack: a Slack stand-in, a messenger on it and the
posting ledger over that messenger."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.posting import PostLedger
from bot.slack import ChannelPacer, SlackMessenger, create_slack_client
from bot.store.db import create_engine, create_sessionmaker
from sandbox.slack import SlackStandIn


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    async with SlackStandIn() as standin:
        yield standin


@pytest.fixture
async def messenger(slack: SlackStandIn) -> AsyncIterator[SlackMessenger]:
    async with aiohttp.ClientSession() as session:
        client = create_slack_client(slack.bot_token, slack.api_url, session)
        yield SlackMessenger(client, ChannelPacer(0))


@pytest.fixture
async def posts(messenger: SlackMessenger, database_url: str) -> AsyncIterator[PostLedger]:
    engine = create_engine(database_url)
    yield PostLedger(messenger, create_sessionmaker(engine))
    await engine.dispose()
