"""Slack listeners of the review message: *Share*, *Keep private*, *Edit summary* and its modal.

Only the review's owner (or, for one nobody owns, a route admin) may press its buttons; anyone
else is told privately and nothing changes. A decision is written as a job keyed by the review
(a double click, or a click delivered twice, is one job) before Slack gets its ack; the modal
opens at once, since its trigger lasts three seconds.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck
from slack_sdk.errors import SlackApiError
from sqlalchemy import update

from bot.services import Services
from bot.slack import slack_error
from bot.store.db import transaction
from handlers.review.blocks import (
    ACTION_PRIVATE,
    ACTION_SHARE,
    SUMMARY_BLOCK,
    SUMMARY_INPUT,
    SUMMARY_LIMIT,
    build_edit_modal,
)
from handlers.review.gate import (
    JOB_DECIDE,
    JOB_SHOW,
    DecideJob,
    ShowJob,
    get_review,
    may_decide,
    stored_meeting,
    withheld,
)
from handlers.review.tables import PENDING, DigestReview
from handlers.wiring import click_of, enqueue_then_ack, tell_clicker

log = logging.getLogger(__name__)

_REVIEW_ID = re.compile(r"^[1-9][0-9]{0,17}$")
NOT_YOURS = (
    "Only the person this meeting belongs to can share it, edit it or keep it private"
    " (for one nobody owns, a route admin). Nothing changed."
)
UNKNOWN = "I do not know that review any more, so nothing changed."
DECIDED = "That digest has been decided on already, so nothing changed."


def _review_id(value: Any) -> int | None:
    return int(value) if isinstance(value, str) and _REVIEW_ID.match(value) else None


async def _checked(services: Services, value: Any, user: str) -> DigestReview | str:
    """The pending review a click names, or why the clicker may not act on it."""
    review_id = _review_id(value)
    row = await get_review(services, review_id) if review_id is not None else None
    if row is None:
        return UNKNOWN
    if not await may_decide(services, row, user):
        return NOT_YOURS
    return row


async def handle_decision(
    ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], services: Services
) -> None:
    """*Share* or *Keep private*: checked here, done by a job (``review.decide``)."""
    click = click_of(body)
    checked = await _checked(services, action.get("value"), click.user_id)
    if isinstance(checked, str):
        await tell_clicker(ack, services, body, checked)
        return
    decision = "share" if action.get("action_id") == ACTION_SHARE else "private"
    job = DecideJob(
        review_id=checked.id,
        decision=decision,
        user_id=click.user_id,
        response_url=click.response_url,
        **click.in_thread(),
    )
    # One job per review and decision, whoever clicks how often.
    await enqueue_then_ack(
        ack, services, JOB_DECIDE, job, dedupe_key=f"{JOB_DECIDE}:{checked.id}:{decision}"
    )


WITHHELD = (
    "Its summary is not shown outside the private channel it was going to: *Share* it or keep "
    "it private."
)


async def handle_edit(
    ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], services: Services
) -> None:
    """*Edit summary*: the modal, with the summary as it would be posted."""
    click = click_of(body)
    checked = await _checked(services, action.get("value"), click.user_id)
    if isinstance(checked, str):
        await tell_clicker(ack, services, body, checked)
        return
    if checked.state != PENDING:
        await tell_clicker(ack, services, body, DECIDED)
        return
    if await withheld(services, checked):
        await tell_clicker(ack, services, body, WITHHELD)
        return
    await ack()
    meeting = stored_meeting(checked)
    try:
        await services.slack.client.views_open(
            trigger_id=str(body.get("trigger_id") or ""),
            view=build_edit_modal(checked.id, meeting.title, meeting.summary or ""),
        )
    except SlackApiError as exc:
        log.warning("cannot open the summary editor (%s)", slack_error(exc))
        await services.slack.respond(
            click.response_url,
            "Slack did not open the editor in time; please click *Edit summary* again.",
            thread=click.thread,
        )


async def handle_edit_submission(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], services: Services
) -> None:
    """The modal's *Save*: the stored meeting takes the new summary, the review message shows it
    (a job), and *Share* posts it."""
    user = str((body.get("user") or {}).get("id") or "")
    checked = await _checked(services, view.get("private_metadata"), user)
    if isinstance(checked, str):
        await ack(response_action="errors", errors={SUMMARY_BLOCK: checked})
        return
    if checked.state != PENDING:
        await ack(response_action="errors", errors={SUMMARY_BLOCK: DECIDED})
        return
    values = ((view.get("state") or {}).get("values") or {}).get(SUMMARY_BLOCK) or {}
    text = str((values.get(SUMMARY_INPUT) or {}).get("value") or "").strip()
    if not text:
        await ack(response_action="errors", errors={SUMMARY_BLOCK: "Write a summary to save."})
        return
    if len(text) > SUMMARY_LIMIT:
        await ack(
            response_action="errors",
            errors={SUMMARY_BLOCK: f"At most {SUMMARY_LIMIT} characters, please."},
        )
        return
    async with transaction(services.sessions) as session:
        await session.execute(
            update(DigestReview)
            .where(DigestReview.id == checked.id, DigestReview.state == PENDING)
            .values(summary=text)
        )
        await services.queue.enqueue(session, JOB_SHOW, ShowJob(review_id=checked.id))
    await ack()


__all__ = [
    "ACTION_PRIVATE",
    "ACTION_SHARE",
    "handle_decision",
    "handle_edit",
    "handle_edit_submission",
]
