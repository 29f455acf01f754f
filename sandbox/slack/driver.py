"""Slack's client side: the payloads Slack sends to an app when people type commands, click,
fill in and submit views, and the state.values it builds from what they entered.

Pure functions over the :class:`Workspace`; :class:`SlackStandIn` signs and delivers them.
"""

from __future__ import annotations

import copy
from typing import Any

from sandbox.slack.state import APP_ID, BOT_USER_ID, Ephemeral, Json, Message, View
from sandbox.slack.workspace import Workspace, interactive_elements

# Element type -> the key its state lives under, in state.values and in the action.
STATE_KEYS = {
    "plain_text_input": "value",
    "email_text_input": "value",
    "url_text_input": "value",
    "number_input": "value",
    "rich_text_input": "rich_text_value",
    "static_select": "selected_option",
    "external_select": "selected_option",
    "radio_buttons": "selected_option",
    "overflow": "selected_option",
    "multi_static_select": "selected_options",
    "multi_external_select": "selected_options",
    "checkboxes": "selected_options",
    "users_select": "selected_user",
    "multi_users_select": "selected_users",
    "conversations_select": "selected_conversation",
    "multi_conversations_select": "selected_conversations",
    "channels_select": "selected_channel",
    "multi_channels_select": "selected_channels",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "datetimepicker": "selected_date_time",
}

# Where each element's initial value is declared.
INITIAL_KEYS = {
    "value": "initial_value",
    "rich_text_value": "initial_value",
    "selected_option": "initial_option",
    "selected_options": "initial_options",
    "selected_user": "initial_user",
    "selected_users": "initial_users",
    "selected_conversation": "initial_conversation",
    "selected_conversations": "initial_conversations",
    "selected_channel": "initial_channel",
    "selected_channels": "initial_channels",
    "selected_date": "initial_date",
    "selected_time": "initial_time",
    "selected_date_time": "initial_date_time",
}

Target = Message | Ephemeral | View


def container_key(target: Target) -> str:
    """Where the entered values of a message or view are kept in ``Workspace.inputs``."""
    if isinstance(target, View):
        return target.id
    return f"{target.channel}:{target.ts}"


def find_element(
    blocks: list[Json], action_id: str, block_id: str | None = None
) -> tuple[str, Json]:
    """The (block_id, element) with ``action_id``; LookupError if the blocks have none."""
    for block in blocks:
        if block_id is not None and block.get("block_id") != block_id:
            continue
        for element in interactive_elements(block):
            if element.get("action_id") == action_id:
                return str(block.get("block_id")), element
    raise LookupError(f"no element with action_id {action_id!r} in these blocks")


def _option(element: Json, value: Any) -> Json:
    if isinstance(value, dict):
        return value
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    for option in options:
        if option.get("value") == value:
            return {k: option[k] for k in ("text", "value", "description") if k in option}
    if element.get("type", "").endswith("external_select"):
        return {"text": {"type": "plain_text", "text": str(value)}, "value": str(value)}
    raise LookupError(f"{element.get('action_id')!r} has no option with value {value!r}")


def element_state(element: Json, value: Any) -> Json:
    """The state.values entry of ``element`` once a person entered ``value``."""
    kind = str(element.get("type"))
    key = STATE_KEYS.get(kind)
    if key is None:
        raise LookupError(f"{kind} elements hold no value")
    if key == "selected_option":
        entered: Any = None if value is None else _option(element, value)
    elif key == "selected_options":
        entered = [_option(element, v) for v in (value or [])]
    else:
        entered = value
    return {"type": kind, key: entered}


def initial_state(element: Json) -> Json | None:
    """The state.values entry of an untouched element (``None`` if it holds no value)."""
    kind = str(element.get("type"))
    key = STATE_KEYS.get(kind)
    if key is None or kind == "overflow":
        return None
    initial = element.get(INITIAL_KEYS[key])
    if initial is None and key.startswith("selected_") and key.endswith("s"):
        initial = []
    return {"type": kind, key: copy.deepcopy(initial)}


def state_values(ws: Workspace, target: Target) -> Json:
    """Slack's ``state.values``: every stateful element, with what was entered or its initial."""
    entered = ws.inputs.get(container_key(target), {})
    values: Json = {}
    for block in target.blocks:
        block_id = str(block.get("block_id"))
        for element in interactive_elements(block):
            action_id = str(element.get("action_id"))
            state = entered.get(block_id, {}).get(action_id) or initial_state(element)
            if state is not None:
                values.setdefault(block_id, {})[action_id] = copy.deepcopy(state)
    return values


def enter(
    ws: Workspace, target: Target, action_id: str, value: Any, block_id: str | None = None
) -> tuple[str, Json, Json]:
    """Record that a person entered ``value``; returns (block_id, element, state)."""
    found_block, element = find_element(target.blocks, action_id, block_id)
    state = element_state(element, value)
    ws.inputs.setdefault(container_key(target), {}).setdefault(found_block, {})[action_id] = state
    return found_block, element, state


def user_ref(ws: Workspace, user_id: str) -> Json:
    user = ws.user(user_id)
    return {"id": user.id, "username": user.name, "name": user.name, "team_id": ws.team.id}


def command_form(
    ws: Workspace,
    *,
    command: str,
    text: str,
    user_id: str,
    channel_id: str,
    verification_token: str,
) -> dict[str, str]:
    """The form fields of a slash command, in Slack's order, with a live response_url/trigger."""
    user = ws.user(user_id)
    channel = ws.channel(channel_id)
    return {
        "token": verification_token,
        "team_id": ws.team.id,
        "team_domain": ws.team.domain,
        "channel_id": channel.id,
        "channel_name": channel.slash_name,
        "user_id": user.id,
        "user_name": user.name,
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": ws.issue_response_url(channel.id, user.id),
        "trigger_id": ws.issue_trigger(user.id),
    }


def action(element: Json, block_id: str, state: Json | None, action_ts: str) -> Json:
    """One entry of a block_actions payload's ``actions``."""
    kind = element.get("type")
    data: Json = {"action_id": element.get("action_id"), "block_id": block_id, "type": kind}
    if kind == "button":
        data["text"] = element.get("text")
        if "value" in element:
            data["value"] = element["value"]
        if "style" in element:
            data["style"] = element["style"]
    elif state is not None:
        data.update({k: v for k, v in state.items() if k != "type"})
        if "placeholder" in element:
            data["placeholder"] = element["placeholder"]
    data["action_ts"] = action_ts
    return data


def block_actions(
    ws: Workspace, target: Target, act: Json, *, user_id: str, verification_token: str
) -> Json:
    """A block_actions payload as Slack builds it for a click in a message or a view."""
    payload: Json = {
        "type": "block_actions",
        "user": user_ref(ws, user_id),
        "api_app_id": APP_ID,
        "token": verification_token,
        "container": {},
        "trigger_id": ws.issue_trigger(user_id),
        "team": {"id": ws.team.id, "domain": ws.team.domain},
        "enterprise": None,
        "is_enterprise_install": False,
    }
    if isinstance(target, View):
        payload["container"] = {"type": "view", "view_id": target.id}
        payload["view"] = target.to_api(state_values(ws, target))
    else:
        channel = ws.channels[target.channel]
        is_ephemeral = isinstance(target, Ephemeral)
        payload["container"] = {
            "type": "message",
            "message_ts": target.ts,
            "channel_id": channel.id,
            "is_ephemeral": is_ephemeral,
        }
        if target.thread_ts:
            payload["container"]["thread_ts"] = target.thread_ts
        payload["channel"] = {"id": channel.id, "name": channel.slash_name}
        if isinstance(target, Message):
            # Slack does not send the content of ephemeral messages back.
            payload["message"] = ws.message_api(target)
        payload["state"] = {"values": state_values(ws, target)}
        payload["response_url"] = ws.issue_response_url(
            channel.id, user_id, message_ts=target.ts, is_ephemeral=is_ephemeral
        )
    payload["actions"] = [act]
    return payload


def view_payload(
    ws: Workspace, kind: str, view: View, *, user_id: str, verification_token: str
) -> Json:
    """A view_submission or view_closed payload."""
    payload: Json = {
        "type": kind,
        "team": {"id": ws.team.id, "domain": ws.team.domain},
        "user": user_ref(ws, user_id),
        "api_app_id": APP_ID,
        "token": verification_token,
        "trigger_id": ws.issue_trigger(user_id),
        "view": view.to_api(state_values(ws, view)),
        "enterprise": None,
        "is_enterprise_install": False,
    }
    if kind == "view_submission":
        payload["response_urls"] = []
    else:
        payload["is_cleared"] = False
    return payload


def event_envelope(ws: Workspace, event: Json, *, event_id: str, verification_token: str) -> Json:
    """The event_callback envelope around an Events API event."""
    event = dict(event)
    event.setdefault("event_ts", ws.next_ts())
    return {
        "token": verification_token,
        "team_id": ws.team.id,
        "context_team_id": ws.team.id,
        "context_enterprise_id": None,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(ws.clock()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": ws.team.id,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{event.get('type', 'event')}-{ws.team.id}-{event_id}",
    }


def app_home_opened(ws: Workspace, user_id: str) -> Json:
    """The app_home_opened event Slack sends when someone opens the app's Home tab."""
    channel = ws.open_im(user_id)
    event: Json = {
        "type": "app_home_opened",
        "user": user_id,
        "channel": channel.id,
        "tab": "home",
        "event_ts": ws.next_ts(),
    }
    home = ws.homes.get(user_id)
    if home is not None:
        event["view"] = ws.views[home].to_api(state_values(ws, ws.views[home]))
    return event
