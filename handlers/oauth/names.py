"""Whose Slack account a connection is for, in words a person recognises on the connect pages."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackClientError

from bot.services import Services

log = logging.getLogger(__name__)

#: A page waits this long for Slack at most (a 429's Retry-After could be a minute): then ids.
LOOKUP_SECONDS = 5.0


@dataclass(frozen=True)
class SlackNames:
    """A Slack user and workspace as they appear in Slack (ids when Slack would not say)."""

    user: str
    workspace: str

    def account(self) -> str:
        """``Ada Lovelace (@ada) in the “Acme” Slack workspace``."""
        if not self.workspace:
            return self.user
        return f"{self.user} in the “{self.workspace}” Slack workspace"


async def _user(services: Services, user_id: str) -> str:
    try:
        async with asyncio.timeout(LOOKUP_SECONDS):
            person = await services.slack.people.get(user_id)
    except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
        log.info("connect page: no name for %s (%r)", user_id, exc)
        return user_id
    return person.label()


async def _workspace(services: Services, team_id: str) -> str:
    client = services.slack.client
    try:
        async with asyncio.timeout(LOOKUP_SECONDS):
            answer = await (client.team_info(team=team_id) if team_id else client.team_info())
    except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
        log.info("connect page: no name for workspace %s (%r)", team_id, exc)
        return team_id
    team = answer.get("team")
    if isinstance(team, dict) and (team.get("name") or team.get("domain")):
        return str(team.get("name") or team.get("domain"))
    return team_id


async def slack_names(services: Services, team_id: str, user_id: str) -> SlackNames:
    """The user's name (``users.info``) and the workspace's (``team.info``); each falls back to
    its id, so that a Slack outage still leaves the page saying whose account it is."""
    user, workspace = await asyncio.gather(_user(services, user_id), _workspace(services, team_id))
    return SlackNames(user, workspace)
