"""The Slack stand-in: a fake workspace and Web API, and Slack's client side for driving an app.

Start it and point the app (or any slack_sdk client) at it::

    async with SlackStandIn(signing_secret="s3cret") as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        await client.chat_postMessage(channel="#general", text="hi")
        slack.messages("#general")[-1].text            # "hi"
        delivery = await slack.command(app_url, "/debrief", "join https://zoom.us/j/1")
        status, body, elapsed = delivery              # also .json, .late, .error

The workspace (:class:`Workspace`, ``slack.workspace``) is seeded with team ``T0SANDBOX``
(domain ``debrief-sandbox``); people Ada Lovelace ``U0ADA`` (admin, Europe/London), Grace Hopper
``U0GRACE`` (America/New_York), Alan Turing ``U0ALAN`` (Europe/London), Katherine Johnson
``U0KATHERINE`` (America/Los_Angeles), Linus Torvalds ``U0LINUS`` (Asia/Tokyo), all
``<name>@example.com``; the app's bot user ``U0DEBRIEF`` (bot ``B0DEBRIEF``, app ``A0DEBRIEF``);
channels #general ``C0GENERAL``, #meetings ``C0MEETINGS``, #eng ``C0ENG`` (bot is a member),
#random ``C0RANDOM`` (public, bot is not a member: ``not_in_channel``), private #leadership
``C0LEADERSHIP`` (bot is a member) and #hr ``C0HR`` (bot is not: ``channel_not_found``). The bot's
DM with a person is ``D`` + the user id without its ``U`` (``D0ADA``), opened on first use.

Web API (``/api/<method>``; GET or POST; query, form, JSON or multipart, as slack_sdk sends them;
``Authorization: Bearer <bot_token>`` or a ``token`` argument, else ``not_authed`` /
``invalid_auth``):
auth.test, api.test, team.info, chat.postMessage, chat.update, chat.delete, chat.postEphemeral,
chat.getPermalink, conversations.info/join/list/open/history/replies, users.info/list/
lookupByEmail, views.open/push/update/publish, files.getUploadURLExternal (+ the upload URL
``/upload/v1/<token>``), files.completeUploadExternal, files.info. Unknown methods answer 404
``unknown_method``. Message content is checked by :mod:`sandbox.slack.blocks` (``invalid_blocks``
with ``errors`` and ``response_metadata.messages``, ``invalid_blocks_format``, ``msg_too_long``,
``no_text``); views answer ``invalid_arguments`` with ``response_metadata.messages``, as Slack
does. views.open/push need a trigger_id the stand-in issued less than 3 s earlier, used once
(``invalid_trigger_id``, ``expired_trigger_id``, ``exchanged_trigger_id``).

:class:`SlackStandIn` (``sandbox.slack.server``)
    ``SlackStandIn(*, signing_secret, bot_token, verification_token, clock=time.time,
    enforce_rate_limits=False, chat_write_public=False, default_user="U0ADA",
    default_channel="C0GENERAL", events_path="/slack/events", lock=None)``
    ``.url``, ``.api_url`` (``<url>/api/``), ``.page_url`` (the page, with the run's token),
    ``.lock`` (``lock.headers()`` opens ``/_sandbox/…`` to a driver: :mod:`sandbox.lock`),
    ``.workspace``, ``.calls`` and ``.fail()`` (base).
    State: ``messages(channel) -> list[Message]`` (top level, current content),
    ``thread(channel, ts)``, ``ephemerals(user, channel=None)``, ``dms(user)``, ``home(user)``,
    ``modals(user)`` (stack), ``view(view_id)``, ``snapshot()`` (also ``GET /_sandbox/state``),
    ``calls_of(method) -> list[dict]`` (decoded arguments, token removed).
    Control: ``ratelimit(method, retry_after=1, times=1)`` (injects Slack's 429),
    ``issue_trigger(user_id)``, ``say(channel, text, user_id=, thread_ts=)`` (a person posts).
    Pacing: with ``enforce_rate_limits`` chat.postMessage allows ~1/s per channel (burst 3) and
    other methods their tier per minute (``sandbox.slack.pacing``), answering 429 + Retry-After.
    Event log: ``workspace.changes`` (``Change(seq, kind, data)``; kinds message_posted,
    message_updated, message_deleted, ephemeral_posted/updated/deleted, view_opened,
    view_pushed, view_updated, view_closed, view_errors, home_published, file_shared,
    im_opened, channel_joined), ``subscribe() -> asyncio.Queue[Change]``, ``unsubscribe(q)``,
    ``last_seq``, ``await wait_for(kind, since=0, timeout=5, **match)``, and
    ``GET /_sandbox/events?after=<seq>``.
    Driving the app (each signs with ``signing_secret`` and POSTs to ``app_url`` +
    ``events_path``; each returns a :class:`Delivery` ``(status, body, elapsed, error)``):
    ``await command(app_url, "/debrief", "text", user_id=, channel_id=)`` (the app's own answer
    is shown as Slack shows it; a non-200 or late answer becomes Slack's error ephemeral),
    ``await click(app_url, message_or_view, action_id, value=, selected_user=, selected_date=,
    selected_option=, selected_options=, block_id=, user_id=)`` (block_actions),
    ``fill(message_or_view, action_id, value)`` (enter a value without sending),
    ``await view_submission(app_url, view, values={action_id: value}, user_id=)`` (applies
    response_action errors/update/push/clear, else closes the view),
    ``await close_view(app_url, view)``, ``await event(app_url, event_dict, event_id=,
    retry_num=, retry_reason=)`` (event_callback envelope), ``await open_home(app_url, user_id)``
    (app_home_opened), ``await url_verification(app_url, challenge)``, and the low-level
    ``await deliver(app_url, body, content_type, timestamp=, signature=, headers=)`` for
    stale or badly signed requests.
    response_urls (``/hooks/response/<team>/<token>``, 5 uses in 30 minutes) honour text,
    blocks, response_type ephemeral|in_channel, replace_original, delete_original, thread_ts.

Modules: ``state`` (records and seeds), ``conversations`` + ``workspace`` (the state and its
operations, no HTTP), ``api`` (Web API methods and argument decoding), ``blocks`` (the Block Kit
rule tables), ``pacing`` (rate limits), ``driver`` (payloads Slack sends), ``server`` (HTTP).

Signing (``sandbox.slack.signing``): ``sign(signing_secret, timestamp, body) -> "v0=<hex>"`` and
``signed_headers(signing_secret, timestamp, body, content_type)``.
"""

from sandbox.slack.blocks import Problem, validate_blocks, validate_view
from sandbox.slack.server import Delivery, SlackStandIn
from sandbox.slack.signing import sign, signed_headers
from sandbox.slack.state import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    Channel,
    Ephemeral,
    File,
    Message,
    Team,
    User,
    View,
)
from sandbox.slack.workspace import Change, SlackError, Workspace

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_USER_ID",
    "Change",
    "Channel",
    "Delivery",
    "Ephemeral",
    "File",
    "Message",
    "Problem",
    "SlackError",
    "SlackStandIn",
    "Team",
    "User",
    "View",
    "Workspace",
    "sign",
    "signed_headers",
    "validate_blocks",
    "validate_view",
]
