"""Whose Slack account a connection is for: the shared lookup of the connect pages."""

from __future__ import annotations

from handlers.oauth.names import SlackNames, slack_names

__all__ = ["SlackNames", "slack_names"]
