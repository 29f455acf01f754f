"""The privacy rule in one place: may this person see, or change, this notetaker, room, digest
or action item?

A thing that belongs to a channel is shown only to that channel's members, and to the people it
is theirs (who started it; for an action item its assignee and who assigned it). It can be
stopped or changed by those people, the channel's members, or workspace admins. Membership and
the admin flags come from Slack (``bot.membership``, cached briefly); every listener and job that
lists or changes one of these things asks here, so the rule is the same wherever it is clicked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from bot.services import Services
from bot.store.models import SlackPost
from handlers.digest.items import PARENT_PART


@dataclass(frozen=True)
class Belongs:
    """Where a thing belongs: the channels it lives in, and the people it is theirs."""

    #: What it is, in a refusal: "notetaker", "room", "action item".
    noun: str
    #: The channels it was sent from or delivered to (empty: nobody's channel).
    channels: tuple[str, ...]
    #: People who may always see and change it: who started it, its assignee, who assigned it.
    owners: tuple[str, ...]
    #: Who the owners are, in a refusal: "the person who sent it".
    owners_are: str

    @classmethod
    def of(
        cls,
        noun: str,
        channels: Iterable[str | None],
        owners: Iterable[str | None],
        owners_are: str,
    ) -> Belongs:
        return cls(
            noun,
            tuple(dict.fromkeys(c for c in channels if c)),
            tuple(dict.fromkeys(o for o in owners if o)),
            owners_are,
        )


@dataclass(frozen=True)
class Verdict:
    """Whether a change is allowed, and if not, why (said to the person, privately)."""

    allowed: bool
    why: str = ""


async def digest_channels(services: Services, provider: str, meeting_id: str) -> list[str]:
    """The channels a meeting's digest was posted in (its parent message, part ``digest``)."""
    async with services.sessions() as session:
        rows = await session.execute(
            select(SlackPost.channel_id).where(
                SlackPost.provider == provider,
                SlackPost.meeting_id == meeting_id,
                SlackPost.part == PARENT_PART,
            )
        )
        return sorted(set(rows.scalars()))


async def in_channels(services: Services, user: str, channels: Iterable[str]) -> bool | None:
    """Whether ``user`` is in any of ``channels``: True, False, or None when Slack would not say
    for some channel and the others gave no True."""
    unknown = False
    for channel in channels:
        member = await services.membership.is_member(user, channel)
        if member:
            return True
        unknown = unknown or member is None
    return None if unknown else False


async def may_see(services: Services, user: str, thing: Belongs) -> bool:
    """Whether ``thing`` may be shown to ``user``: theirs, or in a channel they are in."""
    if user in thing.owners:
        return True
    return bool(await in_channels(services, user, thing.channels))


async def prepare_listing(services: Services, user: str) -> None:
    """Ask Slack once for ``user``'s channels before checking many things for them."""
    await services.membership.channels_of(user)


async def may_change(services: Services, user: str, thing: Belongs, verb: str) -> Verdict:
    """Whether ``user`` may ``verb`` (stop, end, change…) ``thing``; the refusal says why."""
    if user in thing.owners:
        return Verdict(True)
    member = await in_channels(services, user, thing.channels)
    if member:
        return Verdict(True)
    admin = await services.membership.is_admin(user)
    if admin:
        return Verdict(True)
    doubt = member is None or admin is None
    where = "members of the channel it belongs to, " if thing.channels else ""
    because = (
        "I could not check your channels or role with Slack"
        if doubt
        else "you are not in its channel, nor a workspace admin"
        if thing.channels
        else "you are not a workspace admin"
    )
    return Verdict(
        False,
        f"Only {thing.owners_are}, {where}or a workspace admin can {verb} this {thing.noun}, "
        f"and {because}; nothing was changed.",
    )
