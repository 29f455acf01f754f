"""Where a digest goes, and sending it there: the functions every provider calls.

``route_for`` picks the channel (the most specific rule, else ``DEBRIEF_DIGEST_CHANNEL``);
``publish_digest`` delivers there, or holds the digest and tells the operators when there is
nowhere to go. Held digests are posted as soon as a rule or the default channel takes them.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from pydantic import BaseModel
from slack_sdk.errors import SlackApiError

from bot.jobs import JobRun
from bot.meetings import Meeting
from bot.services import Services
from bot.slack import slack_error
from bot.store.db import transaction
from handlers.digest import (
    JOB_DELIVER,
    DeliveredDigest,
    DeliverJob,
    HeldForReview,
    deliver_digest,
)
from handlers.digest.render import provider_name
from handlers.digest.text import mrkdwn
from handlers.digest.understand import understand_meeting
from handlers.ops import JOB_NOTICE, NoticeJob
from handlers.routing import repo
from handlers.routing.rules import DEFAULT, EXTERNAL, choose, external_emails

log = logging.getLogger(__name__)

JOB_RELEASE_HELD = "routing.release_held"
#: How often held digests are offered to the routes again (a route added, a restart with
#: ``DEBRIEF_DIGEST_CHANNEL`` newly set).
RELEASE_SECONDS = 300.0
DOMAINS_STATE = "slack.internal_domains"
DOMAINS_MAX_AGE = timedelta(hours=1)


class ReleaseJob(BaseModel):
    pass


async def internal_domains(services: Services) -> frozenset[str]:
    """The workspace's own email domains: the setting, else those of its full members.

    Derived domains come from ``users.list`` (guests left out: they are often outsiders) and are
    kept for an hour. Empty when neither says, and then nobody counts as external.
    """
    configured = services.settings.internal_domain_list()
    if configured:
        return frozenset(configured)
    now = services.clock()
    cached = await repo.read_state(services.sessions, DOMAINS_STATE, DOMAINS_MAX_AGE, now)
    if cached is not None:
        return frozenset(cached.get("domains", []))
    domains: set[str] = set()
    cursor = None
    try:
        while True:
            answer = await services.slack.client.users_list(limit=1000, cursor=cursor)
            for member in answer.get("members") or []:
                if (
                    member.get("is_bot")
                    or member.get("deleted")
                    or member.get("is_restricted")
                    or member.get("is_ultra_restricted")
                    or member.get("id") == "USLACKBOT"
                ):
                    continue
                email = str((member.get("profile") or {}).get("email") or "")
                if "@" in email:
                    domains.add(email.rpartition("@")[2].strip().lower())
            cursor = (answer.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
    except SlackApiError as exc:
        log.warning(
            "cannot list the workspace's members (%s); set DEBRIEF_INTERNAL_DOMAINS so that "
            "external: routes work",
            slack_error(exc),
        )
        return frozenset()
    await repo.write_state(services.sessions, DOMAINS_STATE, {"domains": sorted(domains)}, now)
    return frozenset(domains)


async def route_for(services: Services, meeting: Meeting, *, home: str | None = None) -> str | None:
    """The channel for ``meeting``'s digest, or None when nothing says where it goes.

    ``home`` is the channel a meeting was asked for from (an Attendee notetaker's): it takes
    the place of the ``default`` rule and ``DEBRIEF_DIGEST_CHANNEL``, so only a more specific
    rule (``title:``, ``external:``, ``provider:`` …) sends the digest elsewhere.
    """
    rules = await repo.list_routes(services.sessions)
    if home is not None:
        rules = [rule for rule in rules if rule.kind != DEFAULT]
    external = False
    if any(rule.kind == EXTERNAL for rule in rules):
        external = bool(external_emails(meeting, await internal_domains(services)))
    rule = choose(rules, meeting, external=external)
    if rule is not None:
        return rule.channel
    return home or services.settings.digest_channel or None


async def publish_digest(
    services: Services, meeting: Meeting, *, owner: str | None = None
) -> DeliveredDigest | HeldForReview | None:
    """Fill in what the provider left out, then deliver ``meeting``'s digest where its route
    says (a ``title:`` rule sees the engine's title), or hold it (None) if nowhere.

    ``owner``: the Slack user the meeting is theirs, when the caller knows: an external
    meeting's digest waits for their review (:class:`HeldForReview`) before it is posted.
    """
    meeting = await understand_meeting(services, meeting)
    channel = await route_for(services, meeting)
    if channel is None:
        await hold_digest(services, meeting)
        return None
    return await deliver_digest(services, meeting, channel, owner=owner)


async def hold_digest(services: Services, meeting: Meeting) -> None:
    """Store a digest with nowhere to go and tell the operators, once per meeting."""
    async with transaction(services.sessions) as session:
        fresh = await repo.hold(session, meeting, services.clock())
        if fresh:
            title = mrkdwn(meeting.title, 200)
            text = (
                f":inbox_tray: *A digest is waiting for a channel*: “{title}” from "
                f"{provider_name(meeting.provider)}. No routing rule matches it and "
                "`DEBRIEF_DIGEST_CHANNEL` is not set, so Debrief keeps it. Add a route "
                "(`/debrief route default #channel`) and held digests are posted there."
            )
            await services.queue.enqueue(session, JOB_NOTICE, NoticeJob(text=text))
    log.warning(
        "held the digest of %s %s: no route and no DEBRIEF_DIGEST_CHANNEL",
        meeting.provider,
        meeting.meeting_id,
    )


async def job_release_held(services: Services, payload: ReleaseJob, run: JobRun) -> None:
    """Hand every held digest that now has a channel to a delivery job."""
    for row in await repo.held(services.sessions):
        meeting = Meeting.model_validate(row.meeting)
        channel = await route_for(services, meeting)
        if channel is None:
            continue
        async with transaction(services.sessions) as session:
            if await repo.unhold(session, row.provider, row.meeting_id):
                await services.queue.enqueue(
                    session,
                    JOB_DELIVER,
                    DeliverJob(meeting=meeting.model_dump(mode="json"), channel=channel),
                )
        log.info("released the held digest of %s %s to %s", row.provider, row.meeting_id, channel)


async def release_held_soon(services: Services) -> None:
    """Enqueue a release of held digests, if any are held."""
    if await repo.held_count(services.sessions):
        await services.queue.submit(JOB_RELEASE_HELD, ReleaseJob())
