"""Digest routing: rules that say which channel a meeting's digest goes to.

Providers call :func:`route_for` (the channel, or None) or :func:`publish_digest` (route, then
deliver, or hold and tell the operators when nothing says where).
"""

from __future__ import annotations

from bot.config import Settings
from handlers.routing import listeners
from handlers.routing.publish import (
    JOB_RELEASE_HELD,
    RELEASE_SECONDS,
    ReleaseJob,
    hold_digest,
    internal_domains,
    job_release_held,
    publish_digest,
    route_for,
)
from handlers.wiring import Wiring

__all__ = [
    "JOB_RELEASE_HELD",
    "hold_digest",
    "internal_domains",
    "publish_digest",
    "register",
    "route_for",
    "schedule",
]


def register(wiring: Wiring) -> None:
    commands = wiring.commands
    commands.add(
        "route",
        listeners.ROUTE_USAGE,
        "Send some meetings' digests to a channel",
        listeners.handle_route,
    )
    commands.add("routes", "routes", "Show where digests go", listeners.handle_routes)
    commands.add(
        "unroute", listeners.UNROUTE_USAGE, "Remove a digest route", listeners.handle_unroute
    )
    wiring.jobs.add(JOB_RELEASE_HELD, job_release_held, ReleaseJob, max_attempts=3)


def schedule(settings: Settings) -> list[tuple[str, float]]:
    """Held digests are offered to the routes again now and then (e.g. after a restart with
    ``DEBRIEF_DIGEST_CHANNEL`` newly set)."""
    return [(JOB_RELEASE_HELD, RELEASE_SECONDS)]
