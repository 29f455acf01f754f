"""Whereby rooms: `/debrief room`, the room message that follows its session, "End room",
fresh recording and transcript links, and `POST /webhooks/whereby` leading to the summary digest
in the room's thread.
"""

from __future__ import annotations

from bot.config import Settings
from handlers.webhooks import webhook_handler
from handlers.whereby import events, listeners, rooms
from handlers.whereby.blocks import ACTION_END, ACTION_JOIN, ACTION_RECORDING, ACTION_TRANSCRIPT
from handlers.whereby.mapping import to_meeting
from handlers.whereby.naming import ROOM_USAGE
from handlers.whereby.webhook import parse_whereby_delivery
from handlers.wiring import Wiring

__all__ = ["ACTIONS", "WEBHOOK_PATH", "register", "schedule", "to_meeting"]

WEBHOOK_PATH = "/webhooks/whereby"
ACTIONS = (ACTION_JOIN, ACTION_END, ACTION_RECORDING, ACTION_TRANSCRIPT)


def register(wiring: Wiring) -> None:
    wiring.commands.add(
        "room", ROOM_USAGE, "Open a Whereby video room for this channel", listeners.handle_room
    )
    bolt = wiring.bolt
    bolt.action(ACTION_JOIN)(listeners.handle_join_button)
    bolt.action(ACTION_END)(listeners.handle_end_button)
    bolt.action(ACTION_RECORDING)(listeners.handle_recording_button)
    bolt.action(ACTION_TRANSCRIPT)(listeners.handle_transcript_button)

    jobs = wiring.jobs
    jobs.add(
        rooms.JOB_CREATE,
        rooms.job_create_room,
        rooms.CreateRoomJob,
        on_dead=rooms.create_room_failed,
    )
    jobs.add(rooms.JOB_END, rooms.job_end_room, rooms.EndRoomJob, on_dead=rooms.tell_requester)
    # One attempt: the next interval's run does the same again.
    jobs.add(rooms.JOB_EXPIRE, rooms.job_expire_rooms, rooms.ExpireRoomsJob, max_attempts=1)
    jobs.add(rooms.JOB_LINK, rooms.job_link, rooms.LinkJob, on_dead=rooms.tell_requester)
    jobs.add(events.JOB_EVENT, events.job_handle_event, events.EventJob)
    jobs.add(
        events.JOB_POLL, events.job_poll_summary, events.PollSummaryJob, on_dead=events.poll_failed
    )

    wiring.routes.post(WEBHOOK_PATH)(webhook_handler("whereby", parse_whereby_delivery))


def schedule(settings: Settings) -> list[tuple[str, float]]:
    """Marking rooms past their lifetime as expired, when Whereby is configured."""
    if not settings.secret("whereby_api_key"):
        return []
    return [(rooms.JOB_EXPIRE, rooms.EXPIRE_SECONDS)]
