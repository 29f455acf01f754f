"""What Whereby's webhooks lead to: the room message's live state, the recording button, and
the summary of a finished transcription, polled until ready and posted in the room's thread.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from bot.blockkit import mrkdwn
from bot.jobs import JobRun, RetryLater
from bot.meetings import Utterance
from bot.posting import PostKey
from bot.services import Services
from handlers.digest import deliver_digest
from handlers.digest.render import EXTRA_ACTIONS, EXTRA_PROVIDER_NOTICE
from handlers.digest.understand import understand_meeting
from handlers.ops import JOB_NOTICE, NoticeJob
from handlers.routing import publish_digest
from handlers.whereby import repo
from handlers.whereby.blocks import build_notice_blocks, transcript_button
from handlers.whereby.mapping import parse_transcript, short_id, to_meeting
from handlers.whereby.rooms import PROVIDER, show_room
from handlers.whereby.session import RoomEvent
from handlers.whereby.settings import whereby_settings
from handlers.whereby.tables import WherebyRoom
from providers.errors import BadRequest, NotFound, ProviderError
from providers.whereby import (
    Summary,
    WherebyClient,
    WherebyEvent,
    WherebyEventType,
    normalize_room_name,
)

log = logging.getLogger(__name__)

JOB_EVENT = "whereby.event"
JOB_POLL = "whereby.poll_summary"
#: The longest wait between two looks at a summary still being written.
MAX_POLL_DELAY = 300.0
ROOM_EVENTS = frozenset(str(kind) for kind in RoomEvent)
#: Every event type Debrief acts on; the others are answered 200 and dropped.
ACTED_ON = ROOM_EVENTS | {
    str(WherebyEventType.RECORDING_FINISHED),
    str(WherebyEventType.TRANSCRIPTION_FINISHED),
    str(WherebyEventType.TRANSCRIPTION_FAILED),
}


class EventJob(BaseModel):
    """An authenticated, de-duplicated webhook body and when it was received."""

    event: dict[str, Any]
    received_at: datetime


class PollSummaryJob(BaseModel):
    room_id: str
    transcription_id: str
    summary_id: str
    since: datetime


def notice_key(row: WherebyRoom, transcription_id: str) -> PostKey:
    return PostKey(PROVIDER, row.id, row.channel_id, f"notice:{short_id(transcription_id)}")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def job_handle_event(services: Services, payload: EventJob, run: JobRun) -> None:
    """Act on one Whereby webhook delivery (already verified and de-duplicated)."""
    event = WherebyEvent.model_validate(payload.event)
    at = _aware(event.created_at or payload.received_at)
    data = event.data
    if event.type in ROOM_EVENTS:
        row = await repo.find(
            services.sessions,
            meeting_id=data.meeting_id,
            room_name=normalize_room_name(data.room_name) if data.room_name else None,
        )
        if row is None:
            log.info("whereby %s for %s: not a room of ours", event.type, data.room_name)
            return
        changed = await repo.apply_room_event(
            services.sessions,
            row.id,
            RoomEvent(event.type),
            at,
            data.room_session_id,
            data.num_clients,
            data.display_name,
        )
        if changed:
            await show_room(services, row.id)
    elif event.type == WherebyEventType.RECORDING_FINISHED:
        await _recording_finished(services, data.room_name, data.recording_id, at)
    elif event.type == WherebyEventType.TRANSCRIPTION_FINISHED and data.transcription_id:
        await request_summary(services, data.transcription_id)
    elif event.type == WherebyEventType.TRANSCRIPTION_FAILED and data.transcription_id:
        await _transcription_failed(services, data.transcription_id, data.error)


async def _recording_finished(
    services: Services, room_name: str | None, recording_id: str | None, at: datetime
) -> None:
    # recording.finished carries no meetingId: the room is found by its name.
    if not room_name or not recording_id:
        return
    row = await repo.find(services.sessions, room_name=normalize_room_name(room_name))
    if row is None:
        log.info("whereby recording %s of %s: not a room of ours", recording_id, room_name)
        return
    if await repo.record_recording(services.sessions, row.id, recording_id, at):
        await show_room(services, row.id)


async def _room_of_transcription(services: Services, transcription_id: str) -> WherebyRoom | None:
    """The room a transcription belongs to (its events name no room: Whereby is asked)."""
    try:
        transcription = await services.require(WherebyClient).get_transcription(transcription_id)
    except NotFound:
        log.info("whereby transcription %s no longer exists", transcription_id)
        return None
    if not transcription.room_name:
        return None
    row = await repo.find(services.sessions, room_name=normalize_room_name(transcription.room_name))
    if row is None:
        log.info("whereby transcription %s: not a room of ours", transcription_id)
    return row


async def request_summary(services: Services, transcription_id: str) -> None:
    """Ask Whereby to summarise a finished transcription and start polling for the summary."""
    row = await _room_of_transcription(services, transcription_id)
    if row is None:
        return
    if row.transcription_id == transcription_id and row.summary_id:
        summary_id = row.summary_id  # asked already (an earlier attempt of this job)
    else:
        try:
            summary_id = await services.require(WherebyClient).create_summary(transcription_id)
        except (BadRequest, NotFound) as exc:
            await repo.change(
                services.sessions, row.id, transcription_id=transcription_id, summary_id=None
            )
            await summarise_ourselves(
                services,
                row,
                transcription_id,
                f"⚠️ Whereby would not summarise this session: {mrkdwn(exc.message, 300)}",
                reason=f"Whereby would not summarise this session: {exc.message[:300]}",
            )
            return
        await repo.change(
            services.sessions,
            row.id,
            transcription_id=transcription_id,
            summary_id=summary_id,
            digest_state="summarising",
        )
        await show_room(services, row.id)
    job = PollSummaryJob(
        room_id=row.id,
        transcription_id=transcription_id,
        summary_id=summary_id,
        since=services.clock(),
    )
    await services.queue.submit(
        JOB_POLL,
        job,
        delay=whereby_settings(services.settings).whereby_summary_poll_seconds,
        dedupe_key=f"{JOB_POLL}:{transcription_id}",
    )


async def _transcription_failed(
    services: Services, transcription_id: str, error: str | None
) -> None:
    row = await _room_of_transcription(services, transcription_id)
    if row is None:
        return
    why = f": {mrkdwn(error, 300)}." if error else "."
    await repo.change(services.sessions, row.id, transcription_id=transcription_id, summary_id=None)
    await post_notice(
        services,
        row,
        transcription_id,
        f"⚠️ Whereby could not transcribe this session{why} There will be no summary.",
        transcript=False,
    )


def next_poll_delay(waited: float, first: float, timeout: float) -> float:
    """The wait before the next look: ``first``, then about as long as waited so far (so the
    looks thin out), at most ``MAX_POLL_DELAY``, and never past the timeout."""
    delay = max(first, min(waited, MAX_POLL_DELAY))
    return max(min(delay, timeout - waited), 0.01)


async def job_poll_summary(services: Services, payload: PollSummaryJob, run: JobRun) -> None:
    """Look at a summary until Whereby has written it, then post the digest in the thread."""
    row = await repo.get(services.sessions, payload.room_id)
    if row is None:
        return
    summary = await services.require(WherebyClient).get_summary(payload.summary_id)
    if summary.is_ready:
        await post_digest(services, row, summary, payload.transcription_id)
        return
    if summary.is_failed:
        await summarise_ourselves(
            services,
            row,
            payload.transcription_id,
            "⚠️ Whereby could not summarise this session. The transcript is still there:",
            reason="Whereby could not summarise this session.",
        )
        return
    settings = services.settings
    waited = (services.clock() - payload.since).total_seconds()
    if waited >= whereby_settings(settings).whereby_summary_timeout_seconds:
        minutes = max(1, round(waited / 60))
        await summarise_ourselves(
            services,
            row,
            payload.transcription_id,
            f"⌛ Whereby's summary of this session did not arrive within {minutes} "
            f"minute{'s' if minutes != 1 else ''}, so "
            "I stopped waiting for it. The transcript is still there:",
            reason=f"Whereby's summary did not arrive within {minutes} "
            f"minute{'s' if minutes != 1 else ''}.",
        )
        return
    delay = next_poll_delay(
        waited,
        whereby_settings(settings).whereby_summary_poll_seconds,
        whereby_settings(settings).whereby_summary_timeout_seconds,
    )
    raise RetryLater(delay, "Whereby is still writing the summary")


async def poll_failed(services: Services, payload: PollSummaryJob, error: str) -> None:
    """The poller gave up on an error: the thread says so instead of waiting forever."""
    row = await repo.get(services.sessions, payload.room_id)
    if row is None:
        return
    await summarise_ourselves(
        services,
        row,
        payload.transcription_id,
        "⚠️ I could not fetch Whereby's summary of this session (Whereby kept failing). "
        "The transcript may still be there:",
        reason="I could not fetch Whereby's summary of this session (Whereby kept failing).",
    )


async def post_digest(
    services: Services,
    row: WherebyRoom,
    summary: Summary | None,
    transcription_id: str,
    *,
    transcript: list[Utterance] | None = None,
    reason: str | None = None,
) -> None:
    """The digest of a session, in the room message's thread (routed, when the room message
    could not be posted), with a button that fetches a fresh transcript link.

    Whereby's summary stays when it wrote one; without it (``summary`` None or empty) the
    transcript is fetched and the understanding engine writes the summary, decisions and
    action items, like any provider's meeting's (``handlers.digest.understand``); ``reason``
    (why Whereby's is missing) is said in the digest.
    """
    if transcript is None and (summary is None or not (summary.text or "").strip()):
        transcript = await fetch_transcript(services, transcription_id)
    meeting = to_meeting(
        row, summary, transcription_id=transcription_id, transcript=transcript or []
    )
    if reason:
        meeting.extras[EXTRA_PROVIDER_NOTICE] = reason
    # Whoever opened the room owns its sessions: an external one waits for their review.
    if row.message_ts is None:
        await publish_digest(services, meeting, owner=row.creator_id)
    else:
        meeting = await understand_meeting(services, meeting)
        meeting.extras[EXTRA_ACTIONS] = [transcript_button(row.id, transcription_id)]
        await deliver_digest(
            services, meeting, row.channel_id, thread_ts=row.message_ts, owner=row.creator_id
        )
    await repo.set_digest_state(services.sessions, row.id, transcription_id, "posted")
    await show_room(services, row.id)


async def fetch_transcript(services: Services, transcription_id: str) -> list[Utterance]:
    """The session's transcript, or nothing when Whereby cannot give it (then there is
    nothing for the engine to read, and the notice says why)."""
    try:
        text = await services.require(WherebyClient).download_transcript(transcription_id)
    except ProviderError as exc:
        log.info("whereby transcript %s cannot be read: %s", transcription_id, exc)
        return []
    return parse_transcript(text)


async def summarise_ourselves(
    services: Services, row: WherebyRoom, transcription_id: str, text: str, *, reason: str
) -> None:
    """Whereby wrote no summary: the digest from the session's transcript, filled in by the
    understanding engine and saying ``reason``; the notice ``text`` (why no summary came) when
    there is no transcript to read."""
    transcript = await fetch_transcript(services, transcription_id)
    if transcript:
        await post_digest(
            services, row, None, transcription_id, transcript=transcript, reason=reason
        )
        return
    await post_notice(services, row, transcription_id, text)


async def post_notice(
    services: Services,
    row: WherebyRoom,
    transcription_id: str,
    text: str,
    *,
    transcript: bool = True,
) -> None:
    """A visible notice in the room's thread that no summary will come, and why."""
    if row.message_ts is None:
        await services.queue.submit(
            JOB_NOTICE, NoticeJob(text=f"Whereby room “{mrkdwn(row.title or '', 150)}”: {text}")
        )
    else:
        buttons = [transcript_button(row.id, transcription_id)] if transcript else []
        await services.posts.upsert(
            notice_key(row, transcription_id),
            text,
            build_notice_blocks(text, buttons),
            thread_ts=row.message_ts,
        )
    await repo.set_digest_state(services.sessions, row.id, transcription_id, "failed")
    await show_room(services, row.id)
