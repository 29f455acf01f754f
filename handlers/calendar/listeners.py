"""`/debrief calendar [policy …|disconnect|connect google|microsoft]`: the policy is answered at
once (a database write); whatever asks Attendee is a job whose answer is the only one."""

from __future__ import annotations

import contextlib
import logging

from bot.blockkit import mrkdwn
from bot.errors import UserFacingError
from bot.jobs import JobRun
from bot.services import Services
from handlers.calendar import consent, repo
from handlers.calendar.apply import cancel_calendar_bots
from handlers.calendar.blocks import CalendarLine, EventLine, build_calendar_status_blocks
from handlers.calendar.kinds import JOB_REAPPLY, ReapplyUserJob
from handlers.calendar.policy import REFUSED, SCHEDULED, SCOPES
from handlers.calendar.sync import adopt_owned
from handlers.wiring import CommandContext, InThread, Reply
from providers.attendee import AttendeeClient
from providers.errors import NotFound

log = logging.getLogger(__name__)

USAGE = "calendar [policy <scope>|never <words…>] [disconnect] [connect google|microsoft]"
POLICY_USAGE = (
    "Usage: `/debrief calendar policy all|organised|accepted|internal|external` (which "
    "meetings get a notetaker), or `/debrief calendar policy never <words…>` (titles with "
    "any of these words never do; `never -` clears them)."
)
JOB_STATUS = "calendar.status"
JOB_DISCONNECT = "calendar.disconnect"
#: Most never-record words kept, and their longest.
MAX_WORDS, MAX_WORD = 30, 60


class StatusJob(InThread):
    team_id: str
    user_id: str
    response_url: str


class DisconnectJob(InThread):
    team_id: str
    user_id: str
    response_url: str


async def handle_calendar(ctx: CommandContext) -> Reply:
    """`/debrief calendar …`."""
    words = ctx.args.split()
    action = words[0].lower() if words else ""
    if action in ("", "status"):
        status = StatusJob(team_id=ctx.team_id, user_id=ctx.user_id, response_url=ctx.response_url)
        await ctx.services.queue.submit(JOB_STATUS, status)
        return None  # the job's answer is the only one
    if action == "policy":
        return await set_policy(ctx, words[1:])
    if action == "disconnect" and len(words) == 1:
        job = DisconnectJob(team_id=ctx.team_id, user_id=ctx.user_id, response_url=ctx.response_url)
        await ctx.services.queue.submit(JOB_DISCONNECT, job)
        return None
    if action == "connect" and len(words) == 2 and words[1].lower() in ("google", "microsoft"):
        return await consent.connect(ctx)
    raise UserFacingError(f"Usage: `/debrief {USAGE}`")


async def set_policy(ctx: CommandContext, words: list[str]) -> Reply:
    services = ctx.services
    if len(words) == 1 and words[0].lower() in SCOPES:
        scope = words[0].lower()
        await repo.save_policy(
            services.sessions, team_id=ctx.team_id, user_id=ctx.user_id, scope=scope
        )
        said = f"Your calendar's notetakers now join {SCOPES[scope]}."
    elif len(words) >= 2 and words[0].lower() == "never":
        chosen = [] if words[1:] == ["-"] else never_words(words[1:])
        await repo.save_policy(
            services.sessions, team_id=ctx.team_id, user_id=ctx.user_id, never_words=chosen
        )
        said = (
            "No title keeps a notetaker away now."
            if not chosen
            else "Titles with "
            + ", ".join(f"“{mrkdwn(w, MAX_WORD)}”" for w in chosen)
            + " never get a notetaker."
        )
    else:
        raise UserFacingError(POLICY_USAGE)
    await services.queue.submit(JOB_REAPPLY, ReapplyUserJob(user_id=ctx.user_id))
    return said + " Your upcoming meetings are being checked again."


def never_words(words: list[str]) -> list[str]:
    """Lower case, each once, within bounds; a word is a run of non-blank characters."""
    seen: dict[str, None] = {}
    for word in words:
        cleaned = word.strip(",;").lower()[:MAX_WORD]
        if cleaned:
            seen.setdefault(cleaned, None)
    return list(seen)[:MAX_WORDS]


async def job_calendar_status(services: Services, payload: StatusJob, run: JobRun) -> None:
    """`/debrief calendar`: adopt the calendars Attendee has for this person, then say how
    they stand."""
    links = await adopt_owned(services, payload.team_id, payload.user_id)
    policy = await repo.get_policy(services.sessions, payload.user_id)
    now = services.clock()
    upcoming = await repo.future_events(services.sessions, payload.user_id, now, decision=SCHEDULED)
    refused = await repo.future_events(services.sessions, payload.user_id, now, decision=REFUSED)
    text, blocks = build_calendar_status_blocks(
        [CalendarLine(c.platform, c.state, c.state_detail, c.last_synced_at) for c in links],
        policy.scope,
        list(policy.never_words),
        [EventLine(r.title, r.start_time) for r in upcoming],
        [EventLine(r.title, r.start_time, r.reason) for r in refused],
    )
    await services.slack.respond(payload.response_url, text, blocks, thread=payload.thread)


async def job_disconnect(services: Services, payload: DisconnectJob, run: JobRun) -> None:
    """Call off the future notetakers, remove the calendar from Attendee, forget it here."""
    links = await repo.links_of(services.sessions, payload.user_id)
    if not links:
        await services.slack.respond(
            payload.response_url,
            "You have no calendar connected; there was nothing to disconnect.",
            thread=payload.thread,
        )
        return
    calendars = services.require(AttendeeClient).calendars
    for link in links:
        await cancel_calendar_bots(services, link, "You disconnected your calendar.", delete=True)
        with contextlib.suppress(NotFound):  # a retry whose first attempt got through
            await calendars.delete(link.calendar_id)
        await repo.forget_calendar(services.sessions, link.calendar_id)
    await services.slack.respond(
        payload.response_url,
        "Done: your calendar is disconnected and its scheduled notetakers are cancelled.",
        thread=payload.thread,
    )


async def tell_unavailable(
    services: Services, payload: StatusJob | DisconnectJob, error: str
) -> None:
    await services.slack.respond(
        payload.response_url,
        "Attendee is unavailable right now; please try again in a minute.",
        thread=payload.thread,
    )
