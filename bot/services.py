"""The one object listeners, web routes and jobs are given: everything built at start-up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar, cast

import httpx
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.errors import UserFacingError
from bot.jobs import JobQueue
from bot.membership import SlackMembership
from bot.metrics import Metrics
from bot.posting import PostLedger
from bot.slack import SlackMessenger
from bot.store.models import utcnow
from understanding.embedded import EmbeddedEngine
from understanding.types import Engine

C = TypeVar("C")


@dataclass
class Services:
    """Shared, long-lived collaborators; built by ``bot.app`` and closed by it."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    queue: JobQueue
    slack: SlackMessenger
    #: A meeting's messages under their natural keys (post once, then update in place).
    posts: PostLedger
    membership: SlackMembership
    metrics: Metrics
    http: httpx.AsyncClient
    #: Each installed provider's client by its type, None when the provider is not configured.
    clients: dict[type, Any] = field(default_factory=dict)
    #: What a person is told when using a provider that is not configured, by client type.
    not_set_up: dict[type, str] = field(default_factory=dict)
    clock: Callable[[], datetime] = field(default=utcnow)
    #: Fills what a provider left out of a meeting (title, summary, decisions, action items).
    understanding: Engine = field(default_factory=EmbeddedEngine)

    def client(self, kind: type[C]) -> C | None:
        """A provider's client, by its type; None when that provider is not configured."""
        return cast("C | None", self.clients.get(kind))

    def require(self, kind: type[C]) -> C:
        """A provider's client, or a clear refusal when that provider is not configured."""
        client = self.client(kind)
        if client is None:
            raise UserFacingError(
                self.not_set_up.get(kind, "This provider is not set up on this Debrief.")
            )
        return client


SERVICES = web.AppKey("services", Services)
