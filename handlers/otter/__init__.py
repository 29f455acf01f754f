"""Otter.ai digests: `/debrief summary`, `/debrief recent`, `POST /webhooks/otter`, and the
polling fallback for plans without webhooks.
"""

from __future__ import annotations

from bot.config import Settings
from handlers.otter import jobs, listeners, polling
from handlers.otter.blocks import ACTION_POST_DIGEST
from handlers.otter.mapping import to_meeting
from handlers.otter.settings import otter_settings
from handlers.otter.webhook import parse_otter_delivery
from handlers.webhooks import webhook_handler
from handlers.wiring import Wiring

__all__ = ["ACTIONS", "WEBHOOK_PATH", "register", "schedule", "to_meeting"]

WEBHOOK_PATH = "/webhooks/otter"
ACTIONS = (ACTION_POST_DIGEST,)


def register(wiring: Wiring) -> None:
    commands = wiring.commands
    commands.add(
        "summary",
        listeners.SUMMARY_USAGE,
        "Post the digest of an Otter.ai conversation here",
        listeners.handle_summary,
    )
    commands.add(
        "recent", "recent", "Your ten most recent Otter.ai conversations", listeners.handle_recent
    )
    wiring.bolt.action(ACTION_POST_DIGEST)(listeners.handle_post_digest_button)

    wiring.jobs.add(jobs.JOB_WEBHOOK, jobs.job_handle_webhook, jobs.WebhookJob)
    wiring.jobs.add(
        jobs.JOB_SUMMARY, jobs.job_post_summary, jobs.SummaryJob, on_dead=jobs.tell_requester
    )
    wiring.jobs.add(
        jobs.JOB_AWAIT, jobs.job_await_ready, jobs.AwaitJob, on_dead=jobs.tell_requester
    )
    wiring.jobs.add(
        jobs.JOB_RECENT, jobs.job_list_recent, jobs.RecentJob, on_dead=jobs.tell_requester
    )
    # Few attempts: the next interval's run walks the same ground again anyway.
    wiring.jobs.add(polling.JOB_POLL, polling.job_poll, polling.PollJob, max_attempts=3)

    wiring.routes.post(WEBHOOK_PATH)(webhook_handler("otter", parse_otter_delivery))


def schedule(settings: Settings) -> list[tuple[str, float]]:
    """The polling fallback, when it is on (an API key, no webhook secret, an interval)."""
    if not otter_settings(settings).otter_polling:
        return []
    return [(polling.JOB_POLL, otter_settings(settings).otter_poll_seconds)]
