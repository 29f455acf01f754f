"""Send an Attendee notetaker from Slack and follow it to its transcript."""

from __future__ import annotations

from handlers.attendee import jobs, listeners
from handlers.attendee.blocks import ACTION_CANCEL, ACTION_LEAVE, ACTION_RECORDING
from handlers.attendee.parsing import JOIN_USAGE
from handlers.attendee.webhook import (
    parse_attendee_delivery,
    screen_attendee_delivery,
    verify_attendee_delivery,
)
from handlers.calendar import consent
from handlers.webhooks import webhook_handler
from handlers.wiring import Wiring

WEBHOOK_PATH = "/webhooks/attendee"
ACTIONS = (ACTION_LEAVE, ACTION_CANCEL, ACTION_RECORDING)


def register(wiring: Wiring) -> None:
    commands = wiring.commands
    commands.add(
        "join",
        JOIN_USAGE,
        "Send a notetaker into a Zoom, Meet or Teams call",
        listeners.handle_join,
    )
    commands.add(
        "bots", "bots", "List the active notetakers of your channels", listeners.handle_bots
    )
    commands.add(
        "leave",
        listeners.BOT_ID_USAGE,
        "Make a notetaker leave its meeting (or cancel a scheduled one)",
        listeners.handle_leave_command,
    )
    wiring.bolt.action(ACTION_LEAVE)(listeners.handle_leave_button)
    # *Cancel* goes to the same job: whether to delete or leave follows the bot's state.
    wiring.bolt.action(ACTION_CANCEL)(listeners.handle_leave_button)
    wiring.bolt.action(ACTION_RECORDING)(listeners.handle_recording_button)

    wiring.jobs.add(
        jobs.JOB_CREATE, jobs.job_create_bot, jobs.CreateBotJob, on_dead=jobs.create_bot_failed
    )
    wiring.jobs.add(jobs.JOB_EVENT, jobs.job_handle_event, jobs.EventJob)
    wiring.jobs.add(jobs.JOB_DIGEST, jobs.job_post_digest, jobs.DigestJob)
    wiring.jobs.add(jobs.JOB_LEAVE, jobs.job_leave_bot, jobs.LeaveJob, on_dead=jobs.tell_requester)
    wiring.jobs.add(jobs.JOB_LIST, jobs.job_list_bots, jobs.ListJob, on_dead=jobs.tell_requester)
    wiring.jobs.add(
        jobs.JOB_RECORDING, jobs.job_recording_link, jobs.RecordingJob, on_dead=jobs.tell_requester
    )

    consent.register(wiring)  # connecting a calendar (Attendee syncs it)
    wiring.routes.post(WEBHOOK_PATH)(
        webhook_handler(
            "attendee",
            parse_attendee_delivery,
            screen_attendee_delivery,
            verify_attendee_delivery,
        )
    )
