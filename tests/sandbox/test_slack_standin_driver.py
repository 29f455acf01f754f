"""Slack's client side: signed commands, clicks, submissions and events reach an app exactly as
Bolt expects them, and the app's answers (ack bodies, response_urls) land where Slack puts them.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.slack import SlackStandIn, sign
from sandbox.slack.driver import state_values

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


class Recorder:
    """A bare app endpoint that records what it receives and answers 200."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((dict(request.headers), await request.read()))
        return web.Response(text="")


async def serve(handler: Any) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_post("/slack/events", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    async with SlackStandIn(signing_secret=SECRET) as standin:
        yield standin


@pytest.fixture
async def recorder() -> AsyncIterator[tuple[Recorder, str]]:
    recorder = Recorder()
    runner, url = await serve(recorder.handle)
    yield recorder, url
    await runner.cleanup()


def section(value: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": value}}


ITEM_BLOCKS = [
    section("*Ship the notes exporter*"),
    {
        "type": "actions",
        "block_id": "item.42",
        "elements": [
            {
                "type": "users_select",
                "action_id": "action_items.assign",
                "placeholder": {"type": "plain_text", "text": "Assign"},
            },
            {"type": "datepicker", "action_id": "action_items.due"},
            {
                "type": "button",
                "action_id": "action_items.done",
                "value": "42",
                "text": {"type": "plain_text", "text": "Done"},
                "style": "primary",
            },
        ],
    },
]


def test_sign_matches_slack_sdk() -> None:
    verifier = SignatureVerifier(SECRET)
    body = "token=x&team_id=T0SANDBOX&command=%2Fdebrief"
    assert sign(SECRET, 1531420618, body) == verifier.generate_signature(
        timestamp="1531420618", body=body
    )
    # Slack's documented example.
    assert (
        sign(
            "8f742231b10e8888abcd99yyyzzz85a5",
            1531420618,
            "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&"
            "channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&"
            "response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmi"
            "bIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c",
        )
        == "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    )


async def test_command_is_signed_and_carries_slacks_fields(
    slack: SlackStandIn, recorder: tuple[Recorder, str]
) -> None:
    app, url = recorder
    delivery = await slack.command(
        url, "/debrief", "join https://zoom.us/j/1", user_id="U0GRACE", channel_id="C0MEETINGS"
    )
    status, body, elapsed = delivery
    assert status == 200 and body == "" and elapsed < 3
    [(headers, raw)] = app.requests
    assert SignatureVerifier(SECRET).is_valid(
        raw, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    )
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
    assert form["command"] == "/debrief"
    assert form["text"] == "join https://zoom.us/j/1"
    assert form["user_id"] == "U0GRACE" and form["user_name"] == "grace"
    assert form["channel_id"] == "C0MEETINGS" and form["channel_name"] == "meetings"
    assert form["team_id"] == "T0SANDBOX" and form["team_domain"] == "debrief-sandbox"
    assert form["api_app_id"] == "A0DEBRIEF"
    assert form["is_enterprise_install"] == "false"
    assert form["token"] == slack.verification_token
    assert form["response_url"].startswith(slack.url + "/hooks/response/")
    assert form["trigger_id"] in slack.workspace.triggers


async def test_click_payload_is_block_actions_with_state(
    slack: SlackStandIn, recorder: tuple[Recorder, str]
) -> None:
    app, url = recorder
    message = slack.workspace.post(
        slack.workspace.channel("C0MEETINGS"), text="Item", blocks=ITEM_BLOCKS
    )
    slack.fill(message, "action_items.due", "2030-01-31")
    await slack.click(url, message, "action_items.assign", selected_user="U0LINUS", user_id="U0ADA")
    await slack.click(url, message, "action_items.done", user_id="U0ADA")
    with pytest.raises(ValueError, match="carries '42'"):
        await slack.click(url, message, "action_items.done", value="43")
    with pytest.raises(LookupError):
        await slack.click(url, message, "no.such.action")

    select_raw, button_raw = (raw for _, raw in app.requests)
    select = json.loads(parse_qs(select_raw.decode())["payload"][0])
    assert select["type"] == "block_actions"
    assert select["user"] == {
        "id": "U0ADA",
        "username": "ada",
        "name": "ada",
        "team_id": "T0SANDBOX",
    }
    assert select["container"] == {
        "type": "message",
        "message_ts": message.ts,
        "channel_id": "C0MEETINGS",
        "is_ephemeral": False,
    }
    assert select["channel"] == {"id": "C0MEETINGS", "name": "meetings"}
    assert select["message"]["blocks"] == message.blocks
    [act] = select["actions"]
    assert act["type"] == "users_select" and act["selected_user"] == "U0LINUS"
    assert act["action_id"] == "action_items.assign" and act["block_id"] == "item.42"
    assert select["state"]["values"]["item.42"] == {
        "action_items.assign": {"type": "users_select", "selected_user": "U0LINUS"},
        "action_items.due": {"type": "datepicker", "selected_date": "2030-01-31"},
    }
    button = json.loads(parse_qs(button_raw.decode())["payload"][0])
    assert button["actions"][0]["value"] == "42"
    assert button["actions"][0]["text"]["text"] == "Done"
    assert button["trigger_id"] != select["trigger_id"]
    # The state carries over: Slack keeps what the person picked until the message changes.
    assert button["state"]["values"]["item.42"]["action_items.assign"]["selected_user"] == "U0LINUS"


async def test_stale_and_forged_deliveries_can_be_sent(
    slack: SlackStandIn, recorder: tuple[Recorder, str]
) -> None:
    app, url = recorder
    await slack.deliver(url, b"payload=%7B%7D", timestamp=int(time.time()) - 600)
    await slack.deliver(url, b"payload=%7B%7D", signature="v0=" + "0" * 64)
    verifier = SignatureVerifier(SECRET)
    assert not any(
        verifier.is_valid(raw, h["X-Slack-Request-Timestamp"], h["X-Slack-Signature"])
        for h, raw in app.requests
    )


async def test_event_envelope_and_retry_headers(
    slack: SlackStandIn, recorder: tuple[Recorder, str]
) -> None:
    app, url = recorder
    await slack.event(
        url,
        {"type": "app_mention", "user": "U0ADA", "text": "<@U0DEBRIEF> hi", "channel": "C0GENERAL"},
        event_id="Ev0001",
        retry_num=1,
    )
    [(headers, raw)] = app.requests
    envelope = json.loads(raw)
    assert envelope["type"] == "event_callback"
    assert envelope["event_id"] == "Ev0001"
    assert envelope["team_id"] == "T0SANDBOX" and envelope["api_app_id"] == "A0DEBRIEF"
    assert envelope["authorizations"][0]["user_id"] == "U0DEBRIEF"
    assert envelope["event"]["event_ts"]
    assert headers["X-Slack-Retry-Num"] == "1"
    assert headers["X-Slack-Retry-Reason"] == "http_timeout"


# ---- a real Bolt app


def modal() -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "join",
        "title": {"type": "plain_text", "text": "Join a meeting"},
        "submit": {"type": "plain_text", "text": "Join"},
        "private_metadata": "C0MEETINGS",
        "blocks": [
            {
                "type": "input",
                "block_id": "url",
                "label": {"type": "plain_text", "text": "Meeting URL"},
                "element": {"type": "plain_text_input", "action_id": "value"},
            }
        ],
    }


def build_bolt_app(slack: SlackStandIn) -> AsyncApp:
    app = AsyncApp(
        client=AsyncWebClient(token=slack.bot_token, base_url=slack.api_url),
        signing_secret=SECRET,
    )

    @app.command("/debrief")
    async def handle_debrief(
        ack: AsyncAck, command: dict, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        if command["text"] == "join":
            await ack()
            await client.views_open(trigger_id=command["trigger_id"], view=modal())
        elif command["text"] == "announce":
            await ack()
            await respond(
                text=f"<@{command['user_id']}> started a meeting", response_type="in_channel"
            )
        else:
            await ack(f"Unknown subcommand `{command['text']}`")

    @app.action("action_items.done")
    async def handle_done(ack: AsyncAck, body: dict, respond: AsyncRespond) -> None:
        await ack()
        assert body["message"]["blocks"][1]["block_id"] == "item.42"
        await respond(replace_original=True, text=f"Done by <@{body['user']['id']}>")

    @app.action("action_items.assign")
    async def handle_assign(ack: AsyncAck, action: dict, client: AsyncWebClient) -> None:
        await ack()
        await client.chat_postMessage(channel=action["selected_user"], text="You were assigned")

    @app.view("join")
    async def handle_join(ack: AsyncAck, view: dict) -> None:
        url = view["state"]["values"]["url"]["value"]["value"]
        if not url or not url.startswith("https://"):
            await ack(response_action="errors", errors={"url": "Enter an https:// meeting URL"})
            return
        await ack()

    @app.event("app_home_opened")
    async def handle_home(event: dict, client: AsyncWebClient) -> None:
        await client.views_publish(
            user_id=event["user"],
            view={"type": "home", "blocks": [section(f"Hi <@{event['user']}>")]},
        )

    return app


@pytest.fixture
async def bolt(slack: SlackStandIn) -> AsyncIterator[str]:
    app = build_bolt_app(slack)

    async def handle(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    runner, url = await serve(handle)
    yield url
    await runner.cleanup()


async def test_bolt_acks_a_command_and_its_answer_is_shown_ephemerally(
    slack: SlackStandIn, bolt: str
) -> None:
    delivery = await slack.command(bolt, "/debrief", "frobnicate", user_id="U0ALAN")
    assert delivery.status == 200
    assert delivery.error is None
    [shown] = slack.ephemerals("U0ALAN")
    assert shown.text == "Unknown subcommand `frobnicate`"
    assert shown.channel == "C0GENERAL"
    # Bolt asked auth.test of the stand-in, as it does of Slack.
    assert slack.calls_of("auth.test")


async def test_bolt_opens_a_modal_with_the_commands_trigger_and_validates_submission(
    slack: SlackStandIn, bolt: str
) -> None:
    mark = slack.last_seq
    await slack.command(bolt, "/debrief", "join", user_id="U0GRACE", channel_id="C0MEETINGS")
    await slack.wait_for("view_opened", since=mark, user="U0GRACE")
    [view] = slack.modals("U0GRACE")
    assert view.callback_id == "join"

    rejected = await slack.view_submission(bolt, view, values={"value": "zoom.us/j/1"})
    assert rejected.status == 200
    assert view.errors == {"url": "Enter an https:// meeting URL"}
    assert slack.modals("U0GRACE") == [view]

    accepted = await slack.view_submission(bolt, view, values={"value": "https://zoom.us/j/1"})
    assert accepted.status == 200 and accepted.error is None
    assert slack.modals("U0GRACE") == []


async def test_bolt_answers_in_channel_through_the_response_url(
    slack: SlackStandIn, bolt: str
) -> None:
    mark = slack.last_seq
    await slack.command(bolt, "/debrief", "announce", user_id="U0ADA", channel_id="C0ENG")
    await slack.wait_for("message_posted", since=mark, channel="C0ENG")
    assert [m.text for m in slack.messages("#eng")] == ["<@U0ADA> started a meeting"]
    assert slack.ephemerals("U0ADA") == []


async def test_bolt_replaces_the_clicked_message_through_the_response_url(
    slack: SlackStandIn, bolt: str
) -> None:
    message = slack.workspace.post(
        slack.workspace.channel("C0MEETINGS"), text="Item", blocks=ITEM_BLOCKS
    )
    mark = slack.last_seq
    delivery = await slack.click(bolt, message, "action_items.done", user_id="U0KATHERINE")
    assert delivery.status == 200
    await slack.wait_for("message_updated", since=mark, ts=message.ts)
    assert slack.messages("#meetings")[0].text == "Done by <@U0KATHERINE>"
    assert slack.messages("#meetings")[0].blocks == []


async def test_bolt_receives_a_users_select_choice(slack: SlackStandIn, bolt: str) -> None:
    message = slack.workspace.post(
        slack.workspace.channel("C0MEETINGS"), text="Item", blocks=ITEM_BLOCKS
    )
    mark = slack.last_seq
    await slack.click(bolt, message, "action_items.assign", selected_user="U0LINUS")
    await slack.wait_for("message_posted", since=mark, channel="D0LINUS")
    assert [m.text for m in slack.dms("U0LINUS")] == ["You were assigned"]


async def test_bolt_publishes_home_on_app_home_opened(slack: SlackStandIn, bolt: str) -> None:
    mark = slack.last_seq
    delivery = await slack.open_home(bolt, "U0KATHERINE")
    assert delivery.status == 200
    await slack.wait_for("home_published", since=mark, user="U0KATHERINE")
    home = slack.home("U0KATHERINE")
    assert home is not None and home.blocks[0]["text"]["text"] == "Hi <@U0KATHERINE>"


async def test_bolt_answers_url_verification_and_refuses_bad_signatures(
    slack: SlackStandIn, bolt: str
) -> None:
    verified = await slack.url_verification(
        bolt, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    )
    assert verified.status == 200
    assert verified.json == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
    body = b"token=x&command=%2Fdebrief&text=help"
    forged = await slack.deliver(bolt, body, signature="v0=" + "0" * 64)
    stale = await slack.deliver(bolt, body, timestamp=int(time.time()) - 600)
    assert (forged.status, stale.status) == (401, 401)


async def test_a_failing_app_gets_slacks_error_ephemeral(slack: SlackStandIn) -> None:
    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=500)

    runner, url = await serve(broken)
    try:
        delivery = await slack.command(url, "/debrief", "help", user_id="U0ADA")
    finally:
        await runner.cleanup()
    assert delivery.error == "dispatch_failed"
    assert slack.ephemerals("U0ADA")[0].text == '/debrief failed with the error "dispatch_failed"'


# ---- response_url semantics, posted directly


async def post_json(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
        return response.status, await response.json()


async def test_response_url_ephemeral_in_channel_replace_and_delete(slack: SlackStandIn) -> None:
    ws = slack.workspace
    command_url = ws.issue_response_url("C0GENERAL", "U0ADA")
    assert await post_json(command_url, {"text": "just you"}) == (200, {"ok": True})
    assert [e.text for e in slack.ephemerals("U0ADA")] == ["just you"]
    await post_json(command_url, {"text": "everyone", "response_type": "in_channel"})
    assert [m.text for m in slack.messages("#general")] == ["everyone"]

    ephemeral = slack.ephemerals("U0ADA")[0]
    click_url = ws.issue_response_url(
        "C0GENERAL", "U0ADA", message_ts=ephemeral.ts, is_ephemeral=True
    )
    await post_json(click_url, {"replace_original": True, "text": "updated for you"})
    assert slack.ephemerals("U0ADA")[0].text == "updated for you"
    await post_json(click_url, {"delete_original": True})
    assert [e.text for e in slack.ephemerals("U0ADA")] == []

    message = slack.messages("#general")[0]
    message_url = ws.issue_response_url("C0GENERAL", "U0ADA", message_ts=message.ts)
    await post_json(message_url, {"delete_original": "true"})
    assert slack.messages("#general") == []


async def test_response_url_answers_land_in_a_thread_only_for_everyone(slack: SlackStandIn) -> None:
    """As Slack does: ``thread_ts`` puts an ``in_channel`` response_url answer in that thread;
    an ephemeral one shows in the channel whatever it names (Slack's "Publishing responses in
    thread" needs ``in_channel``), so a private answer in a thread is a chat.postEphemeral."""
    ws = slack.workspace
    parent = ws.post(ws.channels["C0GENERAL"], text="status")
    reply = ws.post(ws.channels["C0GENERAL"], text="digest", thread_ts=parent.ts)
    url = ws.issue_response_url("C0GENERAL", "U0ADA", message_ts=reply.ts)
    await post_json(url, {"text": "in the thread", "thread_ts": parent.ts})
    await post_json(url, {"text": "in the channel"})
    await post_json(
        url, {"text": "everyone", "response_type": "in_channel", "thread_ts": parent.ts}
    )
    assert [(e.text, e.thread_ts) for e in slack.ephemerals("U0ADA")] == [
        ("in the thread", None),
        ("in the channel", None),
    ]
    assert [m.text for m in slack.thread("#general", parent.ts)] == ["status", "digest", "everyone"]


async def test_response_url_limits_and_validation(slack: SlackStandIn) -> None:
    url = slack.workspace.issue_response_url("C0GENERAL", "U0ADA")
    status, answer = await post_json(url, {"text": "x", "blocks": [{"type": "carousel"}]})
    assert (status, answer["error"]) == (400, "invalid_blocks")
    for n in range(5):
        assert (await post_json(url, {"text": f"{n}"}))[0] == 200
    assert await post_json(url, {"text": "sixth"}) == (404, {"ok": False, "error": "used_url"})
    unknown = url.rsplit("/", 1)[0] + "/nope"
    assert (await post_json(unknown, {"text": "x"}))[1]["error"] == "expired_url"


HOME_BLOCKS = [
    {
        "type": "section",
        "block_id": "filter",
        "text": {"type": "mrkdwn", "text": "Show"},
        "accessory": {
            "type": "static_select",
            "action_id": "home.filter",
            "placeholder": {"type": "plain_text", "text": "Which items"},
            "initial_option": {"text": {"type": "plain_text", "text": "Open"}, "value": "open"},
            "options": [
                {"text": {"type": "plain_text", "text": "Open"}, "value": "open"},
                {"text": {"type": "plain_text", "text": "Done"}, "value": "done"},
            ],
        },
    },
    {
        "type": "section",
        "block_id": "item.7",
        "text": {"type": "mrkdwn", "text": "Write the runbook"},
        "accessory": {
            "type": "overflow",
            "action_id": "home.item_menu",
            "options": [
                {"text": {"type": "plain_text", "text": "Snooze"}, "value": "snooze"},
                {"text": {"type": "plain_text", "text": "Delete"}, "value": "delete"},
            ],
        },
    },
]


async def test_clicks_in_the_home_tab_carry_the_view(
    slack: SlackStandIn, recorder: tuple[Recorder, str]
) -> None:
    app, url = recorder
    home = slack.workspace.publish_home("U0LINUS", {"type": "home", "blocks": HOME_BLOCKS})
    untouched = driver_state(slack, home)
    assert untouched["filter"]["home.filter"]["selected_option"]["value"] == "open"

    await slack.click(url, home, "home.filter", selected_option="done")
    await slack.click(url, home, "home.item_menu", value="snooze")
    select, menu = (json.loads(parse_qs(raw.decode())["payload"][0]) for _, raw in app.requests)
    assert select["container"] == {"type": "view", "view_id": home.id}
    assert select["user"]["id"] == "U0LINUS"
    assert select["view"]["id"] == home.id and select["view"]["type"] == "home"
    assert "response_url" not in select
    assert select["actions"][0]["selected_option"] == {
        "text": {"type": "plain_text", "text": "Done"},
        "value": "done",
    }
    assert (
        select["view"]["state"]["values"]["filter"]["home.filter"]["selected_option"]["value"]
        == "done"
    )
    assert menu["actions"][0]["type"] == "overflow"
    assert menu["actions"][0]["selected_option"]["value"] == "snooze"
    # Overflow menus hold no state.
    assert "item.7" not in menu["view"]["state"]["values"]
    with pytest.raises(LookupError):
        await slack.click(url, home, "home.filter", selected_option="archived")


def driver_state(slack: SlackStandIn, target: Any) -> dict[str, Any]:
    return state_values(slack.workspace, target)


async def test_updating_a_message_forgets_picked_values(slack: SlackStandIn) -> None:
    message = slack.workspace.post(
        slack.workspace.channel("C0MEETINGS"), text="Item", blocks=ITEM_BLOCKS
    )
    slack.fill(message, "action_items.assign", "U0ALAN")
    assert driver_state(slack, message)["item.42"]["action_items.assign"]["selected_user"] == (
        "U0ALAN"
    )
    slack.workspace.update(message, text="Item (assigned)")
    assert driver_state(slack, message)["item.42"]["action_items.assign"]["selected_user"] is None
