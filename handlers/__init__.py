"""Inbound adapters, one module or package per feature."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.plugins import AnyProvider
from bot.slack import slack_verdict
from handlers import action_items, commands, digest, ops, retention, review, routing, search
from handlers.wiring import Wiring

#: Every feature that is no provider's, in the order its subcommands appear in `/debrief help`
#: (the providers' own come after ``commands``: see ``register_all``).
FEATURES = (commands, routing, action_items, digest, review, search, ops, retention)
#: Features with periodic jobs: ``schedule(settings)`` gives (job kind, seconds) for those on.
SCHEDULED = (routing, action_items, retention)


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
#: ``ACTION_IDS``: the installed providers' action ids (their descriptors'), then the features'
#: (read from the registry when asked for, since the registry imports this package).


def __getattr__(name: str) -> Any:
    if name == "ACTION_IDS":
        from handlers.registry import PROVIDERS

        return (
            *(a for p in PROVIDERS for a in p.actions),
            *action_items.ACTIONS,
            *review.ACTIONS,
        )
    raise AttributeError(f"module 'handlers' has no attribute {name!r}")


def register_all(wiring: Wiring, providers: Sequence[AnyProvider]) -> None:
    """Wire every feature and each of ``providers`` (the installed ones: ``handlers.registry``)."""
    # Every feature's jobs call Slack; its errors cannot declare their retryability themselves.
    wiring.jobs.judge(SlackApiError, slack_verdict)
    first, *rest = FEATURES
    first.register(wiring)
    for provider in providers:
        provider.register(wiring)
        if provider.meetings:
            # Its digests say its display name, and routes accept its name.
            digest.render.REGISTERED_NAMES[provider.name] = provider.display_name
        if provider.folder_rule is not None:
            # Its own routing target (`/debrief route <word>:<folder> #channel`).
            rule = provider.folder_rule
            routing.rules.REGISTERED_FOLDERS[rule.word] = (provider.name, rule)
    for feature in rest:
        feature.register(wiring)


def periodic_jobs(settings: Settings) -> list[tuple[str, float]]:
    """(job kind, interval in seconds) of every feature's and installed provider's periodic
    job that is on."""
    own = [job for provider in settings.providers for job in provider.schedule(settings)]
    return own + [job for feature in SCHEDULED for job in feature.schedule(settings)]
