"""The calendar's section of its owner's App Home tab: the state, the policy (a select) and the
never-record words (an input), contributed through ``handlers.home``."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck

from bot.services import Services
from bot.slack import Block
from handlers import home
from handlers.calendar import repo
from handlers.calendar.blocks import CalendarLine, build_calendar_home_blocks
from handlers.calendar.kinds import JOB_REAPPLY, ReapplyUserJob
from handlers.calendar.listeners import never_words
from handlers.calendar.policy import SCOPES
from handlers.wiring import click_of

ACTION_POLICY = "calendar.policy"
ACTION_NEVER = "calendar.never_words"
ACTIONS = (ACTION_POLICY, ACTION_NEVER)


async def calendar_section(services: Services, user_id: str) -> list[Block]:
    """Shown to people with a calendar linked (or who set a policy); nothing to others."""
    links = await repo.links_of(services.sessions, user_id)
    if not links:
        return []
    policy = await repo.get_policy(services.sessions, user_id)
    return build_calendar_home_blocks(
        [CalendarLine(c.platform, c.state, c.state_detail, c.last_synced_at) for c in links],
        policy.scope,
        list(policy.never_words),
        ACTION_POLICY,
        ACTION_NEVER,
    )


async def handle_home_policy(ack: AsyncAck, body: dict[str, Any], services: Services) -> None:
    """The policy select or the never-words input on the Home tab."""
    await ack()
    click = click_of(body)
    action = (body.get("actions") or [{}])[0]
    if action.get("action_id") == ACTION_POLICY:
        scope = str((action.get("selected_option") or {}).get("value") or "")
        if scope not in SCOPES:
            return
        await repo.save_policy(
            services.sessions, team_id=click.team_id, user_id=click.user_id, scope=scope
        )
        notice = f"Calendar policy saved: {SCOPES[scope]}."
    else:
        words = str(action.get("value") or "").split()
        chosen = [] if words in ([], ["-"]) else never_words(words)
        await repo.save_policy(
            services.sessions, team_id=click.team_id, user_id=click.user_id, never_words=chosen
        )
        notice = "Never-record words saved."
    await services.queue.submit(JOB_REAPPLY, ReapplyUserJob(user_id=click.user_id))
    await home.republish(services, click.user_id, notice)
