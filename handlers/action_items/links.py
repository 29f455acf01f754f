"""Where an action item can be seen: permalinks to the digest message that shows it (asked of
Slack once per message, then kept), and the DM channel with a person.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from bot.services import Services
from bot.slack import slack_error
from bot.store.db import insert_ignore, transaction
from bot.store.models import SlackPost
from handlers.action_items.repo import ItemState
from handlers.action_items.tables import SlackPermalink
from handlers.digest.items import PARENT_PART, item_part

log = logging.getLogger(__name__)


async def permalink(services: Services, channel: str, ts: str) -> str | None:
    """The permalink of a message (``chat.getPermalink``, kept); None when Slack cannot say."""
    async with services.sessions() as session:
        cached = await session.get(SlackPermalink, (channel, ts))
        if cached is not None:
            return cached.url
    try:
        answer = await services.slack.client.chat_getPermalink(channel=channel, message_ts=ts)
    except SlackApiError as exc:
        log.info("no permalink for %s in %s (%s)", ts, channel, slack_error(exc))
        return None
    url = str(answer.get("permalink") or "")
    if not url:
        return None
    async with transaction(services.sessions) as session:
        await insert_ignore(
            session,
            SlackPermalink,
            {"channel_id": channel, "ts": ts, "url": url, "created_at": services.clock()},
        )
    return url


async def digest_posts(
    services: Services, provider: str, meeting_id: str, part: str
) -> list[SlackPost]:
    """One message (``part``) of a meeting's digest in every channel it went to, newest first."""
    async with services.sessions() as session:
        rows = await session.execute(
            select(SlackPost)
            .where(
                SlackPost.provider == provider,
                SlackPost.meeting_id == meeting_id,
                SlackPost.part == part,
            )
            .order_by(SlackPost.updated_at.desc())
        )
        return list(rows.scalars())


async def item_link(
    services: Services, item: ItemState, *, channel: str | None = None
) -> str | None:
    """A link to the digest message showing ``item`` (in ``channel`` when it is there)."""
    part = item_part(item.position) if item.position else PARENT_PART
    posts = await digest_posts(services, item.provider, item.meeting_id, part)
    if not posts and part != PARENT_PART:
        posts = await digest_posts(services, item.provider, item.meeting_id, PARENT_PART)
    chosen = next((p for p in posts if p.channel_id == channel), posts[0] if posts else None)
    return await permalink(services, chosen.channel_id, chosen.ts) if chosen else None


async def meeting_link(services: Services, provider: str, meeting_id: str) -> str | None:
    """A link to the parent message of a meeting's most recent digest."""
    posts = await digest_posts(services, provider, meeting_id, PARENT_PART)
    return await permalink(services, posts[0].channel_id, posts[0].ts) if posts else None
