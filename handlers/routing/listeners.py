"""`/debrief route`, `/debrief routes` and `/debrief unroute`."""

from __future__ import annotations

import re
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import UserFacingError
from bot.slack import slack_error
from handlers.digest.text import split_text
from handlers.routing import repo
from handlers.routing.publish import release_held_soon
from handlers.routing.rules import describe, parse_target, rank, target_help
from handlers.wiring import CommandContext, Reply

ROUTE_USAGE = "route <target> #channel"
UNROUTE_USAGE = "unroute <n>"

_CHANNEL_REF = re.compile(r"<#([CG][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{6,}")


async def require_route_admin(ctx: CommandContext) -> None:
    """Refuse unless the caller is a workspace admin or owner, or named in DEBRIEF_ROUTE_ADMINS."""
    if ctx.user_id in ctx.services.settings.route_admin_list():
        return
    admin = await ctx.services.membership.is_admin(ctx.user_id)
    if admin is None:
        raise UserFacingError(
            "I could not check your role in this workspace with Slack, so I left the routes "
            "as they are."
        )
    if admin:
        return
    raise UserFacingError(
        "Only workspace admins, and the people whoever runs Debrief has named, can change where "
        "digests go. `/debrief routes` shows the current rules."
    )


async def resolve_channel(client: AsyncWebClient, text: str) -> str:
    """The id of a channel given as `#name`, a mention (`<#C…|name>`) or an id.

    Raises:
        UserFacingError: no such channel, or a private one Debrief is not in.
    """
    token = text.strip()
    mention = _CHANNEL_REF.fullmatch(token)
    channel_id: str | None = mention[1] if mention else None
    if channel_id is None and _CHANNEL_ID.fullmatch(token):
        channel_id = token
    if channel_id is None:
        if not token.startswith("#") or len(token) < 2:
            raise UserFacingError(f"Usage: `/debrief {ROUTE_USAGE}` — end with the channel.")
        channel_id = await _channel_by_name(client, token[1:].lower())
    try:
        info = (await client.conversations_info(channel=channel_id)).get("channel") or {}
    except SlackApiError as exc:
        raise UserFacingError(_unreachable(token)) from exc
    if info.get("is_private") and not info.get("is_member"):
        raise UserFacingError(_unreachable(token))
    if info.get("is_archived"):
        raise UserFacingError(f"{token} is archived; pick a channel people read.")
    return channel_id


def _unreachable(token: str) -> str:
    return (
        f"I cannot see {token}. If it is a private channel, invite me first "
        "(`/invite @Debrief` in that channel), then set the route again."
    )


async def _channel_by_name(client: AsyncWebClient, name: str) -> str:
    cursor = None
    while True:
        try:
            answer = await client.conversations_list(
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=1000,
                cursor=cursor,
            )
        except SlackApiError as exc:
            raise UserFacingError(
                f"I could not look up #{name} ({slack_error(exc)}); try the channel's link."
            ) from exc
        for channel in answer.get("channels") or []:
            if str(channel.get("name", "")).lower() == name:
                return str(channel["id"])
        cursor = (answer.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            raise UserFacingError(_unreachable(f"#{name}"))


def split_route_args(args: str) -> tuple[str, str]:
    """The target and the channel of `route <target> #channel`."""
    parts = args.strip().rsplit(maxsplit=1)
    if len(parts) != 2:
        raise UserFacingError(
            f"Usage: `/debrief {ROUTE_USAGE}` where the target is {target_help()}. "
            "Example: `/debrief route title:weekly sync #product`."
        )
    return parts[0], parts[1]


async def handle_route(ctx: CommandContext) -> Reply:
    """`/debrief route <target> #channel`."""
    target, channel_text = split_route_args(ctx.args)
    try:
        kind, value = parse_target(target)
    except ValueError as exc:
        raise UserFacingError(str(exc)) from None
    await require_route_admin(ctx)
    channel = await resolve_channel(ctx.client, channel_text)
    services = ctx.services
    rule, before = await repo.save_route(
        services.sessions, kind, value, channel, ctx.user_id, services.clock()
    )
    await release_held_soon(services)
    what = describe(kind, value)
    if before is not None and before != channel:
        return f"Route #{rule.id} changed: {what} now go to <#{channel}> (was <#{before}>)."
    if before is not None:
        return f"Route #{rule.id} already sends {what} to <#{channel}>."
    return f"Route #{rule.id} added: {what} go to <#{channel}>."


async def handle_routes(ctx: CommandContext) -> Reply:
    """`/debrief routes`: the rules in the order they are tried, and the fallback."""
    services = ctx.services
    rules = sorted(await repo.list_routes(services.sessions), key=rank)
    lines = [f"`#{r.id}` {describe(r.kind, r.value)} → <#{r.channel}>" for r in rules]
    fallback = services.settings.digest_channel
    if fallback:
        lines.append(f"Otherwise → {_channel_text(fallback)} (the default digest channel)")
    else:
        lines.append(
            "Otherwise → held until a rule takes them: there is no default digest channel "
            "(add one with `/debrief route default #channel`, or ask whoever runs Debrief "
            "to set one)"
        )
    held = await repo.held_count(services.sessions)
    blocks: list[dict[str, Any]] = [
        _section("*Where digests go* — the first rule that matches, in this order:")
    ]
    blocks.extend(_section(chunk) for chunk in split_text("\n".join(lines))[:45])
    if held:
        blocks.append(
            _section(
                f":inbox_tray: {held} {'digests are' if held != 1 else 'digest is'} held, "
                "waiting for a route."
            )
        )
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"`/debrief {ROUTE_USAGE}` · `/debrief {UNROUTE_USAGE}` · "
                    f"targets: {target_help()}",
                }
            ],
        }
    )
    return {"text": "Where digests go", "blocks": blocks}


async def handle_unroute(ctx: CommandContext) -> Reply:
    """`/debrief unroute <n>`."""
    number = ctx.args.strip().lstrip("#")
    if not number.isdigit():
        raise UserFacingError(
            f"Usage: `/debrief {UNROUTE_USAGE}` — the number is in `/debrief routes`."
        )
    await require_route_admin(ctx)
    rule = await repo.delete_route(ctx.services.sessions, int(number))
    if rule is None:
        return f"There is no route #{number}; `/debrief routes` lists them."
    what = describe(rule.kind, rule.value)
    return f"Route #{rule.id} removed: {what} no longer go to <#{rule.channel}>."


def _channel_text(channel: str) -> str:
    return f"<#{channel}>" if _CHANNEL_ID.fullmatch(channel) else f"`{channel}`"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}
