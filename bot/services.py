"""The one object listeners, web routes and jobs are given: everything built at start-up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from providers.attendee import AttendeeClient
    from providers.claritalk import ClaritalkClient
    from providers.otter import OtterClient
    from providers.whereby import WherebyClient


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
    attendee: AttendeeClient | None = None
    otter: OtterClient | None = None
    whereby: WherebyClient | None = None
    #: Debrief's own Claritalk access: a Personal Access Token, else the service account.
    claritalk: ClaritalkClient | None = None
    clock: Callable[[], datetime] = field(default=utcnow)
    #: Fills what a provider left out of a meeting (title, summary, decisions, action items).
    understanding: Engine = field(default_factory=EmbeddedEngine)

    def require_attendee(self) -> AttendeeClient:
        """The Attendee client, or a clear refusal when Attendee is not configured."""
        if self.attendee is None:
            raise UserFacingError(
                "Attendee is not set up on this Debrief: an admin needs to set `ATTENDEE_API_KEY` "
                "and `ATTENDEE_WEBHOOK_SECRET` (see `debrief doctor`)."
            )
        return self.attendee

    def require_otter(self) -> OtterClient:
        """The Otter client, or a clear refusal when Otter is not configured."""
        if self.otter is None:
            raise UserFacingError(
                "Otter.ai is not set up on this Debrief: an admin needs to set `OTTER_API_KEY` "
                "(see `debrief doctor`)."
            )
        return self.otter

    def require_whereby(self) -> WherebyClient:
        """The Whereby client, or a clear refusal when Whereby is not configured."""
        if self.whereby is None:
            raise UserFacingError(
                "Whereby is not set up on this Debrief: an admin needs to set `WHEREBY_API_KEY` "
                "(see `debrief doctor`)."
            )
        return self.whereby

    def require_claritalk(self) -> ClaritalkClient:
        """Debrief's Claritalk client, or a clear refusal when it has no credentials."""
        if self.claritalk is None:
            raise UserFacingError(
                "Claritalk is not set up on this Debrief: an admin needs to set `CLARITALK_TOKEN`, "
                "or `CLARITALK_CLIENT_ID` and `CLARITALK_CLIENT_SECRET` (see `debrief doctor`)."
            )
        return self.claritalk


SERVICES = web.AppKey("services", Services)
