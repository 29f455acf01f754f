"""Fixtures of the bot/ tests that talk to Slack: a Slack stand-in and a messenger on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.slack import ChannelPacer, SlackMessenger, create_slack_client
from bot.store.db import create_engine, create_sessionmaker
from sandbox.slack import SlackStandIn


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    async with SlackStandIn() as standin:
        yield standin


@pytest.fixture
async def messenger(slack: SlackStandIn, database_url: str) -> AsyncIterator[SlackMessenger]:
    engine = create_engine(database_url)
    async with aiohttp.ClientSession() as session:
        client = create_slack_client(slack.bot_token, slack.api_url, session)
        yield SlackMessenger(client, create_sessionmaker(engine), ChannelPacer(0))
    await engine.dispose()
