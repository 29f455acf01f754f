"""What a notetaker's state means to a person in the channel."""

from __future__ import annotations

from dataclasses import dataclass

from providers.attendee import BotEventType, BotState

#: Debrief's own states before Attendee has a bot, and after we learn it was a twin.
REQUESTED = "requested"
DUPLICATE = "duplicate"
REFUSED = "refused"
#: Deleted at Attendee while it was only scheduled: it never joined (Attendee keeps no trace).
CANCELLED = "cancelled"


@dataclass(frozen=True)
class Status:
    emoji: str
    headline: str
    #: Whether the bot is still doing something (offers a Leave button).
    active: bool


_STATES: dict[str, Status] = {
    REQUESTED: Status("⏳", "Sending a notetaker…", True),
    BotState.READY: Status("⏳", "Notetaker is getting ready…", True),
    BotState.SCHEDULED: Status("🗓️", "Notetaker scheduled", True),
    BotState.STAGED: Status("🗓️", "Notetaker about to join", True),
    BotState.JOINING: Status("🚪", "Notetaker is joining the meeting…", True),
    BotState.WAITING_ROOM: Status(
        "⏸️", "Notetaker is in the waiting room: someone in the meeting needs to admit it", True
    ),
    BotState.JOINED_NOT_RECORDING: Status(
        "🎧", "Notetaker is in the meeting, waiting for permission to record", True
    ),
    BotState.JOINED_RECORDING: Status("🔴", "Recording", True),
    BotState.JOINED_RECORDING_PAUSED: Status("⏸️", "Recording paused", True),
    BotState.JOINED_RECORDING_PERMISSION_DENIED: Status(
        "🚫", "Recording permission denied: the host declined, so nothing is being recorded", True
    ),
    BotState.JOINING_BREAKOUT_ROOM: Status(
        "🔀", "Following the meeting into a breakout room", True
    ),
    BotState.LEAVING_BREAKOUT_ROOM: Status("🔀", "Leaving the breakout room", True),
    BotState.LEAVING: Status("👋", "Notetaker left the meeting", False),
    BotState.POST_PROCESSING: Status("⚙️", "Meeting over: preparing the transcript…", False),
    BotState.ENDED: Status("📝", "Meeting over: the transcript is in the thread", False),
    BotState.FATAL_ERROR: Status("❌", "The notetaker stopped because of an error", False),
    BotState.DATA_DELETED: Status("🗑️", "The recording and transcript were deleted", False),
    DUPLICATE: Status("ℹ️", "A notetaker is already on its way to this meeting", False),
    REFUSED: Status("❌", "Attendee refused to send a notetaker", False),
    CANCELLED: Status("🚫", "Cancelled", False),
}

# Why a bot could not join, in words (Attendee's `could_not_join_meeting` sub-types).
_JOIN_FAILURES = {
    "meeting_not_found": "the meeting was not found; check the link",
    "meeting_not_started_waiting_for_host": "the meeting had not started and the host never came",
    "request_to_join_denied": "someone in the meeting denied its request to join",
    "waiting_room_timeout_exceeded": "nobody admitted it from the waiting room in time",
    "login_required": "the meeting only admits signed-in users",
    "bot_not_launched": "Attendee could not start the notetaker",
    "unpublished_zoom_app": "the Zoom app behind Attendee is not published for this account",
    "blocked_by_captcha": "the meeting platform asked for a captcha",
    "authorized_user_not_in_meeting_timeout_exceeded": "the authorised user never joined",
}

_LEAVE_REASONS = {
    "user_requested": "someone asked it to leave",
    "auto_leave_silence": "the meeting had gone silent",
    "auto_leave_only_participant_in_meeting": "it was the last one in the meeting",
    "auto_leave_max_uptime": "it reached its maximum time in a meeting",
}


def describe(state: str, event_type: str | None = None, sub_type: str | None = None) -> Status:
    """The status line for a bot in ``state``, explained by the event that put it there."""
    status = _STATES.get(state) or Status("ℹ️", f"Notetaker state: {state.replace('_', ' ')}", True)
    if event_type == BotEventType.COULD_NOT_JOIN_MEETING:
        reason = _JOIN_FAILURES.get(
            sub_type or "", (sub_type or "no reason given").replace("_", " ")
        )
        return Status("❌", f"Could not join: {reason}", False)
    if state == BotState.FATAL_ERROR and sub_type:
        return Status("❌", f"The notetaker stopped: {sub_type.replace('_', ' ')}", False)
    if state == BotState.LEAVING and event_type == BotEventType.LEAVE_REQUESTED and sub_type:
        reason = _LEAVE_REASONS.get(sub_type, sub_type.replace("_", " "))
        return Status("👋", f"Notetaker is leaving: {reason}", False)
    if state == BotState.LEAVING and event_type == BotEventType.MEETING_ENDED:
        return Status("👋", "The meeting ended", False)
    return status
