"""Per-person limits on the commands that create something at a provider.

A hundred `/debrief room 1440` typed in a second by one person would otherwise open a hundred
video rooms and spend the organisation's budget at that provider; ten `/debrief join` would send
ten notetakers. Each person has, for each kind of thing, a budget on the shared rate ledger
(:class:`bot.budgets.DatabaseLedger`, the one the provider budgets use), spent in the very
transaction that enqueues the creating job. Taking the budget's row lock there makes the check
and the count one step however many processes share the database, and a refusal or a failed
enqueue rolls the count back with everything else.

Nobody is exempt, workspace admins included: knowing who is an admin takes a call to Slack
before the command can be answered, and an admin's account floods a provider as well as anyone's.
An operator who wants more raises the setting (0 turns a limit off).
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.budgets import DatabaseLedger
from bot.errors import UserFacingError
from bot.services import Services

log = logging.getLogger(__name__)

#: Limits are counted over any sliding hour.
WINDOW_SECONDS = 3600.0
#: ``rate_budgets.name`` holds 64 characters.
_NAME_CHARS = 64


@dataclass(frozen=True)
class PersonalLimit:
    """At most ``per_hour`` ``things`` created by one person in any hour; 0 means no limit."""

    #: Names the budget: ``notetakers``, ``rooms``.
    kind: str
    per_hour: int
    #: What is counted and how one gets it, for the refusal: "notetakers", "send".
    things: str
    verb: str


class LimitReached(UserFacingError):
    """The person has created as many as the limit allows; ``retry_after`` seconds until one
    more fits."""

    def __init__(self, limit: PersonalLimit, retry_after: float) -> None:
        super().__init__(
            f"Sorry, you have reached the per-person limit on {limit.things} "
            f"({limit.per_hour} an hour), so I did not {limit.verb} this one. "
            f"You can {limit.verb} another {in_words(retry_after)}."
        )
        self.retry_after = retry_after


def in_words(seconds: float) -> str:
    """A wait as people say it: "in a minute", "in 12 minutes", "in an hour" (rounded up, so
    that trying again then succeeds)."""
    minutes = max(1, math.ceil(seconds / 60))
    if minutes == 1:
        return "in a minute"
    if minutes < 60:
        return f"in {minutes} minutes"
    hours, rest = divmod(minutes, 60)
    head = "an hour" if hours == 1 else f"{hours} hours"
    if not rest:
        return f"in {head}"
    return f"in {head} and {rest} minute{'s' if rest > 1 else ''}"


def budget_name(limit: PersonalLimit, team_id: str, user_id: str) -> str:
    """The ledger budget of one person's limit."""
    name = f"limit.{limit.kind}:{team_id}:{user_id}"
    if len(name) <= _NAME_CHARS:
        return name
    digest = hashlib.sha256(f"{team_id}\n{user_id}".encode()).hexdigest()
    return f"limit.{limit.kind}:{digest}"[:_NAME_CHARS]


async def count(
    session: AsyncSession, services: Services, limit: PersonalLimit, team_id: str, user_id: str
) -> None:
    """Count one more of ``limit``'s things for a person, in ``session``'s transaction.

    Call it in the transaction that enqueues the job creating the thing, and let the
    transaction end there: the person's budget stays locked until it does.

    Raises:
        LimitReached: the person is at the limit; nothing was counted (roll back the rest).
    """
    if limit.per_hour <= 0:
        return
    ledger = DatabaseLedger(
        services.sessions,
        budget_name(limit, team_id, user_id),
        limit.per_hour,
        clock=lambda: services.clock().timestamp(),
    )
    now = services.clock().timestamp()
    wait = await ledger.spend(1, now, WINDOW_SECONDS, session=session)
    if wait > 0:
        services.metrics.inc(
            "debrief_limit_refusals_total",
            help="Commands refused by a per-person limit",
            kind=limit.kind,
        )
        log.info(
            "%s refused to %s in %s: %s per hour reached",
            limit.kind,
            user_id,
            team_id,
            limit.per_hour,
        )
        raise LimitReached(limit, wait)
