"""Whose Slack account a connection is for, in words a person recognises on the connect pages."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackClientError

from bot.services import Services

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SlackNames:
    """A Slack user and workspace as they appear in Slack (ids when Slack would not say)."""

    user: str
    workspace: str

    def account(self) -> str:
        """``Ada Lovelace (@ada) in the “Acme” Slack workspace``."""
        return (
            f"{self.user} in the “{self.workspace}” Slack workspace"
            if self.workspace
            else self.user
        )


def user_label(user: dict[str, object], fallback: str) -> str:
    """``Ada Lovelace (@ada)``: the full name and the handle people mention."""
    profile = user.get("profile")
    profile = profile if isinstance(profile, dict) else {}
    real = str(user.get("real_name") or profile.get("real_name") or "").strip()
    handle = str(profile.get("display_name") or user.get("name") or "").strip()
    if real and handle and handle != real:
        return f"{real} (@{handle})"
    if real or handle:
        return real or f"@{handle}"
    return fallback


async def slack_names(services: Services, team_id: str, user_id: str) -> SlackNames:
    """The user's name (``users.info``) and the workspace's (``team.info``); each falls back to
    its id, so that a Slack outage still leaves the page saying whose account it is."""
    client = services.slack.client
    user, workspace = user_id, team_id
    try:
        answer = await client.users_info(user=user_id)
        found = answer.get("user")
        if isinstance(found, dict):
            user = user_label(found, user)
    except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
        log.info("claritalk connect: no name for %s (%s)", user_id, exc)
    try:
        answer = await (client.team_info(team=team_id) if team_id else client.team_info())
        team = answer.get("team")
        if isinstance(team, dict) and (team.get("name") or team.get("domain")):
            workspace = str(team.get("name") or team.get("domain"))
    except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
        log.info("claritalk connect: no name for workspace %s (%s)", team_id, exc)
    return SlackNames(user, workspace)
