"""Operator notices: a dead job is never silent. They go to `DEBRIEF_OPS_CHANNEL`, else the
digest channel, and always to the log.
"""

from __future__ import annotations

import logging

from pydantic import BaseModel

from bot.jobs import JobRun
from bot.services import Services
from bot.store.db import transaction
from bot.store.models import Job
from handlers.digest.text import mrkdwn
from handlers.wiring import Wiring

log = logging.getLogger(__name__)

JOB_NOTICE = "ops.notice"


class NoticeJob(BaseModel):
    text: str


def register(wiring: Wiring) -> None:
    wiring.jobs.add(JOB_NOTICE, job_post_notice, NoticeJob, max_attempts=8)


def operator_channel(services: Services) -> str | None:
    return services.settings.ops_channel or services.settings.digest_channel


async def job_post_notice(services: Services, payload: NoticeJob, run: JobRun) -> None:
    channel = operator_channel(services)
    if channel is None:
        log.error("operator notice (no DEBRIEF_OPS_CHANNEL to post it to): %s", payload.text)
        return
    await services.slack.post(
        channel,
        payload.text,
        [
            {"type": "section", "text": {"type": "mrkdwn", "text": payload.text}},
        ],
    )


async def notify_dead_job(services: Services, job: Job, error: str) -> None:
    """Called by the workers when a job is buried: enqueue a notice for the operators."""
    if job.kind == JOB_NOTICE:
        log.error("operator notice could not be posted: %s", error)
        return
    text = (
        f":rotating_light: *Debrief gave up on a job* `{job.kind}` (#{job.id}) after "
        f"{job.attempts} attempt(s): {mrkdwn(error, 1500)}"
    )
    async with transaction(services.sessions) as session:
        await services.queue.enqueue(session, JOB_NOTICE, NoticeJob(text=text))
