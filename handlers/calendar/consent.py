"""Connecting a calendar: `/debrief calendar connect google|microsoft`.

The person gets, privately, a signed single-use link; it opens the shared consent flow
(``handlers.oauth.flow``: a page naming whose Slack account it is, then the platform's consent
page with a single-use state bound to that Slack user and that browser). The callback exchanges
the code for a refresh token, which goes straight to Attendee's ``POST /calendars`` (Attendee
syncs the calendar; Debrief never stores or logs the token), with a ``deduplication_key`` of the
Slack team, user and platform, so that connecting again gives the same calendar its new token
instead of a second calendar. The calendar's metadata names the Slack user it belongs to.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal, cast

from aiohttp import web
from pydantic import BaseModel

from bot.blockkit import SECTION_TEXT, link
from bot.config import Settings
from bot.errors import UserFacingError
from bot.jobs import JobRun
from bot.posting import PostKey
from bot.services import Services
from handlers.calendar import repo
from handlers.calendar.settings import CalendarSettings, calendar_settings
from handlers.oauth.flow import Authorize, ConsentFlow, now, public_url, register_flows
from handlers.oauth.links import InvalidLink, LinkSigner
from handlers.oauth.names import slack_names
from handlers.oauth.pages import page
from handlers.oauth.states import TakenState
from handlers.wiring import CommandContext, Reply, Wiring
from providers.attendee import AttendeeClient
from providers.attendee.calendar_oauth import CalendarTokens, authorize_url, exchange_code
from providers.attendee.calendars import Calendar, CreateCalendar
from providers.errors import AuthenticationFailed, BadRequest, Conflict, ProviderError

log = logging.getLogger(__name__)

Platform = Literal["google", "microsoft"]
PLATFORMS: tuple[Platform, ...] = ("google", "microsoft")
NAMES: dict[str, str] = {"google": "Google", "microsoft": "Microsoft"}
#: The calendar, as a page's title names it.
PRODUCTS: dict[str, str] = {"google": "Google Calendar", "microsoft": "Outlook Calendar"}

USAGE = "calendar connect google|microsoft"
#: The ``redirect_uri`` registered with Google and Microsoft is ``PUBLIC_URL`` + this.
CALLBACK_PATH = "/oauth/calendar/callback"
#: A link shown in answer to the command: used at once, so short-lived.
LINK_TTL = timedelta(minutes=15)

JOB_CONNECTED = "calendar.connected"

#: What a person is told when this Debrief cannot make connect links at all: what is missing
#: is the operator's business, so it goes to the log.
NOT_SET_UP = (
    "Calendars cannot be connected on this Debrief yet. Ask whoever runs Debrief to finish "
    "setting up calendar connections."
)


class ConnectedJob(BaseModel):
    """Tell the owner by DM that their calendar is connected (once per connection)."""

    user_id: str
    calendar_id: str
    platform: str
    at: datetime


def connect_path(platform: str) -> str:
    return f"/oauth/calendar/{platform}"


def provider_of(platform: str) -> str:
    """The connection's name in ``oauth_states``/``spent_links``."""
    return f"calendar.{platform}"


def deduplication_key(team_id: str, user_id: str, platform: str) -> str:
    """The calendar's key at Attendee: one calendar per Slack user and platform, whoever asks."""
    return f"debrief-slack-{team_id}-{user_id}-{platform}"


def client_of(own: CalendarSettings, platform: str) -> tuple[str, str] | None:
    """The operator's OAuth client (id, secret) at ``platform``; None when not configured."""
    if platform == "google":
        client_id, secret = own.google_client_id, own.google_client_secret
    else:
        client_id, secret = own.microsoft_client_id, own.microsoft_client_secret
    value = secret.get_secret_value() if secret is not None else ""
    return (client_id, value) if client_id and value else None


def platform_problem(own: CalendarSettings, platform: str) -> str | None:
    """What a person is told when ``platform``'s OAuth client is not configured, or None."""
    if client_of(own, platform) is not None:
        return None
    upper = platform.upper()
    log.warning(
        "%s calendars cannot be connected: DEBRIEF_%s_CLIENT_ID and DEBRIEF_%s_CLIENT_SECRET "
        "are not set",
        NAMES[platform],
        upper,
        upper,
    )
    return (
        f"{NAMES[platform]} calendars cannot be connected on this Debrief yet: whoever runs "
        f"Debrief needs to add the {NAMES[platform]} OAuth client id and client secret to the "
        "calendar settings (see `debrief doctor`)."
    )


def setup_problem(services: Services, platform: str) -> str | None:
    """Why a ``platform`` calendar cannot be connected here (said to the person), or None."""
    settings = services.settings
    own = calendar_settings(settings)
    problem = platform_problem(own, platform)
    if problem is not None:
        return problem
    if not public_url(settings):
        log.warning("calendars cannot be connected: PUBLIC_URL is not set (no callback URL)")
        return NOT_SET_UP
    if not settings.encryption_key_list():
        log.warning("calendars cannot be connected: DEBRIEF_ENCRYPTION_KEYS signs connect links")
        return NOT_SET_UP
    return None


def _platform_of(words: list[str]) -> str:
    """The platform named after ``connect`` (which a caller may have left out already)."""
    if words and words[0].lower() == "connect":
        words = words[1:]
    if len(words) != 1 or words[0].lower() not in PLATFORMS:
        raise UserFacingError(
            f"Usage: `/debrief {USAGE}`: connects your Google or Microsoft calendar, so that "
            "notetakers join your meetings as your calendar policy says."
        )
    return words[0].lower()


async def connect(ctx: CommandContext) -> Reply:
    """`/debrief calendar connect google|microsoft`: a link, for this person alone, to the
    consent page of that platform."""
    platform = _platform_of(ctx.args.split())
    services = ctx.services
    services.require(AttendeeClient)  # Attendee syncs the calendar: its not-set-up answer
    problem = setup_problem(services, platform)
    if problem is not None:
        raise UserFacingError(problem)
    try:
        url = FLOWS[platform].link(services, ctx.team_id, ctx.user_id, LINK_TTL)
    except InvalidLink:  # the keys were checked above; a malformed key lands here
        log.warning("calendars cannot be connected: no usable DEBRIEF_ENCRYPTION_KEYS")
        raise UserFacingError(NOT_SET_UP) from None
    minutes = int(LINK_TTL.total_seconds() // 60)
    opened = link(url, f"Connect your {NAMES[platform]} calendar", url_limit=SECTION_TEXT - 300)
    text = (
        f":calendar: {opened}. The link is for you alone: it works for {minutes} minutes, once. "
        "Do not forward it. Connecting again later replaces the earlier connection."
    )
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


# --- the browser side ---


def _flow_problem(platform: str) -> Callable[[Settings], str | None]:
    def problem(settings: Settings) -> str | None:
        if platform_problem(calendar_settings(settings), platform) is not None:
            return f"{NAMES[platform]} calendars cannot be connected on this Debrief yet."
        if not public_url(settings) or not settings.encryption_key_list():
            return NOT_SET_UP
        return None

    return problem


def _authorize(platform: Platform) -> Authorize:
    def authorize(services: Services, redirect_uri: str, state: str) -> str:
        own = calendar_settings(services.settings)
        client = client_of(own, platform)
        auth_url = own.google_auth_url if platform == "google" else own.microsoft_auth_url
        return authorize_url(platform, auth_url, client[0] if client else "", redirect_uri, state)

    return authorize


def _failed(flow: ConsentFlow, what: str, *, status: int, hint: str | None = None) -> web.Response:
    return page(
        f"{flow.product} was not connected",
        what,
        status=status,
        hint=hint or f"Nothing was connected. In Slack, run {flow.restart} to try again.",
    )


async def _exchange(services: Services, platform: Platform, code: str) -> CalendarTokens:
    own = calendar_settings(services.settings)
    client_id, client_secret = client_of(own, platform) or ("", "")
    return await exchange_code(
        services.http,
        platform,
        own.google_token_url if platform == "google" else own.microsoft_token_url,
        code=code,
        redirect_uri=FLOWS[platform].callback_url(services.settings),
        client_id=client_id,
        client_secret=client_secret,
    )


async def hand_to_attendee(
    services: Services, platform: Platform, tokens: CalendarTokens, *, team_id: str, user_id: str
) -> Calendar:
    """``POST /calendars`` with the new refresh token; when Attendee already has this person's
    calendar of this platform (its ``deduplication_key`` is taken), give that one the new token
    (``PATCH``, which also reconnects it) rather than a second calendar.

    Raises:
        UserFacingError: Attendee is not configured.
        ProviderError: Attendee refused or failed.
    """
    attendee = services.require(AttendeeClient)
    client_id, client_secret = client_of(calendar_settings(services.settings), platform) or ("", "")
    key = deduplication_key(team_id, user_id, platform)
    owner = {"slack_team_id": team_id, "slack_user_id": user_id}
    refresh_token = tokens.refresh_token.get_secret_value()
    try:
        return await attendee.calendars.create(
            CreateCalendar(
                platform=platform,
                client_id=client_id,
                client_secret=client_secret,
                refresh_token=refresh_token,
                deduplication_key=key,
                metadata=owner,
            )
        )
    except BadRequest as exc:
        # Attendee: 400 {"deduplication_key": ["A calendar with this deduplication key already
        # exists in this project."]} (calendars_api_utils.py); anything else is a real refusal.
        body = exc.body if isinstance(exc.body, dict) else {}
        if "deduplication_key" not in body:
            raise
    existing = None
    async for calendar in attendee.calendars.iter_calendars(deduplication_key=key):
        existing = calendar
        break
    if existing is None:  # deleted between the two requests: the next connect creates it
        raise Conflict("attendee", "the calendar changed while connecting", status_code=409)
    log.info("calendar %s of %s exists at Attendee: giving it the new token", existing.id, user_id)
    return await attendee.calendars.update(
        existing.id,
        refresh_token=refresh_token,
        client_secret=client_secret,
        metadata={**(existing.metadata or {}), **owner},
    )


async def _finish(services: Services, taken: TakenState, code: str) -> web.Response:
    """The code of a spent state: exchange it, hand the refresh token to Attendee, remember the
    calendar as the person's, and have them told in Slack."""
    platform = cast(Platform, taken.provider.removeprefix("calendar."))
    flow = FLOWS[platform]
    name = NAMES[platform]
    try:
        tokens = await _exchange(services, platform, code)
    except AuthenticationFailed as exc:
        log.warning("%s calendar code exchange refused: %s", platform, exc.message)
        return flow.start_again(f"{name} {exc.message}")
    except ProviderError as exc:
        log.warning("%s calendar code exchange failed: %s", platform, exc)
        return _failed(
            flow,
            f"{name} could not be reached, or did not give Debrief access to your calendar.",
            status=502,
        )
    try:
        calendar = await hand_to_attendee(
            services, platform, tokens, team_id=taken.team_id, user_id=taken.user_id
        )
    except UserFacingError as exc:
        return _failed(flow, str(exc).replace("`", ""), status=404)
    except Conflict:
        return _failed(flow, "The calendar changed at Attendee while connecting.", status=409)
    except BadRequest as exc:
        log.warning("attendee refused the %s calendar of %s: %s", platform, taken.user_id, exc)
        return _failed(
            flow, f"Attendee, which syncs calendars, refused it: {exc.message}", status=400
        )
    except ProviderError as exc:
        log.warning("attendee failed on the %s calendar of %s: %s", platform, taken.user_id, exc)
        return _failed(
            flow,
            "Attendee, which syncs calendars for Debrief, could not be reached.",
            status=502,
            hint=f"Nothing was connected. Try again in a minute with {flow.restart}.",
        )
    moment = now(services)
    await repo.link_calendar(
        services.sessions, calendar, team_id=taken.team_id, user_id=taken.user_id, now=moment
    )
    await services.queue.submit(
        JOB_CONNECTED,
        ConnectedJob(user_id=taken.user_id, calendar_id=calendar.id, platform=platform, at=moment),
    )
    log.info("%s calendar %s connected for %s", platform, calendar.id, taken.user_id)
    names = await slack_names(services, taken.team_id, taken.user_id)
    return page(
        f"{flow.product} is connected",
        f"Your {name} calendar is now connected to Debrief for the Slack account of "
        f"{names.account()}. Notetakers will join its meetings as your calendar policy says; "
        "Debrief will confirm it in Slack.",
        ok=True,
    )


async def job_connected(services: Services, payload: ConnectedJob, run: JobRun) -> None:
    """The DM saying the calendar is connected; posted once even if the job is retried."""
    name = NAMES.get(payload.platform, payload.platform)
    text = (
        f":white_check_mark: Your {name} calendar is connected. Debrief sends a notetaker to its "
        "meetings as your policy says, and tells you each morning which ones. "
        "`/debrief calendar` shows it; `/debrief calendar disconnect` removes it."
    )
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    channel = await services.slack.open_dm(payload.user_id)
    key = f"connected:{payload.calendar_id}:{int(payload.at.timestamp())}"
    await services.posts.upsert(PostKey("calendar", key, channel, "dm"), text, blocks)


def _flow(platform: Platform) -> ConsentFlow:
    name = NAMES[platform]
    return ConsentFlow(
        provider=provider_of(platform),
        product=PRODUCTS[platform],
        an_account=f"a {name} calendar",
        site=name,
        consequence=(
            f"Whoever signs in at {name} next links their calendar to that Slack account, and "
            "Debrief then sends notetakers to its meetings and tells that Slack account about them."
        ),
        restart=f"/debrief calendar connect {platform}",
        used_hint=(
            f"In Slack, run /debrief calendar connect {platform} for a new link, or /debrief "
            "calendar to see whether your calendar is connected."
        ),
        connect_path=connect_path(platform),
        callback_path=CALLBACK_PATH,
        cookie=f"debrief_calendar_{platform}_oauth",
        confirm_cookie=f"debrief_calendar_{platform}_confirm",
        signer=LinkSigner(
            link_purpose=f"debrief/calendar/{platform}/connect-link/v1".encode(),
            confirm_purpose=f"debrief/calendar/{platform}/connect-confirm/v1".encode(),
        ),
        problem=_flow_problem(platform),
        authorize=_authorize(platform),
        finish=_finish,
    )


FLOWS: dict[str, ConsentFlow] = {platform: _flow(platform) for platform in PLATFORMS}


def register(wiring: Wiring) -> None:
    """The consent pages of both platforms, their shared callback, and the *connected* DM."""
    register_flows(
        wiring.routes,
        list(FLOWS.values()),
        product="Your calendar",
        restart=f"/debrief {USAGE}",
    )
    wiring.jobs.add(JOB_CONNECTED, job_connected, ConnectedJob)
