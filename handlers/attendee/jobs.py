"""The durable work behind notetakers: create the bot, follow its webhooks, post the digest."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from pydantic import BaseModel

from bot.blockkit import mrkdwn
from bot.jobs import JobRun, PermanentJobError
from bot.meetings import Meeting, Person, Utterance
from bot.posting import PostKey, show_settled
from bot.services import Services
from bot.slack import Block
from bot.urls import meeting_id
from handlers.access import Belongs, may_change, may_see, prepare_listing
from handlers.action_items.links import digest_posts, permalink
from handlers.attendee import repo
from handlers.attendee.blocks import (
    ACTION_RECORDING,
    ROUTED_HEADLINE,
    DigestPlace,
    build_bots_blocks,
    build_recording_blocks,
    build_status_blocks,
    status_text,
)
from handlers.attendee.parsing import When
from handlers.attendee.settings import attendee_settings
from handlers.attendee.states import CANCELLED, DUPLICATE, REFUSED, REQUESTED, describe
from handlers.attendee.tables import AttendeeBot
from handlers.digest import HeldForReview, Resume, deliver_digest, transcript_is_cut
from handlers.digest.items import PARENT_PART
from handlers.digest.render import EXTRA_ACTIONS, EXTRA_ATTACHED, EXTRA_SUMMARISES
from handlers.digest.understand import GENERIC_TITLE, understand_meeting
from handlers.review.gate import review_state
from handlers.routing import hold_digest, route_for
from handlers.search.store import REQUESTER
from handlers.wiring import InThread
from providers.attendee import (
    ACTIVE_STATES,
    PENDING_STATES,
    AlreadyLeaving,
    AttendeeClient,
    Bot,
    BotEventType,
    BotState,
    CreateBot,
    DuplicateBot,
    InvalidBotState,
    WebhookEnvelope,
    WebhookTrigger,
)
from providers.attendee import Utterance as AttendeeUtterance
from providers.errors import BadRequest, NotFound

log = logging.getLogger(__name__)

PROVIDER = "attendee"
JOB_CREATE = "attendee.create_bot"
JOB_EVENT = "attendee.event"
JOB_DIGEST = "attendee.digest"
JOB_LEAVE = "attendee.leave_bot"
JOB_LIST = "attendee.list_bots"
JOB_RECORDING = "attendee.recording_link"

TRANSCRIPT_FILE_PART = "transcript.file"
#: What the status message says while its digest's review keeps it from the channel.
REVIEW_HEADLINES = {
    "pending": "Meeting over: the digest waits for its owner's review before it is shared",
    "private": "Meeting over: its owner kept the digest private",
}
#: The key of the bot's Attendee metadata that holds the title the person gave the meeting.
TITLE_METADATA = "debrief_title"


class CreateBotJob(BaseModel):
    request_id: str
    when: str | None = None
    #: The title the person gave (`as "<title>"`): kept in the bot's metadata at Attendee.
    title: str | None = None


class EventJob(BaseModel):
    envelope: dict[str, Any]


class DigestJob(BaseModel):
    request_id: str


class LeaveJob(InThread):
    bot_id: str
    team_id: str
    user_id: str
    response_url: str


class ListJob(InThread):
    team_id: str
    user_id: str
    response_url: str
    #: Where `/debrief bots` was typed: only a notetaker sent from there shows its link.
    channel_id: str = ""


class RecordingJob(InThread):
    request_id: str
    user_id: str
    response_url: str


def notetaker(channel_id: Any, user_id: Any) -> Belongs:
    """What the privacy rule needs of a notetaker: its channel and who sent it."""
    return Belongs.of(
        "notetaker",
        [channel_id if isinstance(channel_id, str) else None],
        [user_id if isinstance(user_id, str) else None],
        "the person who sent it",
    )


#: States of a calendar notetaker that post no status message: until it starts joining, its
#: owner hears of it from the calendar's morning DM and reminder, not a message per meeting.
BEFORE_THE_MEETING = frozenset({REQUESTED, BotState.SCHEDULED, *repo.FINAL_LOCAL_STATES})


def status_key(row: AttendeeBot, part: str = "status") -> PostKey:
    return PostKey(PROVIDER, row.id, row.channel_id, part)


async def refresh_status(
    services: Services,
    request_id: str,
    event_type: str | None = None,
    sub_type: str | None = None,
    *,
    event_state: str | None = None,
) -> AttendeeBot:
    """Render the status message from the stored state (never from the event at hand), so
    that whichever job renders last shows what the database holds (see ``show_settled``).

    The event (``event_type``, ``sub_type``) explains the status only while the stored state
    is still ``event_state``, the one that event put the bot in.
    """

    async def show(row: AttendeeBot) -> None:
        quiet = row.calendar_event_id and row.state in BEFORE_THE_MEETING
        if quiet and await services.posts.find(status_key(row)) is None:
            return  # the owner's morning DM and reminder speak for it until it joins
        explained = event_state is None or row.state == event_state
        rendering = render_status(
            row,
            *((event_type, sub_type) if explained else (None, None)),
            digest=await digest_elsewhere(services, row),
            review=await review_state(services, PROVIDER, row.bot_id)
            if row.bot_id is not None and row.state == BotState.ENDED
            else None,
        )
        await services.posts.upsert(status_key(row), *rendering)

    row = await show_settled(lambda: repo.get(services.sessions, request_id), show, snapshot)
    if row is None:
        raise PermanentJobError(f"notetaker request {request_id} no longer exists")
    return row


async def digest_elsewhere(services: Services, row: AttendeeBot) -> DigestPlace | None:
    """Where the meeting's digest went when a routing rule sent it to another channel than the
    one the notetaker was sent from; None while it has none there."""
    if row.bot_id is None or row.state != BotState.ENDED:
        return None
    posts = await digest_posts(services, PROVIDER, row.bot_id, PARENT_PART)
    away = next((p for p in posts if p.channel_id != row.channel_id), None)
    if away is None:
        return None
    return DigestPlace(away.channel_id, await permalink(services, away.channel_id, away.ts))


def snapshot(row: AttendeeBot) -> dict[str, Any]:
    """Everything a status message can show of the row."""
    return {column.key: getattr(row, column.key) for column in AttendeeBot.__table__.columns}


def render_status(
    row: AttendeeBot,
    event_type: str | None,
    sub_type: str | None,
    *,
    digest: DigestPlace | None = None,
    review: str | None = None,
) -> tuple[str, list[Block]]:
    """The status message; ``review``: the state of its digest's review (``handlers.review``),
    said while it keeps the digest from the channel."""
    status = describe(row.state, event_type, sub_type)
    detail = row.state_detail
    if row.state == BotState.FATAL_ERROR and detail:
        # A failure's reason is stored as its headline (``job_handle_event``): a later rendering
        # has no event left to explain it. It is the headline, never a line repeating it.
        status, detail = replace(status, headline=detail), None
    if digest is not None:
        status = replace(status, headline=ROUTED_HEADLINE)
    elif review in REVIEW_HEADLINES:
        status = replace(status, headline=REVIEW_HEADLINES[review])
    return status_text(status), build_status_blocks(row, status, detail, digest=digest)


async def job_create_bot(services: Services, payload: CreateBotJob, run: JobRun) -> None:
    """Post the status message, then ask Attendee for a bot; safe to run again at any step."""
    attendee = services.require(AttendeeClient)
    row = await refresh_status(services, payload.request_id)
    if row.bot_id is not None:
        return
    join_at = None
    if payload.when:
        zone = await services.slack.user_timezone(row.user_id)
        join_at = When(payload.when).resolve(services.clock(), zone)
    settings = services.settings
    webhooks = None
    if settings.public_url and settings.public_url.startswith("https://"):
        # Attendee accepts bot-level webhooks over https only (observed on a real server).
        webhooks = [
            {
                "url": settings.public_url.rstrip("/") + "/webhooks/attendee",
                "triggers": [str(WebhookTrigger.BOT_STATE_CHANGE)],
            }
        ]
    metadata = {
        "slack_team_id": row.team_id,
        "slack_channel_id": row.channel_id,
        "slack_user_id": row.user_id,
        "debrief_request_id": row.id,
    }
    if payload.title:
        # Kept with the bot at Attendee, which gives it back with the finished meeting.
        metadata[TITLE_METADATA] = payload.title
    request = CreateBot(
        meeting_url=row.meeting_url,
        bot_name=attendee_settings(settings).attendee_bot_name,
        metadata=metadata,
        join_at=join_at,
        deduplication_key=row.dedup_key,
        webhooks=webhooks,
    )
    try:
        bot = await attendee.create_bot(request)
    except DuplicateBot:
        existing = await attendee.find_active_bot(row.dedup_key)
        if existing is not None and (existing.metadata or {}).get("debrief_request_id") == row.id:
            bot = existing  # our own earlier attempt went through; its answer was lost
        else:
            await repo.apply_state(
                services.sessions,
                row.id,
                DUPLICATE,
                services.clock(),
                "Someone already sent one from this channel; follow it there.",
            )
            await refresh_status(services, row.id)
            return
    except BadRequest as exc:
        await repo.apply_state(services.sessions, row.id, REFUSED, services.clock(), exc.message)
        await refresh_status(services, row.id)
        return
    await repo.attach_bot(services.sessions, row.id, bot.id)
    last = bot.last_event
    await repo.apply_state(
        services.sessions,
        row.id,
        str(bot.state),
        last.created_at if last else services.clock(),
        join_at=bot.join_at or join_at,
    )
    await refresh_status(services, row.id)


async def create_bot_failed(services: Services, payload: CreateBotJob, error: str) -> None:
    """Tell the channel the notetaker could not be sent, instead of leaving "Sending…"."""
    await repo.apply_state(
        services.sessions,
        payload.request_id,
        REFUSED,
        services.clock(),
        f"Attendee could not be reached ({error}). Try again later.",
    )
    await refresh_status(services, payload.request_id)


async def job_handle_event(services: Services, payload: EventJob, run: JobRun) -> None:
    """Act on one Attendee webhook delivery (already verified and deduplicated)."""
    envelope = WebhookEnvelope.model_validate(payload.envelope)
    change = envelope.state_change
    if envelope.trigger != WebhookTrigger.BOT_STATE_CHANGE or change is None:
        log.debug("attendee %s for %s: nothing to do", envelope.trigger, envelope.bot_id)
        return
    row = await repo.find_for_webhook(services.sessions, envelope.bot_id, envelope.bot_metadata)
    if row is None and envelope.bot_id and envelope.bot_metadata:
        meeting_url = str(envelope.bot_metadata.get("meeting_url") or "")
        row = await repo.adopt(
            services.sessions, envelope.bot_id, meeting_url, envelope.bot_metadata
        )
    if row is None:
        log.info(
            "attendee bot %s is not one of ours; ignoring its %s", envelope.bot_id, change.new_state
        )
        return
    if row.bot_id is None and envelope.bot_id:
        await repo.attach_bot(services.sessions, row.id, envelope.bot_id)
    status = describe(str(change.new_state), str(change.event_type), change.event_sub_type)
    # Why it failed is kept in words: the state alone ("stopped because of an error") loses it.
    detail = status.headline if str(change.new_state) == BotState.FATAL_ERROR else None
    applied = await repo.apply_state(
        services.sessions, row.id, str(change.new_state), change.created_at, detail
    )
    if not applied:
        log.info(
            "attendee %s: %s is older than what we know (or a retry); showing the stored state",
            envelope.bot_id,
            change.new_state,
        )
    # Always render, even when this event changed nothing: a retry of a job whose first attempt
    # stored the state but failed to update Slack must still update Slack. The upsert skips an
    # identical message, and the rendering comes from the stored state, never from this event.
    await refresh_status(
        services,
        row.id,
        str(change.event_type) if applied else None,
        change.event_sub_type if applied else None,
        event_state=str(change.new_state),
    )
    if change.event_type == BotEventType.POST_PROCESSING_COMPLETED:
        await services.queue.submit(
            JOB_DIGEST,
            DigestJob(request_id=row.id),
            dedupe_key=f"{JOB_DIGEST}:{row.id}",
        )


def to_meeting(
    row: AttendeeBot, bot: Bot, utterances: list[AttendeeUtterance], zone: tzinfo = UTC
) -> Meeting:
    """A finished Attendee bot and its transcript, as a provider-neutral meeting.

    Its title ("Zoom meeting 7 Dec 2026") is a header, plain text where Slack's date token
    cannot go, so its date is the day in ``zone``: the Slack time zone of whoever asked for it.
    """
    # An adopted bot's link never went through `/debrief join`: it may name no known platform.
    named = meeting_id(row.meeting_url or "")
    platform = named.name if named is not None else "meeting"
    joined = [e.created_at for e in bot.events if e.type == BotEventType.JOINED_MEETING]
    left = [
        e.created_at
        for e in bot.events
        if e.type in (BotEventType.LEFT_MEETING, BotEventType.MEETING_ENDED)
    ]
    transcript = []
    first_ms = utterances[0].timestamp_ms if utterances else 0
    for u in utterances:
        if not u.text:
            continue
        transcript.append(
            Utterance(
                speaker=u.speaker_name,
                text=u.text,
                start_seconds=(u.timestamp_ms - first_ms) / 1000,
                duration_seconds=u.duration_ms / 1000,
            )
        )
    started = min(joined) if joined else None
    ended = max(left) if left else None
    if started is None and utterances:
        started = datetime.fromtimestamp(first_ms / 1000, UTC)
    if ended is None and utterances:
        last = utterances[-1]
        ended = datetime.fromtimestamp((last.timestamp_ms + last.duration_ms) / 1000, UTC)
    local = started.astimezone(zone) if started else None
    day = f"{local.day} {local:%b %Y}" if local else ""
    people: dict[str, Person] = {}
    for u in utterances:
        people.setdefault(u.speaker_name, Person(name=u.speaker_name, is_host=u.speaker_is_host))
    meeting = Meeting(
        provider=PROVIDER,
        meeting_id=bot.id,
        title=f"{platform} meeting {day}".strip(),
        started_at=started,
        ended_at=ended,
        participants=list(people.values()),
        transcript=transcript,
        # A platform and a day name no meeting: the understanding engine's title replaces it.
        # Whoever sent the notetaker owns the meeting (search finds it for them wherever its
        # digest went).
        extras={GENERIC_TITLE: True, REQUESTER: row.user_id},
    )
    for person in meeting.participants:
        person.talk_seconds = next((s for n, s, _ in meeting.talk_time() if n == person.name), 0.0)
    return meeting


def recording_button(request_id: str) -> Block:
    """The digest's button that fetches a fresh recording link at the moment of the click."""
    return {
        "type": "button",
        "action_id": ACTION_RECORDING,
        "text": {"type": "plain_text", "text": "🎬 Recording"},
        "value": request_id,
    }


async def add_invitees(attendee: AttendeeClient, event_id: str, meeting: Meeting) -> None:
    """Name a calendar meeting's invitees among its participants: Attendee's transcript has
    speakers' names only, and whether the meeting had outside people (the review before
    sharing, ``external:`` routes) is told by their email addresses. An event Attendee no
    longer has leaves the meeting as it is."""
    event = await attendee.calendars.get_event(event_id)
    if event is None:
        return
    known = {p.email.lower() for p in meeting.participants if p.email}
    names = {a.email.strip().lower(): a.name for a in event.attendees if a.email}
    for email in event.emails():
        if email not in known:
            meeting.participants.append(Person(name=names.get(email) or email, email=email))


async def job_post_digest(services: Services, payload: DigestJob, run: JobRun) -> None:
    """Post the meeting's digest through the common path, updated, never twinned.

    The transcript is mapped to the neutral ``Meeting``, filled in by the understanding engine
    (title, unless the person gave one, summary, decisions, action items, outline), routed and
    delivered under the meeting's key like any provider's (``deliver_digest``): its action items
    are people's to assign and close. With no routing rule more specific than ``default`` it
    goes in the status message's thread, as it always has; a rule (``provider:attendee``,
    ``title:``, ``external:``) sends it elsewhere, and the status message then links to it.
    """
    attendee = services.require(AttendeeClient)
    row = await refresh_status(services, payload.request_id)
    if row.bot_id is None:
        raise PermanentJobError("the notetaker was never created")
    bot = await attendee.get_bot(row.bot_id)
    try:
        utterances = await attendee.get_transcript(row.bot_id)
    except NotFound:
        utterances = []
    meeting = to_meeting(row, bot, utterances, await services.slack.user_timezone(row.user_id))
    if row.calendar_event_id:
        await add_invitees(attendee, row.calendar_event_id, meeting)
    given = (bot.metadata or {}).get(TITLE_METADATA)
    meeting = await understand_meeting(
        services, meeting, title=given if isinstance(given, str) else None
    )
    attach = transcript_is_cut(meeting)
    meeting.extras.update(
        {
            EXTRA_ACTIONS: [recording_button(row.id)],
            EXTRA_ATTACHED: attach,
            EXTRA_SUMMARISES: False,
        }
    )
    # A calendar notetaker reports to its owner's DM, but its digest is routed like any
    # meeting's (routing rules, the default channel), never kept in that DM.
    home = None if row.calendar_event_id else row.channel_id
    routed = await route_for(services, meeting, home=home)
    if routed is None and home is None:
        await hold_digest(services, meeting)
        return
    channel = routed or row.channel_id
    status_post = await services.posts.find(status_key(row))
    status_ts = status_post.ts if status_post is not None else None
    in_status_thread = channel == row.channel_id and status_ts is not None
    delivered = await deliver_digest(
        services,
        meeting,
        channel,
        thread_ts=status_ts if in_status_thread else None,
        owner=row.user_id,
        # Once its owner shares it, this job runs again: the upload and the status follow it.
        resume=Resume(JOB_DIGEST, DigestJob(request_id=row.id)),
    )
    if isinstance(delivered, HeldForReview):
        await refresh_status(services, row.id)  # says the digest waits for its owner
        return
    thread_ts = status_ts if in_status_thread and status_ts else delivered.ts
    if attach and await services.posts.find(status_key(row, TRANSCRIPT_FILE_PART)) is None:
        await services.slack.upload_text(
            channel,
            thread_ts,
            f"transcript-{row.bot_id}.txt",
            meeting.transcript_text(),
            f"Transcript: {meeting.title}",
        )
        # Remember the upload so that a retry of this job does not attach it twice.
        await services.posts.remember(status_key(row, TRANSCRIPT_FILE_PART), "file", thread_ts)
    # Its last line now links to the digest elsewhere, or no longer says it waits for review.
    await refresh_status(services, row.id)


async def stop_bot(attendee: AttendeeClient, bot_id: str, pending: bool) -> bool:
    """Cancel a notetaker still waiting for its meeting, or make one in it leave; True when it
    was cancelled. What Debrief knows of its state may be a step behind Attendee's: when
    Attendee says the other way is the one, that is taken."""
    if pending:
        try:
            await attendee.delete_bot(bot_id)
            return True
        except NotFound:
            return True  # a retried delete whose first attempt went through
        except InvalidBotState:
            pass  # it has started joining since: it leaves instead
    try:
        await attendee.leave_bot(bot_id)
    except InvalidBotState as exc:
        if pending or str(exc.state) not in PENDING_STATES:
            raise
        await attendee.delete_bot(bot_id)
        return True
    return False


async def job_leave_bot(services: Services, payload: LeaveJob, run: JobRun) -> None:
    """Make a notetaker leave, or cancel it while it is only scheduled, if the privacy rule
    lets this person (``handlers.access``)."""
    attendee = services.require(AttendeeClient)
    absent = f"There is no notetaker `{mrkdwn(payload.bot_id, 100)}` in this workspace."
    row = await repo.find_by_bot_id(services.sessions, payload.bot_id)
    if row is not None:
        if row.team_id != payload.team_id:
            await services.slack.respond(payload.response_url, absent, thread=payload.thread)
            return
        thing = notetaker(row.channel_id, row.user_id)
        state = row.state
    else:
        # Not sent from Slack through Debrief: what Attendee knows of it decides.
        try:
            bot = await attendee.get_bot(payload.bot_id)
        except NotFound:
            await services.slack.respond(payload.response_url, absent, thread=payload.thread)
            return
        meta = bot.metadata or {}
        if meta.get("slack_team_id") not in (None, payload.team_id):
            await services.slack.respond(payload.response_url, absent, thread=payload.thread)
            return
        thing = notetaker(meta.get("slack_channel_id"), meta.get("slack_user_id"))
        state = str(bot.state)
    pending = state in PENDING_STATES
    verdict = await may_change(services, payload.user_id, thing, "cancel" if pending else "stop")
    if not verdict.allowed:
        await services.slack.respond(payload.response_url, verdict.why, thread=payload.thread)
        return
    try:
        cancelled = await stop_bot(attendee, payload.bot_id, pending)
    except AlreadyLeaving:
        await services.slack.respond(
            payload.response_url, "That notetaker is already leaving.", thread=payload.thread
        )
        return
    except InvalidBotState as exc:
        await services.slack.respond(
            payload.response_url,
            "That notetaker cannot leave now: it is "
            f"{mrkdwn(str(exc.state or 'done').replace('_', ' '), 100)}.",
            thread=payload.thread,
        )
        return
    if row is not None:
        await repo.mark_stopped(services.sessions, row.id, payload.user_id)
        if cancelled:
            # Attendee sends no webhook for a deleted bot: the state is Debrief's to record.
            await repo.apply_state(services.sessions, row.id, CANCELLED, services.clock())
        await refresh_status(services, row.id)
    if cancelled:
        await services.slack.respond(
            payload.response_url,
            "🚫 Cancelled: the notetaker will not join that meeting.",
            thread=payload.thread,
        )
        return
    await services.slack.respond(
        payload.response_url,
        "👋 The notetaker is leaving the meeting.",
        thread=payload.thread,
    )


async def job_list_bots(services: Services, payload: ListJob, run: JobRun) -> None:
    """`/debrief bots`: the notetakers the caller may see (``handlers.access``), links only
    for those sent from the channel the command was typed in."""
    attendee = services.require(AttendeeClient)
    states = sorted(str(s) for s in ACTIVE_STATES | PENDING_STATES)
    await prepare_listing(services, payload.user_id)
    bots = []
    async for bot in attendee.iter_bots(states=states):
        meta = bot.metadata or {}
        if meta.get("slack_team_id") != payload.team_id:
            continue
        thing = notetaker(meta.get("slack_channel_id"), meta.get("slack_user_id"))
        if await may_see(services, payload.user_id, thing):
            bots.append(bot)
    await services.slack.respond(
        payload.response_url,
        f"{len(bots)} active notetaker{'s' if len(bots) != 1 else ''}",
        build_bots_blocks(bots, lambda state: describe(state), here=payload.channel_id),
        thread=payload.thread,
    )


async def job_recording_link(services: Services, payload: RecordingJob, run: JobRun) -> None:
    """A fresh recording link, fetched at the moment of the click (Attendee's expire in 30 min)."""
    attendee = services.require(AttendeeClient)
    row = await repo.get(services.sessions, payload.request_id)
    if row is None or row.bot_id is None:
        await services.slack.respond(
            payload.response_url,
            "I do not know that meeting any more.",
            thread=payload.thread,
        )
        return
    if not await may_see(services, payload.user_id, notetaker(row.channel_id, row.user_id)):
        await services.slack.respond(
            payload.response_url,
            "This meeting's recording is for the members of the channel it was recorded for.",
            thread=payload.thread,
        )
        return
    recording = await attendee.get_recording(row.bot_id)
    if recording is None:
        await services.slack.respond(
            payload.response_url,
            "No recording is available for this meeting (Attendee kept none).",
            thread=payload.thread,
        )
        return
    expires = services.clock() + timedelta(minutes=30)
    await services.slack.respond(
        payload.response_url,
        "Here is the recording",
        build_recording_blocks(recording.url, expires),
        thread=payload.thread,
    )


async def tell_requester(
    services: Services, payload: LeaveJob | ListJob | RecordingJob, error: str
) -> None:
    await services.slack.respond(
        payload.response_url,
        "Attendee is unavailable right now; please try again in a minute.",
        thread=payload.thread,
    )
