"""Inbound adapters, one module or package per feature."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.slack import slack_verdict
from handlers import (
    action_items,
    attendee,
    claritalk,
    commands,
    digest,
    ops,
    otter,
    retention,
    routing,
    search,
    whereby,
)
from handlers.wiring import Wiring

#: Every feature, in the order its subcommands appear in `/debrief help`.
FEATURES = (
    commands,
    attendee,
    otter,
    whereby,
    claritalk,
    routing,
    action_items,
    digest,
    search,
    ops,
    retention,
)
#: Features with periodic jobs: ``schedule(settings)`` gives (job kind, seconds) for those on.
SCHEDULED = (otter, routing, claritalk, action_items, whereby, retention)


#: Bot scopes each Web API method the code calls needs; manifest.yml must grant them all.
BOT_SCOPES = frozenset(
    {
        "commands",  # /debrief
        "app_mentions:read",  # a question to the app in a digest's thread (handlers.search)
        "chat:write",  # chat.postMessage, chat.update, chat.delete, chat.postEphemeral
        "channels:history",  # find a message posted before a crash by its metadata
        "groups:history",  # ... in private channels too
        "channels:join",  # conversations.join when posting to a public channel first time
        "files:write",  # files.getUploadURLExternal / files.completeUploadExternal
        "files:read",  # files.info: was a retried upload shared already (Claritalk PDFs)
        "im:write",  # conversations.open for DMs (assignments, reminders, Claritalk connections)
        "users:read",  # users.info (time zones, admins: privacy rule), users.list (domains)
        "users:read.email",  # the caller's email for /debrief recent; workspace email domains
        # conversations.list/info to resolve #channel in /debrief route; conversations.members
        # and users.conversations for the privacy rule (bot.membership, handlers.access)
        "channels:read",
        "groups:read",  # ... and for private channels Debrief was invited to
    }
)
#: Events API subscriptions the features listen to.
BOT_EVENTS: frozenset[str] = frozenset((*action_items.EVENTS, *search.EVENTS))
#: Slash commands and interactive action ids, from every feature.
SLASH_COMMANDS = (commands.COMMAND,)
ACTION_IDS = (
    *attendee.ACTIONS,
    *otter.ACTIONS,
    *whereby.ACTIONS,
    *claritalk.ACTIONS,
    *action_items.ACTIONS,
)


def register_all(wiring: Wiring) -> None:
    # Every feature's jobs call Slack; its errors cannot declare their retryability themselves.
    wiring.jobs.judge(SlackApiError, slack_verdict)
    for feature in FEATURES:
        feature.register(wiring)


def periodic_jobs(settings: Settings) -> list[tuple[str, float]]:
    """(job kind, interval in seconds) of every feature's periodic job that is on."""
    return [job for feature in SCHEDULED for job in feature.schedule(settings)]
