"""The meeting digest: one renderer from the provider-neutral ``Meeting`` to Block Kit, and its
delivery under the meeting's natural key (provider, meeting id, channel).

Providers map their meetings into ``bot.meetings.Meeting`` and call
:func:`handlers.routing.publish_digest` (route, then deliver or hold) or, for a channel already
known, :func:`deliver_digest`. A digest that belongs in the thread of a provider's own message
(Attendee's status message) is rendered with :func:`render_digest` and posted there with
:func:`post_parts`. Action items are stored at delivery and rendered with their
controls from the stored state (``handlers.action_items``); after a change, the job
``digest.refresh`` updates the meeting's messages in place.
"""

from __future__ import annotations

from handlers.digest.deliver import (
    JOB_DELIVER,
    DeliveredDigest,
    DeliverJob,
    HeldForReview,
    PostedParts,
    Resume,
    deliver_digest,
    job_deliver_digest,
    job_refresh_digest,
    post_parts,
    refresh_digests,
)
from handlers.digest.items import JOB_REFRESH, ItemView, RefreshJob
from handlers.digest.render import Part, RenderedDigest, render_digest, transcript_is_cut
from handlers.wiring import Wiring

__all__ = [
    "JOB_DELIVER",
    "JOB_REFRESH",
    "DeliverJob",
    "DeliveredDigest",
    "HeldForReview",
    "ItemView",
    "Part",
    "PostedParts",
    "RefreshJob",
    "RenderedDigest",
    "Resume",
    "deliver_digest",
    "post_parts",
    "refresh_digests",
    "register",
    "render_digest",
    "transcript_is_cut",
]


def register(wiring: Wiring) -> None:
    wiring.jobs.add(JOB_DELIVER, job_deliver_digest, DeliverJob)
    wiring.jobs.add(JOB_REFRESH, job_refresh_digest, RefreshJob)
