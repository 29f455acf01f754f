"""Retention, table by table, and the purge job the leader enqueues to apply it.

Every table has a rule here (``tests/bot/test_retention.py`` fails for a table without one);
docs/SECURITY.md ("Data retention") is the same list in words. A meeting's content goes
``DEBRIEF_RETENTION_DAYS`` after it was last touched, all of a piece: its action items (once
none is open), its digests, then the Slack posts that named them. What is still in use stays
whatever its age: an open action item and its meeting's digest, a notetaker that has not
finished, a room still open or being summarised, a digest or report leased by a delivery, a
queued or running job, a connected account's tokens.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from pydantic import BaseModel
from sqlalchemy import ColumnElement, and_, exists, func, not_, or_

from bot.config import Settings
from bot.jobs import JobRun
from bot.replay import PROVIDER as SLACK_SIGNATURES
from bot.replay import RETENTION as SLACK_SIGNATURE_RETENTION
from bot.retention import Cutoffs, Rule, purge
from bot.services import Services
from bot.store.models import (
    InboxEvent,
    Job,
    RateBudget,
    RateBudgetSpend,
    SlackPost,
    SlackPostIntent,
    StoredSecret,
)
from handlers.action_items.store import LOOKUP_TTL, OPEN
from handlers.action_items.tables import (
    ActionItemEvent,
    ActionItemRecord,
    ReminderPreference,
    ReminderSent,
    SlackEmailLookup,
    SlackPermalink,
)
from handlers.attendee.jobs import PROVIDER as ATTENDEE
from handlers.attendee.repo import FINAL_LOCAL_STATES
from handlers.attendee.tables import AttendeeBot
from handlers.calendar.tables import CalendarEventRecord, CalendarLink, CalendarPolicy
from handlers.claritalk.store import LAPSED, REPORT_LEASE
from handlers.claritalk.tables import ClaritalkConnection, ClaritalkReport
from handlers.digest.deliver import LEASE as DIGEST_LEASE
from handlers.digest.tables import Digest
from handlers.oauth.tables import OAuthState, SpentLink
from handlers.review.tables import DigestReview
from handlers.routing.tables import DigestRoute, HeldDigest, SyncState
from handlers.search.tables import StoredMeeting, StoredPassage
from handlers.whereby import repo as rooms
from handlers.whereby.rooms import PROVIDER as WHEREBY
from handlers.whereby.tables import WherebyRoom
from handlers.wiring import Wiring
from providers.attendee import TERMINAL_STATES

log = logging.getLogger(__name__)

JOB_PURGE = "retention.purge"

#: Done jobs: long enough to look into what happened last week (and never past the content).
DONE_JOBS = timedelta(days=7)
#: An intent left by a job that died for good is past any retry that could adopt it.
STALE_INTENTS = timedelta(days=7)
#: A PDF report waiting for its digest (or kept, once shared, so a redelivery shares it once).
REPORTS = timedelta(days=30)
#: Spent and expired OAuth states, kept a day past their expiry for the log's sake.
OAUTH_STATES = timedelta(days=1)
#: A person's reminder of a local date can only be claimed again on that date (±14 hours).
REMINDERS = timedelta(days=7)
#: Provider budgets prune their own spending; a budget nobody spends from keeps its last
#: window's rows, gone after a day here (every window and hold is far shorter).
BUDGET_SPENDS = timedelta(days=1)


class PurgeJob(BaseModel):
    pass


# --- what may go, table by table ---


def _done_jobs(cut: Cutoffs) -> ColumnElement[bool]:
    return and_(Job.status == "done", Job.finished_at < cut.capped(DONE_JOBS))


def _dead_jobs(cut: Cutoffs) -> ColumnElement[bool] | None:
    if cut.dead_jobs is None:
        return None
    return and_(Job.status == "dead", Job.finished_at < cut.dead_jobs)


def _webhook_ids(cut: Cutoffs) -> ColumnElement[bool]:
    return InboxEvent.received_at < cut.inbox


def _slack_signatures(cut: Cutoffs) -> ColumnElement[bool]:
    # Minutes, not days: a signature is refused by Bolt itself once its timestamp is stale.
    return and_(
        InboxEvent.provider == SLACK_SIGNATURES,
        InboxEvent.received_at < cut.now - SLACK_SIGNATURE_RETENTION,
    )


def _stale_intents(cut: Cutoffs) -> ColumnElement[bool]:
    return SlackPostIntent.posting_since < cut.now - STALE_INTENTS


def _meeting_in_use(cut: Cutoffs, provider: object, meeting_id: object) -> ColumnElement[bool]:
    """A meeting is in use while one of its items is open or was touched, or one of its
    digests was delivered, within the retention: its digest and items are kept together."""
    assert cut.content is not None
    item = ActionItemRecord.__table__.alias("sibling")
    digest = Digest.__table__.alias("delivered")
    return or_(
        exists().where(
            item.c.provider == provider,
            item.c.meeting_id == meeting_id,
            or_(item.c.status == OPEN, item.c.updated_at >= cut.content),
        ),
        exists().where(
            digest.c.provider == provider,
            digest.c.meeting_id == meeting_id,
            func.coalesce(digest.c.delivered_at, digest.c.created_at) >= cut.content,
        ),
    )


def _action_items(cut: Cutoffs) -> ColumnElement[bool] | None:
    if cut.content is None:
        return None
    return and_(
        ActionItemRecord.status != OPEN,
        ActionItemRecord.updated_at < cut.content,
        not_(_meeting_in_use(cut, ActionItemRecord.provider, ActionItemRecord.meeting_id)),
    )


def _digests(cut: Cutoffs) -> ColumnElement[bool] | None:
    if cut.content is None:
        return None
    return and_(
        # created_at <= delivered_at: the index on created_at narrows, the rest decides.
        Digest.created_at < cut.content,
        or_(Digest.delivered_at.is_(None), Digest.delivered_at < cut.content),
        not_(DIGEST_LEASE.taken(cut.now)),
        not_(_meeting_in_use(cut, Digest.provider, Digest.meeting_id)),
    )


def _stored_meetings(cut: Cutoffs) -> ColumnElement[bool] | None:
    # Its passages (and, through them, its full-text index entries) go in the same batch.
    if cut.content is None:
        return None
    return and_(
        StoredMeeting.updated_at < cut.content,
        not_(_meeting_in_use(cut, StoredMeeting.provider, StoredMeeting.meeting_id)),
    )


def _held_digests(cut: Cutoffs) -> ColumnElement[bool] | None:
    return None if cut.content is None else HeldDigest.held_at < cut.content


def _digest_reviews(cut: Cutoffs) -> ColumnElement[bool] | None:
    # A meeting held for review is meeting content like any other, decided on or not.
    return None if cut.content is None else DigestReview.created_at < cut.content


def _attendee_bots(cut: Cutoffs) -> ColumnElement[bool] | None:
    if cut.content is None:
        return None
    finished = [str(state) for state in TERMINAL_STATES | FINAL_LOCAL_STATES]
    return and_(
        AttendeeBot.state.in_(finished),
        AttendeeBot.open_key.is_(None),
        AttendeeBot.updated_at < cut.content,
    )


def _calendar_events(cut: Cutoffs) -> ColumnElement[bool] | None:
    # A meeting long over has nothing left to decide; its notetaker's row has its own rule.
    if cut.content is None:
        return None
    return func.coalesce(CalendarEventRecord.end_time, CalendarEventRecord.start_time) < cut.content


def _whereby_rooms(cut: Cutoffs) -> ColumnElement[bool] | None:
    if cut.content is None:
        return None
    return and_(
        WherebyRoom.status.in_([rooms.FAILED, rooms.CLOSED, rooms.EXPIRED]),
        or_(WherebyRoom.digest_state.is_(None), WherebyRoom.digest_state != "summarising"),
        WherebyRoom.updated_at < cut.content,
    )


def _slack_posts(cut: Cutoffs) -> ColumnElement[bool] | None:
    """A message is forgotten once nothing can update it any more: its digest, notetaker or
    room is gone (those rules run first), and no item of its meeting is open."""
    if cut.content is None:
        return None
    post = SlackPost
    return and_(
        post.updated_at < cut.content,
        not_(
            exists().where(
                Digest.provider == post.provider,
                Digest.meeting_id == post.meeting_id,
                Digest.channel_id == post.channel_id,
            )
        ),
        not_(
            exists().where(
                ActionItemRecord.provider == post.provider,
                ActionItemRecord.meeting_id == post.meeting_id,
                ActionItemRecord.status == OPEN,
            )
        ),
        not_(and_(post.provider == ATTENDEE, exists().where(AttendeeBot.id == post.meeting_id))),
        not_(and_(post.provider == WHEREBY, exists().where(WherebyRoom.id == post.meeting_id))),
    )


def _permalinks(cut: Cutoffs) -> ColumnElement[bool] | None:
    # A cache: a link still wanted is fetched again.
    return None if cut.content is None else SlackPermalink.created_at < cut.content


def _email_lookups(cut: Cutoffs) -> ColumnElement[bool]:
    # Past LOOKUP_TTL an answer is asked again anyway; an email is personal data.
    return SlackEmailLookup.looked_up_at < cut.now - LOOKUP_TTL


def _reminders(cut: Cutoffs) -> ColumnElement[bool]:
    return ReminderSent.claimed_at < cut.now - REMINDERS


def _oauth_states(cut: Cutoffs) -> ColumnElement[bool]:
    return OAuthState.expires_at < cut.now - OAUTH_STATES


def _spent_links(cut: Cutoffs) -> ColumnElement[bool]:
    # Past its expiry a link's own signature check refuses it: the row has nothing left to do.
    return SpentLink.expires_at < cut.now


def _reports(cut: Cutoffs) -> ColumnElement[bool]:
    return and_(
        ClaritalkReport.received_at < cut.capped(REPORTS),
        not_(REPORT_LEASE.taken(cut.now)),
    )


def _lapsed_connections(cut: Cutoffs) -> ColumnElement[bool] | None:
    # A lapsed connection's tokens were deleted when it lapsed; this is its name and email.
    if cut.content is None:
        return None
    return and_(
        ClaritalkConnection.status == LAPSED,
        ClaritalkConnection.lapsed_at < cut.content,
    )


def _budget_spends(cut: Cutoffs) -> ColumnElement[bool]:
    # The ledger's times are unix seconds (bot/budgets.py).
    before = (cut.now - BUDGET_SPENDS).timestamp()
    return func.coalesce(RateBudgetSpend.held_until, RateBudgetSpend.spent_at) < before


#: Every table, in the order the purge runs: owners (items, digests, notetakers, rooms) before
#: the Slack posts that are kept while their owner is.
RULES: tuple[Rule, ...] = (
    Rule(Job, _done_jobs, label="jobs (done)"),
    Rule(Job, _dead_jobs, label="jobs (dead)"),
    Rule(InboxEvent, _webhook_ids, label="inbox"),
    Rule(InboxEvent, _slack_signatures, label="inbox (Slack signatures)"),
    Rule(ActionItemRecord, _action_items, children=(ActionItemEvent.item_id,)),
    Rule(ActionItemEvent, kept="deleted with its action item"),
    Rule(Digest, _digests),
    Rule(StoredMeeting, _stored_meetings, children=(StoredPassage.meeting_pk,)),
    Rule(StoredPassage, kept="deleted with its stored meeting, index entries included"),
    Rule(HeldDigest, _held_digests),
    Rule(DigestReview, _digest_reviews),
    Rule(AttendeeBot, _attendee_bots),
    Rule(WherebyRoom, _whereby_rooms),
    Rule(CalendarEventRecord, _calendar_events),
    Rule(CalendarLink, kept="while Debrief follows the calendar: deleted on disconnect"),
    Rule(CalendarPolicy, kept="one row per person who set a calendar policy"),
    Rule(SlackPost, _slack_posts),
    Rule(SlackPostIntent, _stale_intents),
    Rule(SlackPermalink, _permalinks),
    Rule(SlackEmailLookup, _email_lookups),
    Rule(ReminderSent, _reminders),
    Rule(ReminderPreference, kept="one row per person who changed it"),
    Rule(OAuthState, _oauth_states),
    Rule(SpentLink, _spent_links),
    Rule(ClaritalkReport, _reports),
    Rule(ClaritalkConnection, _lapsed_connections),
    Rule(StoredSecret, kept="while its account is connected: deleted on disconnect or lapse"),
    Rule(RateBudgetSpend, _budget_spends),
    Rule(RateBudget, kept="one row per provider budget"),
    Rule(DigestRoute, kept="configuration: until /debrief unroute"),
    Rule(SyncState, kept="a few named values (polling cursors, caches), overwritten in place"),
)


def register(wiring: Wiring) -> None:
    # One attempt is enough: the next run, an interval later, carries on where this one stopped.
    wiring.jobs.add(JOB_PURGE, job_purge, PurgeJob, max_attempts=1)


def schedule(settings: Settings) -> list[tuple[str, float]]:
    """The purge, every DEBRIEF_RETENTION_INTERVAL_SECONDS (0: never)."""
    seconds = settings.retention_interval_seconds
    return [(JOB_PURGE, seconds)] if seconds > 0 else []


async def job_purge(services: Services, payload: PurgeJob, run: JobRun) -> None:
    """Delete what the retention settings let go, in batches; log and count it per table."""
    settings = services.settings
    started = time.perf_counter()
    report = await purge(
        services.sessions,
        RULES,
        Cutoffs.at(settings, services.clock()),
        settings.retention_batch_size,
    )
    for table, count in report.rows.items():
        services.metrics.inc(
            "debrief_retention_deleted_rows_total",
            count,
            help="Rows deleted by the retention purge",
            table=table,
        )
    log.info(
        "retention purge: %s (%d batch(es), %.1fs)",
        report.describe(),
        report.batches,
        time.perf_counter() - started,
    )
