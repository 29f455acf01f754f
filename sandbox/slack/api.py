"""The Web API methods: decode a call's arguments, act on the :class:`Workspace`, answer like Slack.

``METHODS`` maps each method name to a handler ``(workspace, args) -> dict`` whose result is
answered as ``{"ok": true, **result}``; a :class:`SlackError` becomes ``{"ok": false, ...}``.
``decode_args`` accepts every encoding slack_sdk uses: query string (``params=``), form bodies
(``data=``, with blocks/view/files JSON-encoded as strings), JSON bodies (``json=``) and multipart.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
from collections.abc import Callable, Mapping
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qsl

from sandbox.slack.state import BOT_ID, BOT_USER_ID, Channel, Json
from sandbox.slack.workspace import SlackError, Workspace, flag

# Arguments slack_sdk sends as JSON text inside form or query encodings.
JSON_ARGS = ("blocks", "attachments", "metadata", "view", "files", "user_auth_blocks")

MARKDOWN_TEXT = 12000

Handler = Callable[[Workspace, Json], Json]


def decode_args(
    query: Mapping[str, str], content_type: str, body: bytes
) -> tuple[Json, str | None]:
    """All arguments of a call, merged from query and body; returns (args, token-in-args)."""
    args: Json = dict(query)
    mime = content_type.split(";")[0].strip().lower()
    if body:
        if mime == "application/json":
            try:
                decoded = json.loads(body)
            except (UnicodeDecodeError, json.JSONDecodeError):
                decoded = None
            if isinstance(decoded, dict):
                args.update(decoded)
        elif mime == "multipart/form-data":
            args.update(_multipart(content_type, body))
        else:
            args.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    for name in JSON_ARGS:
        value = args.get(name)
        if isinstance(value, str):
            with contextlib.suppress(json.JSONDecodeError):
                args[name] = json.loads(value)
    token = args.pop("token", None)
    return args, token if isinstance(token, str) else None


def _multipart(content_type: str, body: bytes) -> Json:
    message = BytesParser().parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    fields: Json = {}
    for part in message.walk():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        raw = payload if isinstance(payload, bytes) else b""
        fields[name] = raw if part.get_filename() else raw.decode("utf-8", "replace")
    return fields


def _need(args: Json, name: str) -> Any:
    value = args.get(name)
    if value is None or value == "":
        raise SlackError(
            "invalid_arguments",
            response_metadata={"messages": [f"[ERROR] missing required field: {name}"]},
        )
    return value


def _opt_flag(args: Json, name: str) -> bool | None:
    return None if args.get(name) is None else flag(args[name])


def _text(args: Json) -> str | None:
    """The message text: ``text``, or ``markdown_text`` (which excludes text and blocks)."""
    markdown = args.get("markdown_text")
    if markdown is not None:
        if args.get("text") is not None or args.get("blocks") is not None:
            raise SlackError("markdown_text_conflict")
        if len(str(markdown)) > MARKDOWN_TEXT:
            raise SlackError("msg_too_long")
        return str(markdown)
    text = args.get("text")
    return None if text is None else str(text)


def _page(items: list[Any], args: Json, default: int = 100) -> tuple[list[Any], str]:
    """Slack's cursor paging: returns the page and the next cursor ("" when done)."""
    try:
        limit = max(1, min(int(args.get("limit") or default), 1000))
    except ValueError as exc:
        raise SlackError("invalid_limit") from exc
    start = 0
    cursor = args.get("cursor")
    if cursor:
        try:
            start = int(base64.b64decode(str(cursor)).decode().removeprefix("offset:"))
        except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
            raise SlackError("invalid_cursor") from exc
    end = start + limit
    more = base64.b64encode(f"offset:{end}".encode()).decode() if end < len(items) else ""
    return items[start:end], more


def _ts_arg(args: Json, name: str, default: float) -> float:
    value = args.get(name)
    if value in (None, ""):
        return default
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise SlackError(f"invalid_ts_{name}") from exc


# ---- auth and team


def auth_test(ws: Workspace, args: Json) -> Json:
    return {
        "url": f"https://{ws.team.domain}.slack.com/",
        "team": ws.team.name,
        "user": ws.bot.name,
        "team_id": ws.team.id,
        "user_id": BOT_USER_ID,
        "bot_id": BOT_ID,
        "is_enterprise_install": False,
    }


def api_test(ws: Workspace, args: Json) -> Json:
    return {"args": args} if args else {}


def team_info(ws: Workspace, args: Json) -> Json:
    return {"team": ws.team.to_api()}


# ---- chat


def chat_post_message(ws: Workspace, args: Json) -> Json:
    channel = ws.postable(str(_need(args, "channel")), allow_user=True)
    text, blocks, attachments = _text(args), args.get("blocks"), args.get("attachments")
    ws.check_content(text, blocks, attachments)
    message = ws.post(
        channel,
        text=text or "",
        blocks=blocks,
        attachments=attachments,
        thread_ts=args.get("thread_ts") or None,
        reply_broadcast=flag(args.get("reply_broadcast")),
        metadata=args.get("metadata") if isinstance(args.get("metadata"), dict) else None,
        unfurl_links=_opt_flag(args, "unfurl_links"),
        unfurl_media=_opt_flag(args, "unfurl_media"),
    )
    return {"channel": channel.id, "ts": message.ts, "message": ws.message_api(message)}


def chat_update(ws: Workspace, args: Json) -> Json:
    channel = ws.visible(str(_need(args, "channel")))
    message = ws.find(channel.id, str(_need(args, "ts")))
    if message is None:
        raise SlackError("message_not_found")
    if message.user != BOT_USER_ID:
        raise SlackError("cant_update_message")
    text, blocks, attachments = _text(args), args.get("blocks"), args.get("attachments")
    ws.check_content(text, blocks, attachments)
    metadata = args.get("metadata") if isinstance(args.get("metadata"), dict) else None
    ws.update(message, text=text, blocks=blocks, attachments=attachments, metadata=metadata)
    return {
        "channel": channel.id,
        "ts": message.ts,
        "text": message.text,
        "message": ws.message_api(message),
    }


def chat_delete(ws: Workspace, args: Json) -> Json:
    channel = ws.visible(str(_need(args, "channel")))
    message = ws.find(channel.id, str(_need(args, "ts")))
    if message is None:
        raise SlackError("message_not_found")
    if message.user != BOT_USER_ID:
        raise SlackError("cant_delete_message")
    ws.delete(message)
    return {"channel": channel.id, "ts": message.ts}


def chat_post_ephemeral(ws: Workspace, args: Json) -> Json:
    channel = ws.postable(str(_need(args, "channel")))
    user = ws.user(str(_need(args, "user")))
    if user.id not in channel.members:
        raise SlackError("user_not_in_channel")
    text, blocks, attachments = _text(args), args.get("blocks"), args.get("attachments")
    ws.check_content(text, blocks, attachments)
    ephemeral = ws.post_ephemeral(
        channel,
        user.id,
        text=text or "",
        blocks=blocks,
        attachments=attachments,
        thread_ts=args.get("thread_ts"),
    )
    return {"message_ts": ephemeral.ts}


def chat_get_permalink(ws: Workspace, args: Json) -> Json:
    channel = ws.visible(str(_need(args, "channel")))
    message = ws.find(channel.id, str(_need(args, "message_ts")))
    if message is None:
        raise SlackError("message_not_found")
    return {
        "channel": channel.id,
        "permalink": ws.permalink(channel.id, message.ts, message.thread_ts),
    }


# ---- conversations


def conversations_info(ws: Workspace, args: Json) -> Json:
    channel = ws.visible(str(_need(args, "channel")))
    return {"channel": channel.to_api(ws.team.id)}


def conversations_join(ws: Workspace, args: Json) -> Json:
    channel = ws.visible(str(_need(args, "channel")))
    if channel.is_im or channel.is_private:
        raise SlackError("method_not_supported_for_channel_type")
    if channel.is_archived:
        raise SlackError("is_archived")
    already = channel.is_member
    ws.join(channel)
    result: Json = {"channel": channel.to_api(ws.team.id)}
    if already:
        result["warning"] = "already_in_channel"
        result["response_metadata"] = {"warnings": ["already_in_channel"]}
    return result


def conversations_list(ws: Workspace, args: Json) -> Json:
    types = set(str(args.get("types") or "public_channel").split(","))
    exclude_archived = flag(args.get("exclude_archived"))
    chosen = [
        channel.to_api(ws.team.id)
        for channel in ws.channels.values()
        if _wanted(channel, types) and not (exclude_archived and channel.is_archived)
    ]
    page, cursor = _page(chosen, args)
    return {"channels": page, "response_metadata": {"next_cursor": cursor}}


def _wanted(channel: Channel, types: set[str]) -> bool:
    """Whether a conversation is of one of ``types``, and the bot may know it exists."""
    if channel.is_im:
        return "im" in types
    if channel.is_private:
        # Slack shows the bot only the private channels it was invited to.
        return "private_channel" in types and channel.is_member
    return "public_channel" in types


def conversations_members(ws: Workspace, args: Json) -> Json:
    channel = ws.visible(str(_need(args, "channel")))
    page, cursor = _page(sorted(channel.members), args)
    return {"members": page, "response_metadata": {"next_cursor": cursor}}


def users_conversations(ws: Workspace, args: Json) -> Json:
    user = ws.user(str(args.get("user") or BOT_USER_ID))
    types = set(str(args.get("types") or "public_channel").split(","))
    exclude_archived = flag(args.get("exclude_archived"))
    chosen = [
        channel.to_api(ws.team.id)
        for channel in ws.channels.values()
        if user.id in channel.members
        and _wanted(channel, types)
        and not (exclude_archived and channel.is_archived)
    ]
    page, cursor = _page(chosen, args)
    return {"channels": page, "response_metadata": {"next_cursor": cursor}}


def conversations_open(ws: Workspace, args: Json) -> Json:
    if args.get("channel"):
        channel = ws.visible(str(args["channel"]))
        already = True
    else:
        users = [u for u in str(_need(args, "users")).split(",") if u]
        if len(users) != 1:
            raise SlackError("not_supported", detail="the stand-in opens one-person DMs only")
        ws.user(users[0])
        already = ("D" + users[0][1:]) in ws.channels
        channel = ws.open_im(users[0])
    shown = channel.to_api(ws.team.id) if flag(args.get("return_im")) else {"id": channel.id}
    return {"no_op": already, "already_open": already, "channel": shown}


def conversations_history(ws: Workspace, args: Json) -> Json:
    channel = ws.readable(str(_need(args, "channel")))
    latest = _ts_arg(args, "latest", float("inf"))
    oldest = _ts_arg(args, "oldest", 0.0)
    inclusive = flag(args.get("inclusive"))
    newest_first = [
        m
        for m in reversed(ws.top_level(channel.id))
        if (oldest <= float(m.ts) <= latest if inclusive else oldest < float(m.ts) < latest)
    ]
    page, cursor = _page(newest_first, args)
    return {
        "messages": [ws.message_api(m) for m in page],
        "has_more": bool(cursor),
        "pin_count": 0,
        "response_metadata": {"next_cursor": cursor},
    }


def conversations_replies(ws: Workspace, args: Json) -> Json:
    channel = ws.readable(str(_need(args, "channel")))
    parent = ws.find(channel.id, str(_need(args, "ts")))
    if parent is None:
        raise SlackError("thread_not_found")
    thread_ts = parent.thread_ts if parent.is_reply and parent.thread_ts else parent.ts
    head = ws.find(channel.id, thread_ts)
    thread = ([head] if head else []) + ws.replies(channel.id, thread_ts)
    page, cursor = _page(thread, args, default=1000)
    return {
        "messages": [ws.message_api(m) for m in page],
        "has_more": bool(cursor),
        "response_metadata": {"next_cursor": cursor},
    }


# ---- users


def users_info(ws: Workspace, args: Json) -> Json:
    return {"user": ws.user(str(_need(args, "user"))).to_api(ws.team.id, ws.clock())}


def users_list(ws: Workspace, args: Json) -> Json:
    members = [u.to_api(ws.team.id, ws.clock()) for u in ws.users.values()]
    page, cursor = _page(members, args, default=1000)
    return {
        "members": page,
        "cache_ts": int(ws.clock()),
        "response_metadata": {"next_cursor": cursor},
    }


def users_lookup_by_email(ws: Workspace, args: Json) -> Json:
    email = str(_need(args, "email")).strip().lower()
    for user in ws.users.values():
        if user.email and user.email.lower() == email:
            return {"user": user.to_api(ws.team.id, ws.clock())}
    raise SlackError("users_not_found")


# ---- views


def views_open(ws: Workspace, args: Json) -> Json:
    trigger_id = str(_need(args, "trigger_id"))
    spec = ws.check_view(args.get("view"), "modal")
    trigger = ws.take_trigger(trigger_id)
    return {"view": ws.open_modal(trigger.user_id, spec).to_api()}


def views_push(ws: Workspace, args: Json) -> Json:
    trigger_id = str(_need(args, "trigger_id"))
    spec = ws.check_view(args.get("view"), "modal")
    trigger = ws.take_trigger(trigger_id)
    return {"view": ws.push_modal(trigger.user_id, spec).to_api()}


def views_update(ws: Workspace, args: Json) -> Json:
    if not args.get("view_id") and not args.get("external_id"):
        _need(args, "view_id")
    old = ws.find_view(args.get("view_id"), args.get("external_id"))
    spec = ws.check_view(args.get("view"), old.type)
    view = ws.replace_view(old, spec, args.get("hash"))
    return {"view": view.to_api(ws.inputs.get(view.id))}


def views_publish(ws: Workspace, args: Json) -> Json:
    user = ws.user(str(_need(args, "user_id")))
    spec = ws.check_view(args.get("view"), "home")
    view = ws.publish_home(user.id, spec, args.get("hash"))
    return {"view": view.to_api(ws.inputs.get(view.id))}


# ---- files


def files_get_upload_url_external(ws: Workspace, args: Json) -> Json:
    filename = str(_need(args, "filename"))
    try:
        length = int(_need(args, "length"))
    except ValueError as exc:
        raise SlackError("invalid_arguments") from exc
    upload = ws.start_upload(filename, length, args.get("alt_txt"))
    return {"upload_url": f"{ws.base_url}/upload/v1/{upload.token}", "file_id": upload.file.id}


def files_complete_upload_external(ws: Workspace, args: Json) -> Json:
    wanted = args.get("files")
    if not isinstance(wanted, list) or not wanted:
        raise SlackError("invalid_arguments")
    uploads = {u.file.id: u for u in ws.uploads.values()}
    files = []
    for item in wanted:
        upload = uploads.get(str(item.get("id"))) if isinstance(item, dict) else None
        if upload is None or not upload.received:
            raise SlackError("file_not_found")
        upload.file.title = str(item.get("title") or upload.file.name)
        files.append(upload.file)
    targets = [args["channel_id"]] if args.get("channel_id") else []
    targets += [c for c in str(args.get("channels") or "").split(",") if c]
    for target in targets:
        channel = ws.postable(str(target))
        ws.share_files(
            files, channel, str(args.get("initial_comment") or ""), args.get("thread_ts") or None
        )
    return {"files": [f.to_api(ws.base_url, ws.team.id) for f in files]}


def files_info(ws: Workspace, args: Json) -> Json:
    file = ws.files.get(str(_need(args, "file")))
    if file is None:
        raise SlackError("file_not_found")
    return {"file": file.to_api(ws.base_url, ws.team.id)}


METHODS: dict[str, Handler] = {
    "api.test": api_test,
    "auth.test": auth_test,
    "team.info": team_info,
    "chat.postMessage": chat_post_message,
    "chat.update": chat_update,
    "chat.delete": chat_delete,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.getPermalink": chat_get_permalink,
    "conversations.info": conversations_info,
    "conversations.join": conversations_join,
    "conversations.list": conversations_list,
    "conversations.members": conversations_members,
    "conversations.open": conversations_open,
    "conversations.history": conversations_history,
    "conversations.replies": conversations_replies,
    "users.info": users_info,
    "users.list": users_list,
    "users.conversations": users_conversations,
    "users.lookupByEmail": users_lookup_by_email,
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "views.publish": views_publish,
    "files.getUploadURLExternal": files_get_upload_url_external,
    "files.completeUploadExternal": files_complete_upload_external,
    "files.info": files_info,
}

# Methods Slack answers without a token.
NO_AUTH = frozenset({"api.test"})
