"""A Slack user's Claritalk connection at work: their client, keeping the refresh token alive,
and telling them (by DM) when it is connected or has lapsed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel

from bot.blockkit import SECTION_TEXT, link, mrkdwn
from bot.crypto import UnreadableSecret
from bot.jobs import JobRun
from bot.posting import PostKey
from bot.services import Services
from bot.store.db import transaction
from handlers.claritalk import access, store
from handlers.claritalk.links import InvalidLink, sign_link
from handlers.claritalk.settings import claritalk_settings
from providers.claritalk import ClaritalkClient, ConnectionLapsed, Token, UserTokenSource

log = logging.getLogger(__name__)

#: A link shown in answer to `/debrief claritalk connect`: used at once, so short-lived.
LINK_TTL = timedelta(minutes=15)
#: A reconnect link sent by DM, which may be read hours later.
RECONNECT_TTL = timedelta(hours=24)

JOB_NOTIFY = "claritalk.notify"


class NotifyJob(BaseModel):
    """Tell a user by DM that their connection is now ``connected`` or has ``lapsed``."""

    user_id: str
    kind: Literal["connected", "lapsed"]
    #: When it happened: with the kind, the message's natural key (one DM per event).
    at: datetime
    detail: str | None = None


def connect_link(services: Services, team_id: str, user_id: str, ttl: timedelta) -> str:
    """``PUBLIC_URL/claritalk/connect?t=…``, signed for this user and valid for ``ttl``."""
    settings = services.settings
    base = access.public_url(settings) or ""
    token = sign_link(settings.encryption_key_list(), team_id, user_id, services.clock() + ttl)
    return f"{base}{access.CONNECT_PATH}?t={token}"


def token_source(services: Services, user_id: str) -> UserTokenSource:
    """The user's stored tokens, refreshed before they expire and saved (encrypted) again."""
    settings = services.settings
    box = access.secret_box(settings)

    async def load() -> Token | None:
        try:
            return await store.load_token(services.sessions, box, user_id)
        except UnreadableSecret:
            # A key was dropped before `debrief rotate-keys` ran: only a new connection helps.
            raise ConnectionLapsed(
                "its stored tokens can no longer be decrypted (an encryption key was removed)"
            ) from None

    async def save(token: Token) -> None:
        if not await store.save_token(services.sessions, box, user_id, token, services.clock()):
            log.info("claritalk: %s disconnected during a refresh; pair dropped", user_id)

    return UserTokenSource(
        services.http,
        load=load,
        save=save,
        client_id=claritalk_settings(settings).claritalk_client_id or "",
        client_secret=settings.secret("claritalk_client_secret") or "",
        base_url=claritalk_settings(settings).claritalk_api_url,
        clock=lambda: services.clock().timestamp(),
    )


def user_client(services: Services, user_id: str) -> ClaritalkClient:
    """A Claritalk client acting as the Slack user's connected account."""
    return ClaritalkClient(
        services.http,
        token_source=token_source(services, user_id),
        base_url=claritalk_settings(services.settings).claritalk_api_url,
    )


async def lapse(services: Services, user_id: str, reason: str) -> bool:
    """The connection cannot be renewed: forget its tokens and tell the user, once."""
    now = services.clock()
    async with transaction(services.sessions) as session:
        first = await store.mark_lapsed(session, user_id, reason, now)
        if first:
            await services.queue.enqueue(
                session,
                JOB_NOTIFY,
                NotifyJob(user_id=user_id, kind="lapsed", at=now, detail=reason),
            )
    if first:
        log.warning("claritalk connection of %s lapsed: %s", user_id, reason)
    return first


def lapse_reason(error: ConnectionLapsed) -> str:
    """A short reason: Passport's hint ("Token has been revoked") rather than its boilerplate."""
    body = error.body
    if isinstance(body, Mapping):
        for key in ("hint", "error"):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return f"Claritalk says: {value.strip()[:200]}"
    return error.message[:300]


async def keep_alive(services: Services, older_than: timedelta) -> tuple[int, int]:
    """Refresh every connection whose pair is older than ``older_than``; (renewed, lapsed).

    A refresh token lapses 7 days after its last use, so using it well within that keeps a
    connection alive however long nobody needs it. Failures other than a lapse are left for
    the next run (the margin is days).
    """
    renewed = lapsed = 0
    for user_id in await store.due_for_refresh(services.sessions, services.clock() - older_than):
        try:
            await token_source(services, user_id).refresh_now()
        except ConnectionLapsed as exc:
            lapsed += await lapse(services, user_id, lapse_reason(exc))
        except Exception as exc:  # one failing user must not keep the others from renewing
            log.warning("claritalk: could not renew %s's connection yet: %s", user_id, exc)
        else:
            renewed += 1
    return renewed, lapsed


async def job_notify(services: Services, payload: NotifyJob, run: JobRun) -> None:
    """Send the DM; built here, at sending time, so that no link waits in the queue."""
    if payload.kind == "connected":
        connection = await store.get_connection(services.sessions, payload.user_id)
        if connection is None or connection.status != store.CONNECTED:
            return  # disconnected again before the DM went out
        who = connection.claritalk_name or connection.claritalk_email or "your account"
        if connection.claritalk_name and connection.claritalk_email:
            who = f"{connection.claritalk_name} ({connection.claritalk_email})"
        text = (
            f":white_check_mark: Your Claritalk account *{mrkdwn(who, 200)}* is connected to "
            "Debrief. "
            "Debrief keeps the connection alive by itself; `/debrief claritalk disconnect` "
            "forgets it."
        )
    else:
        team_id = ""
        connection = await store.get_connection(services.sessions, payload.user_id)
        if connection is not None:
            if connection.status == store.CONNECTED:
                return  # reconnected before the DM went out
            team_id = connection.team_id
        reason = f" ({mrkdwn(payload.detail, 300)})" if payload.detail else ""
        text = (
            f":warning: Your Claritalk connection has lapsed or was revoked{reason}, so Debrief "
            "can no longer use it. "
        )
        try:
            url = connect_link(services, team_id, payload.user_id, RECONNECT_TTL)
        except InvalidLink:  # no key left to sign with: the command still explains why
            text += "Run `/debrief claritalk connect` to connect it again."
        else:
            reconnect = link(url, "Reconnect Claritalk", url_limit=SECTION_TEXT - 500)
            text += (
                f"{reconnect} (this link is yours alone and works once, within 24 hours), or "
                "run `/debrief claritalk connect`."
            )
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    key = f"connection:{payload.user_id}:{payload.kind}:{int(payload.at.timestamp())}"
    await send_dm(services, payload.user_id, key, text, blocks)


async def send_dm(
    services: Services, user_id: str, key: str, text: str, blocks: list[dict[str, Any]]
) -> None:
    """A direct message to ``user_id``, posted once under ``key`` even if the job is retried."""
    opened = await services.slack.client.conversations_open(users=user_id)
    channel = str((opened.get("channel") or {}).get("id") or user_id)
    await services.posts.upsert(PostKey(store.PROVIDER, key, channel, "dm"), text, blocks)
