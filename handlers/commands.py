"""The `/debrief` slash command: parse the subcommand, dispatch it, answer with usage on a typo,
and the global error handler that turns failures into a sentence for the person who asked.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blockkit import mrkdwn
from bot.errors import UserFacingError
from bot.logs import trace_id
from bot.services import Services
from handlers.digest.render import provider_name
from handlers.wiring import CommandContext, Reply, Subcommands, Wiring, click_of
from providers.errors import ProviderError

log = logging.getLogger(__name__)

COMMAND = "/debrief"


def register(wiring: Wiring) -> None:
    commands = wiring.commands
    wiring.bolt.command(COMMAND)(make_command_listener(commands))
    commands.add("help", "help", "Show what Debrief can do", make_help(commands))
    wiring.bolt.error(handle_error)


# Usage lines name their arguments like `<meeting-url>`; in Slack's mrkdwn a bare `<…>` is link
# syntax, so those placeholders are escaped. Real links, mentions and commands (`<https://…>`,
# `<@U…>`, `<#C…>`, `<!here>`) do not match.
_PLACEHOLDER = re.compile(r"<([A-Za-z][A-Za-z0-9 _-]*)>")


def escape_placeholders(text: str) -> str:
    """Escape usage placeholders such as ``<bot-id>`` so Slack shows them as written."""
    return _PLACEHOLDER.sub(r"&lt;\1&gt;", text)


def split(text: str) -> tuple[str, str]:
    """The subcommand (lower case) and the rest of the text."""
    words = text.strip().split(maxsplit=1)
    if not words:
        return "", ""
    return words[0].lower(), words[1] if len(words) > 1 else ""


def build_help_blocks(commands: Subcommands) -> list[dict[str, Any]]:
    lines = [escape_placeholders(f"`{COMMAND} {c.usage}` — {c.summary}") for c in commands]
    return [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "*Debrief* brings your meeting "
                "notetakers into Slack. Here is what you can ask:",
            },
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}},
    ]


def usage_reply(commands: Subcommands, word: str) -> str:
    """The answer to an unknown subcommand: what was not understood, a guess, and the usage."""
    guess = difflib.get_close_matches(word, commands.names(), n=1)
    hint = f" Did you mean `{COMMAND} {guess[0]}`?" if guess else ""
    usage = ", ".join(f"`{c.name}`" for c in commands)
    return (
        f"Sorry, I don't know `{COMMAND} {mrkdwn(word, 100)}`.{hint} Try {usage} — "
        f"or `{COMMAND} help` for details."
    )


def make_help(commands: Subcommands) -> Any:
    async def handle_help(ctx: CommandContext) -> Reply:
        return {"text": "What Debrief can do", "blocks": build_help_blocks(commands)}

    return handle_help


def make_command_listener(commands: Subcommands) -> Any:
    async def handle_debrief_command(
        ack: AsyncAck, command: dict[str, Any], services: Services, client: AsyncWebClient
    ) -> None:
        word, args = split(command.get("text", ""))
        sub = commands.get(word or "help")
        if sub is None:
            await ack(text=usage_reply(commands, word), response_type="ephemeral")
            return
        ctx = CommandContext(
            services=services,
            client=client,
            args=args,
            team_id=command.get("team_id", ""),
            channel_id=command.get("channel_id", ""),
            user_id=command.get("user_id", ""),
            response_url=command.get("response_url", ""),
            trigger_id=command.get("trigger_id", ""),
            body=command,
        )
        try:
            reply = await sub.handler(ctx)
        except UserFacingError as exc:
            reply = exc.message
        services.metrics.inc("debrief_commands_total", help="Slash commands", subcommand=sub.name)
        if reply is None:
            # A job answers through the response_url; an empty acknowledgement shows nothing,
            # so that answer is the only one (a placeholder could even arrive after it).
            await ack()
            return
        answer = {"text": reply} if isinstance(reply, str) else dict(reply)
        answer["text"] = escape_placeholders(str(answer.get("text", "")))
        answer.setdefault("response_type", "ephemeral")
        await ack(**answer)

    return handle_debrief_command


def describe_failure(error: BaseException) -> str:
    """What the person sees when their request failed."""
    if isinstance(error, UserFacingError):
        return escape_placeholders(error.message)
    if isinstance(error, ProviderError):
        name = provider_name(error.provider)
        return f"{name} is unavailable right now; please try again in a minute."
    return f"Something went wrong on our side (reference `{trace_id.get()}`). It has been logged."


async def handle_error(
    error: Exception,
    body: dict[str, Any],
    response: BoltResponse | None,
    respond: AsyncRespond,
    client: AsyncWebClient,
) -> BoltResponse | None:
    """Bolt's global error handler: log what is ours, answer the person either way."""
    if not isinstance(error, UserFacingError | ProviderError):
        log.exception("listener failed", exc_info=error)
    message = describe_failure(error)
    if response is None or response.status >= 400:
        # Not acknowledged yet: the answer itself carries the message.
        return BoltResponse(
            status=200,
            body=json.dumps({"response_type": "ephemeral", "text": message}),
            headers={"content-type": "application/json"},
        )
    click = click_of(body)
    thread = click.thread
    if thread is not None:
        with contextlib.suppress(SlackApiError):  # then the response_url below
            await client.chat_postEphemeral(
                channel=thread.channel, user=thread.user, thread_ts=thread.ts, text=message
            )
            return None
    if body.get("response_url"):
        await respond(text=message, response_type="ephemeral", replace_original=False)
    return None
