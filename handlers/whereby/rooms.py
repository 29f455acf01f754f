"""The durable work behind a room: create it, show it, end it, let it expire, and fetch fresh
links to its recording and transcript.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel
from slack_sdk.errors import SlackApiError

from bot.blockkit import link, mrkdwn
from bot.jobs import JobRun, PermanentJobError
from bot.posting import PostKey, show_settled
from bot.services import Services
from bot.slack import is_permanent_slack_error, slack_error
from handlers.access import Belongs, may_change, may_see
from handlers.whereby import repo
from handlers.whereby.blocks import (
    build_host_blocks,
    build_link_blocks,
    build_room_blocks,
    room_text,
)
from handlers.whereby.naming import FALLBACK_PREFIX, channel_name, room_prefix
from handlers.whereby.tables import WherebyRoom
from handlers.wiring import InThread
from providers.errors import BadRequest, NotFound, PermissionDenied
from providers.whereby import CreateMeeting, WherebyClient, normalize_room_name

log = logging.getLogger(__name__)

PROVIDER = "whereby"
JOB_CREATE = "whereby.create_room"
JOB_END = "whereby.end_room"
JOB_EXPIRE = "whereby.expire_rooms"
#: How often rooms past their lifetime are marked as expired.
EXPIRE_SECONDS = 300.0
JOB_LINK = "whereby.link"
ROOM_PART = "room"
#: Whereby deletes a room this long after its end date.
ROOM_LIFETIME_AFTER_END = timedelta(hours=1)
#: How long a recording or transcript link fetched for a click stays valid.
LINK_SECONDS = 3600


class CreateRoomJob(InThread):
    room_id: str
    response_url: str
    channel_name: str | None = None


class EndRoomJob(InThread):
    room_id: str
    team_id: str
    user_id: str
    response_url: str


class ExpireRoomsJob(BaseModel):
    pass


class LinkJob(InThread):
    """A click on "Recording" or "Transcript": fetch a fresh access link for the clicker."""

    room_id: str
    kind: Literal["recording", "transcript"]
    item_id: str
    team_id: str
    response_url: str
    user_id: str = ""


def room_key(row: WherebyRoom) -> PostKey:
    return PostKey(PROVIDER, row.id, row.channel_id, ROOM_PART)


async def show_room(services: Services, room_id: str, *, post: bool = False) -> WherebyRoom | None:
    """Render the room message from the stored row (never from the event at hand).

    Posts it when ``post``; otherwise only updates a message already posted. Whichever job
    renders last shows what the database holds (see ``show_settled``).

    Raises:
        SlackApiError: Slack refused (``channel_not_found``, ``not_in_channel`` … are permanent).
    """

    async def show(row: WherebyRoom) -> None:
        if row.message_ts is None and not post:
            return
        posted = await services.posts.upsert(room_key(row), room_text(row), build_room_blocks(row))
        if row.message_ts != posted.ts:
            await repo.change(services.sessions, row.id, message_ts=posted.ts)

    return await show_settled(lambda: repo.get(services.sessions, room_id), show, build_room_blocks)


async def _naming(services: Services, row: WherebyRoom, slack_name: str | None) -> tuple[str, str]:
    """(room name prefix, title): from the name given, else from the channel's name."""
    if row.name_prefix:
        return row.name_prefix, row.title or "Whereby room"
    name = channel_name(slack_name)
    if name is None:
        try:
            answer = await services.slack.client.conversations_info(channel=row.channel_id)
            name = channel_name(str((answer.get("channel") or {}).get("name") or ""))
        except SlackApiError as exc:
            log.info("no name for channel %s (%s)", row.channel_id, slack_error(exc))
    prefix = room_prefix(name) or FALLBACK_PREFIX
    title = row.title or (f"#{name}" if name else "Whereby room")
    return prefix, title


async def job_create_room(services: Services, payload: CreateRoomJob, run: JobRun) -> None:
    """Create the meeting, post the room in the channel, and the host link to the caller.

    Safe to run again at any step: a meeting already created is not created twice.
    """
    whereby = services.require(WherebyClient)
    row = await repo.get(services.sessions, payload.room_id)
    if row is None:
        raise PermanentJobError(f"room request {payload.room_id} no longer exists")
    if row.status == repo.FAILED:
        return
    host_url: str | None = None
    if row.meeting_id is None:
        prefix, title = await _naming(services, row, payload.channel_name)
        end = services.clock() + timedelta(minutes=row.minutes)
        request = CreateMeeting(
            end_date=end,
            room_name_prefix=prefix,
            room_name_pattern="human-short",
            room_mode="group",
            fields=["hostRoomUrl"],
        )
        try:
            meeting = await whereby.create_meeting(request)
        except (BadRequest, PermissionDenied) as exc:
            await repo.set_status(
                services.sessions,
                row.id,
                repo.FAILED,
                only_from=(repo.CREATING,),
                status_detail=exc.message,
            )
            await services.slack.respond(
                payload.response_url,
                f"Whereby refused to create the room: {mrkdwn(exc.message, 500)}",
                thread=payload.thread,
            )
            return
        end_at = meeting.end_date or end
        room_name = normalize_room_name(meeting.room_name or meeting.room_url.rsplit("/", 1)[-1])
        await repo.change(
            services.sessions,
            row.id,
            meeting_id=meeting.meeting_id,
            room_name=room_name,
            room_url=meeting.room_url,
            name_prefix=prefix,
            title=title,
            end_at=end_at,
            status=repo.OPEN,
        )
        host_url = meeting.host_room_url
    posted = True
    try:
        shown = await show_room(services, row.id, post=True)
    except SlackApiError as exc:
        if not is_permanent_slack_error(exc):
            raise
        log.info("cannot post room %s in %s: %s", row.id, row.channel_id, slack_error(exc))
        posted, shown = False, await repo.get(services.sessions, row.id)
    if shown is None or shown.meeting_id is None:
        raise PermanentJobError(f"room {row.id} vanished while it was being opened")
    if host_url is None:
        # A retry: the create answer (the only one carrying it for free) is gone.
        again = await whereby.get_meeting(shown.meeting_id, fields=["hostRoomUrl"])
        host_url = again.host_room_url
    await services.slack.respond(
        payload.response_url,
        "Your Whereby room is open",
        build_host_blocks(shown, host_url, posted=posted),
        thread=payload.thread,
    )


async def create_room_failed(services: Services, payload: CreateRoomJob, error: str) -> None:
    """The job gave up: say so to the caller instead of leaving them waiting."""
    if await repo.set_status(
        services.sessions,
        payload.room_id,
        repo.FAILED,
        only_from=(repo.CREATING,),
        status_detail="Whereby could not be reached",
    ):
        text = (
            "I could not open a Whereby room: Whereby is unavailable right now. Please try "
            "again in a minute."
        )
    else:
        # The room exists; what failed was showing it here.
        row = await repo.get(services.sessions, payload.room_id)
        url = row.room_url if row is not None else None
        where = f": {link(url, url, label_limit=100)}" if url else ""
        text = (
            f"Your Whereby room is open{where}, but I could not post it in this channel. "
            "Share the link yourself."
        )
    await services.slack.respond(payload.response_url, text, thread=payload.thread)


def room(row: WherebyRoom) -> Belongs:
    """What the privacy rule needs of a room: its channel and who opened it."""
    return Belongs.of(
        "room", [row.channel_id], [row.creator_id], f"<@{row.creator_id}>, who opened it"
    )


async def job_end_room(services: Services, payload: EndRoomJob, run: JobRun) -> None:
    """The "End room" button: whoever the privacy rule lets (``handlers.access``) deletes it."""
    row = await repo.get(services.sessions, payload.room_id)
    if row is None or row.team_id != payload.team_id:
        await services.slack.respond(
            payload.response_url, "I do not know that room any more.", thread=payload.thread
        )
        return
    verdict = await may_change(services, payload.user_id, room(row), "end")
    if not verdict.allowed:
        await services.slack.respond(payload.response_url, verdict.why, thread=payload.thread)
        return
    if row.status != repo.OPEN:
        await services.slack.respond(
            payload.response_url, "This room has already ended.", thread=payload.thread
        )
        return
    if row.meeting_id is not None:
        await services.require(WherebyClient).delete_meeting(row.meeting_id)
    await repo.set_status(
        services.sessions, row.id, repo.CLOSED, only_from=(repo.OPEN,), closed_by=payload.user_id
    )
    await show_room(services, row.id)


async def job_expire_rooms(services: Services, payload: ExpireRoomsJob, run: JobRun) -> None:
    """Rooms Whereby has deleted by now (an hour after their end) say so on their message; no
    API call is needed."""
    for room_id in await repo.open_rooms_ended_before(
        services.sessions, services.clock() - ROOM_LIFETIME_AFTER_END
    ):
        if await repo.set_status(services.sessions, room_id, repo.EXPIRED, only_from=(repo.OPEN,)):
            await show_room(services, room_id)


async def job_link(services: Services, payload: LinkJob, run: JobRun) -> None:
    """A fresh access link to a recording or transcript, fetched at the moment of the click."""
    whereby = services.require(WherebyClient)
    row = await repo.get(services.sessions, payload.room_id)
    if row is None or row.team_id != payload.team_id:
        await services.slack.respond(
            payload.response_url, "I do not know that room any more.", thread=payload.thread
        )
        return
    if not await may_see(services, payload.user_id, room(row)):
        await services.slack.respond(
            payload.response_url,
            f"This room's {payload.kind} is for the members of the channel it was opened in.",
            thread=payload.thread,
        )
        return
    try:
        if payload.kind == "recording":
            link = await whereby.recording_access_link(
                payload.item_id, valid_for_seconds=LINK_SECONDS
            )
        else:
            link = await whereby.transcription_access_link(
                payload.item_id, valid_for_seconds=LINK_SECONDS
            )
    except NotFound:
        await services.slack.respond(
            payload.response_url,
            f"Whereby no longer has this room's {payload.kind}.",
            thread=payload.thread,
        )
        return
    await services.slack.respond(
        payload.response_url,
        f"Here is the {payload.kind}",
        build_link_blocks(payload.kind, link.access_link, link.expires_at),
        thread=payload.thread,
    )


async def tell_requester(services: Services, payload: EndRoomJob | LinkJob, error: str) -> None:
    await services.slack.respond(
        payload.response_url,
        "Whereby is unavailable right now; please try again in a minute.",
        thread=payload.thread,
    )
