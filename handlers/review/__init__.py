"""Review before sharing: the digest of a meeting with people from outside the workspace goes
to its owner first (``gate``), who shares it, edits its summary or keeps it private from the
review message (``listeners``)."""

from __future__ import annotations

from handlers.review import listeners
from handlers.review.blocks import ACTION_EDIT, ACTION_PRIVATE, ACTION_SHARE, ACTIONS, VIEW_EDIT
from handlers.review.gate import (
    JOB_DECIDE,
    JOB_SHOW,
    DecideJob,
    ShowJob,
    job_decide,
    job_show_review,
    review_gate,
)
from handlers.wiring import Wiring

__all__ = ["ACTIONS", "JOB_DECIDE", "JOB_SHOW", "register", "review_gate"]


def register(wiring: Wiring) -> None:
    wiring.bolt.action(ACTION_SHARE)(listeners.handle_decision)
    wiring.bolt.action(ACTION_PRIVATE)(listeners.handle_decision)
    wiring.bolt.action(ACTION_EDIT)(listeners.handle_edit)
    wiring.bolt.view(VIEW_EDIT)(listeners.handle_edit_submission)
    wiring.jobs.add(JOB_SHOW, job_show_review, ShowJob)
    wiring.jobs.add(JOB_DECIDE, job_decide, DecideJob)
