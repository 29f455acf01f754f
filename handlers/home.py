"""The App Home tab is one view that several features fill: action items publish it
(``handlers.action_items``) and other features contribute sections of their own here, so the
publisher imports none of them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.services import Services
from bot.slack import Block

#: A feature's part of someone's Home tab: its blocks for that user (none to show nothing).
HomeSection = Callable[[Services, str], Awaitable[list[Block]]]

_SECTIONS: dict[str, HomeSection] = {}
#: The job that publishes someone's Home tab (``handlers.action_items``'s), payload
#: ``{"user_id", "notice"}``.
PUBLISH_JOB = "action_items.home"


def add_section(name: str, section: HomeSection) -> None:
    """Contribute a section (a feature's ``register`` calls this; again replaces it)."""
    _SECTIONS[name] = section


async def sections(services: Services, user_id: str) -> list[Block]:
    """Every contributed section's blocks for ``user_id``, in the order they were added."""
    blocks: list[Block] = []
    for section in _SECTIONS.values():
        blocks.extend(await section(services, user_id))
    return blocks


async def republish(services: Services, user_id: str, notice: str | None = None) -> None:
    """Publish ``user_id``'s Home tab again, with ``notice`` (Debrief's own words) on top."""
    await services.queue.submit(PUBLISH_JOB, {"user_id": user_id, "notice": notice})
