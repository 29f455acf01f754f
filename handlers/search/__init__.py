"""Search and ask: every digested meeting stored and indexed when its digest is delivered
(``store``), found again with `/debrief search`, answered from with `/debrief ask` or a mention
of the app, and forgotten with `/debrief forget` — always within what the asker may see.
"""

from __future__ import annotations

from handlers.search import jobs, listeners
from handlers.search.query import ASK_USAGE, FORGET_USAGE, SEARCH_USAGE
from handlers.wiring import Wiring

__all__ = ["EVENTS", "register"]

EVENTS = ("app_mention",)


def register(wiring: Wiring) -> None:
    commands = wiring.commands
    commands.add(
        "search",
        SEARCH_USAGE,
        "Find what was said in meetings you can see",
        listeners.handle_search,
    )
    commands.add(
        "ask",
        ASK_USAGE,
        "Ask your meetings a question; the answer cites them",
        listeners.handle_ask,
    )
    commands.add(
        "forget",
        FORGET_USAGE,
        "Delete a stored meeting and its index (its requester or an admin)",
        listeners.handle_forget,
    )
    wiring.bolt.event("app_mention")(listeners.handle_app_mention)
    # The payloads hold what people asked: not kept once answered.
    for kind, job in ((jobs.JOB_SEARCH, jobs.job_search), (jobs.JOB_ASK, jobs.job_ask)):
        wiring.jobs.add(
            kind, job, jobs.CommandJob, on_dead=jobs.tell_requester, forget_payload=True
        )
    wiring.jobs.add(jobs.JOB_FORGET, jobs.job_forget, jobs.CommandJob, on_dead=jobs.tell_requester)
    wiring.jobs.add(
        jobs.JOB_MENTION,
        jobs.job_answer_mention,
        jobs.MentionJob,
        max_attempts=3,
        forget_payload=True,
    )
