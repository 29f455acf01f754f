"""The sandbox page's endpoints on the Slack stand-in: what a person does in the page reaches the
app exactly as Slack would send it, and the page sees every change as it happens."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from sandbox.attendee import AttendeeStandIn
from sandbox.slack import SlackStandIn
from tests.browser.fake_app import FakeApp, running_app

SECRET = "ui-signing-secret"


@pytest.fixture
async def app() -> AsyncIterator[FakeApp]:
    async with running_app(SECRET) as fake:
        yield fake


@pytest.fixture
async def slack(app: FakeApp) -> AsyncIterator[SlackStandIn]:
    async with SlackStandIn(signing_secret=SECRET) as stand_in:
        stand_in.app_url = app.url
        yield stand_in


@pytest.fixture
async def http(slack: SlackStandIn) -> AsyncIterator[aiohttp.ClientSession]:
    """A client with the run's token, as the page (its cookie) and the drivers have it."""
    async with aiohttp.ClientSession(headers=slack.lock.headers()) as session:
        yield session


async def post(
    http: aiohttp.ClientSession, slack: SlackStandIn, path: str, body: Any
) -> tuple[int, Any]:
    async with http.post(f"{slack.url}{path}", json=body) as response:
        return response.status, await response.json()


def plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


async def test_the_page_and_its_files_are_served(
    slack: SlackStandIn, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{slack.url}/") as page:
        assert page.status == 200
        assert page.content_type == "text/html"
        html = await page.text()
    assert '<script type="module" src="/_sandbox/ui/app.js">' in html
    for name, kind in (
        ("app.js", "text/javascript"),
        ("blocks.js", "text/javascript"),
        ("style.css", "text/css"),
    ):
        async with http.get(f"{slack.url}/_sandbox/ui/{name}") as response:
            assert (response.status, response.content_type) == (200, kind)
    for bad in ("..%2Fserver.py", "nope.js", "server.py"):
        async with http.get(f"{slack.url}/_sandbox/ui/{bad}") as response:
            assert response.status == 404, bad
    assert not [c for c in slack.calls if c.path.startswith("/api/")]


async def test_config_names_the_app_and_the_provider_stand_ins(
    slack: SlackStandIn, app: FakeApp, http: aiohttp.ClientSession
) -> None:
    slack.providers = {"attendee": "http://127.0.0.1:1"}
    async with http.get(f"{slack.url}/_sandbox/config") as response:
        config = await response.json()
    assert config["app_url"] == app.url
    assert config["providers"] == {"attendee": "http://127.0.0.1:1"}
    assert config["default_user"] == "U0ADA" and config["bot_user_id"] == "U0DEBRIEF"


async def test_a_command_is_sent_signed_and_its_answer_shown_to_the_sender(
    slack: SlackStandIn, app: FakeApp, http: aiohttp.ClientSession
) -> None:
    app.answer = lambda request: {"text": "Sending a notetaker…"}
    status, answer = await post(
        http,
        slack,
        "/_sandbox/command",
        {"user": "U0GRACE", "channel": "C0MEETINGS", "text": "/debrief  join https://zoom.us/j/1"},
    )
    assert status == 200 and answer["ok"] is True and answer["status"] == 200
    (form,) = app.received
    assert form["command"] == "/debrief"
    assert form["text"] == "join https://zoom.us/j/1"
    assert (form["user_id"], form["channel_id"], form["channel_name"]) == (
        "U0GRACE",
        "C0MEETINGS",
        "meetings",
    )
    assert form["response_url"].startswith(f"{slack.url}/hooks/response/")
    assert form["trigger_id"]
    (shown,) = slack.ephemerals("U0GRACE", "C0MEETINGS")
    assert shown.text == "Sending a notetaker…"
    assert slack.ephemerals("U0ADA") == []


async def test_a_failing_app_is_reported_as_slack_does(
    slack: SlackStandIn, app: FakeApp, http: aiohttp.ClientSession
) -> None:
    app.answer = lambda request: (_ for _ in ()).throw(RuntimeError("boom"))
    status, answer = await post(
        http,
        slack,
        "/_sandbox/command",
        {"user": "U0ADA", "channel": "#meetings", "text": "/debrief x"},
    )
    assert status == 200
    assert (answer["ok"], answer["status"], answer["error"]) == (False, 500, "dispatch_failed")
    assert "dispatch_failed" in slack.ephemerals("U0ADA")[-1].text


async def test_refusals_name_the_problem(slack: SlackStandIn, http: aiohttp.ClientSession) -> None:
    cases = [
        ("/_sandbox/command", {"text": "debrief help"}, 400, "not_a_command"),
        ("/_sandbox/command", {"text": "/debrief", "user": "U0NOBODY"}, 400, "user_not_found"),
        ("/_sandbox/command", {"text": "/debrief", "user": "U0DEBRIEF"}, 400, "user_not_found"),
        ("/_sandbox/command", {"text": "/debrief", "channel": "#nope"}, 400, "channel_not_found"),
        (
            "/_sandbox/click",
            {"container": {"type": "message", "channel": "C0GENERAL", "ts": "1.2"}},
            404,
            "message_not_found",
        ),
        ("/_sandbox/click", {"container": {"type": "box"}}, 400, "invalid_container"),
        ("/_sandbox/view_submission", {"view_id": "V404"}, 404, "view_not_found"),
        ("/_sandbox/say", {"text": "  "}, 400, "no_text"),
        ("/_sandbox/providers/otter/otter/conversations", {}, 404, "unknown_provider"),
    ]
    for path, body, expected_status, error in cases:
        status, answer = await post(http, slack, path, body)
        assert (status, answer["error"]) == (expected_status, error), (path, body, answer)
    async with http.post(
        f"{slack.url}/_sandbox/command", data=b"[1]", headers={"Content-Type": "application/json"}
    ) as response:
        assert response.status == 400
    slack.app_url = ""
    status, answer = await post(http, slack, "/_sandbox/command", {"text": "/debrief help"})
    assert (status, answer["error"]) == (409, "no_app")


async def test_an_unreachable_app_is_a_502(
    slack: SlackStandIn, http: aiohttp.ClientSession
) -> None:
    slack.app_url = "http://127.0.0.1:9"
    status, answer = await post(http, slack, "/_sandbox/home", {"user": "U0ADA"})
    assert (status, answer["error"]) == (502, "app_unreachable")


async def test_clicks_send_block_actions_with_what_was_chosen(
    slack: SlackStandIn, app: FakeApp, http: aiohttp.ClientSession
) -> None:
    ws = slack.workspace
    message = ws.post(
        ws.channel("C0MEETINGS"),
        text="digest",
        blocks=[
            {
                "type": "section",
                "block_id": "item-1",
                "text": {"type": "mrkdwn", "text": "Write the plan"},
                "accessory": {"type": "users_select", "action_id": "action_items.assign"},
            },
            {
                "type": "actions",
                "block_id": "more",
                "elements": [
                    {"type": "datepicker", "action_id": "due"},
                    {
                        "type": "static_select",
                        "action_id": "priority",
                        "options": [{"text": plain("High"), "value": "high"}],
                    },
                    {
                        "type": "overflow",
                        "action_id": "menu",
                        "options": [{"text": plain("Done"), "value": "done"}],
                    },
                    {"type": "button", "action_id": "close", "text": plain("Close"), "value": "i1"},
                ],
            },
        ],
    )
    container = {"type": "message", "channel": "C0MEETINGS", "ts": message.ts}
    clicks = [
        {"action_id": "action_items.assign", "value": "U0GRACE"},
        {"action_id": "due", "selected_date": "2026-12-01"},
        {"action_id": "priority", "value": "high"},
        {"action_id": "menu", "value": "done"},
        # A button carries its own value whatever the page says.
        {"action_id": "close", "value": "ignored"},
    ]
    for click in clicks:
        status, answer = await post(
            http, slack, "/_sandbox/click", {"user": "U0ALAN", "container": container, **click}
        )
        assert (status, answer["ok"]) == (200, True), answer
    actions = [payload["actions"][0] for payload in app.received]
    assert actions[0]["selected_user"] == "U0GRACE"
    assert actions[1]["selected_date"] == "2026-12-01"
    assert actions[2]["selected_option"]["value"] == "high"
    assert actions[3]["selected_option"]["value"] == "done"
    assert actions[4]["value"] == "i1"
    last = app.received[-1]
    assert last["type"] == "block_actions" and last["user"]["id"] == "U0ALAN"
    assert last["container"] == {
        "type": "message",
        "message_ts": message.ts,
        "channel_id": "C0MEETINGS",
        "is_ephemeral": False,
    }
    values = last["state"]["values"]
    assert values["item-1"]["action_items.assign"]["selected_user"] == "U0GRACE"
    assert values["more"]["due"]["selected_date"] == "2026-12-01"
    assert values["more"]["priority"]["selected_option"]["value"] == "high"


async def test_clicks_in_ephemeral_messages_and_views(
    slack: SlackStandIn, app: FakeApp, http: aiohttp.ClientSession
) -> None:
    ws = slack.workspace
    ephemeral = ws.post_ephemeral(
        ws.channel("C0MEETINGS"),
        "U0ADA",
        text="bots",
        blocks=[
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "bot_1"},
                "accessory": {
                    "type": "button",
                    "action_id": "attendee.leave",
                    "text": plain("Leave"),
                    "value": "bot_1",
                },
            }
        ],
    )
    _, answer = await post(
        http,
        slack,
        "/_sandbox/click",
        {
            "user": "U0ADA",
            "container": {"type": "ephemeral", "channel": "C0MEETINGS", "ts": ephemeral.ts},
            "action_id": "attendee.leave",
        },
    )
    assert answer["ok"], answer
    assert app.received[-1]["container"]["is_ephemeral"] is True
    assert app.received[-1]["actions"][0]["value"] == "bot_1"

    view = ws.open_modal(
        "U0ADA",
        {
            "type": "modal",
            "callback_id": "route",
            "title": plain("New route"),
            "submit": plain("Save"),
            "blocks": [
                {
                    "type": "input",
                    "block_id": "name",
                    "label": plain("Name"),
                    "element": {"type": "plain_text_input", "action_id": "value"},
                },
                {
                    "type": "actions",
                    "block_id": "tools",
                    "elements": [{"type": "button", "action_id": "preview", "text": plain("Try")}],
                },
            ],
        },
    )
    await post(
        http,
        slack,
        "/_sandbox/click",
        {
            "user": "U0ADA",
            "container": {"type": "view", "view_id": view.id},
            "action_id": "preview",
            "values": {"name": {"value": "Sales calls"}},
        },
    )
    payload = app.received[-1]
    assert payload["container"] == {"type": "view", "view_id": view.id}
    assert payload["view"]["state"]["values"]["name"]["value"]["value"] == "Sales calls"


async def test_view_submission_applies_errors_then_closes(
    slack: SlackStandIn, app: FakeApp, http: aiohttp.ClientSession
) -> None:
    view = slack.workspace.open_modal(
        "U0GRACE",
        {
            "type": "modal",
            "callback_id": "route",
            "title": plain("New route"),
            "submit": plain("Save"),
            "blocks": [
                {
                    "type": "input",
                    "block_id": "name",
                    "label": plain("Name"),
                    "element": {"type": "plain_text_input", "action_id": "value"},
                }
            ],
        },
    )

    def answer(payload: dict[str, Any]) -> Any:
        name = payload["view"]["state"]["values"]["name"]["value"]["value"]
        if not name:
            return {"response_action": "errors", "errors": {"name": "A name, please"}}
        return None

    app.answer = answer
    status, first = await post(
        http,
        slack,
        "/_sandbox/view_submission",
        {"user": "U0GRACE", "view_id": view.id, "values": {"name": {"value": ""}}},
    )
    assert status == 200 and first["errors"] == {"name": "A name, please"}
    async with http.get(f"{slack.url}/_sandbox/ui/state") as response:
        state = await response.json()
    assert state["view_errors"] == {view.id: {"name": "A name, please"}}
    assert [v["id"] for v in state["modals"]["U0GRACE"]] == [view.id]

    _, second = await post(
        http,
        slack,
        "/_sandbox/view_submission",
        {"user": "U0GRACE", "view_id": view.id, "values": {"name": {"value": "Sales"}}},
    )
    assert second["ok"] and second["errors"] == {}
    assert app.received[-1]["type"] == "view_submission"
    assert slack.modals("U0GRACE") == []


async def test_closing_a_view_notifies_only_when_asked(
    slack: SlackStandIn, app: FakeApp, http: aiohttp.ClientSession
) -> None:
    spec = {"type": "modal", "title": plain("Hi"), "blocks": [], "notify_on_close": True}
    view = slack.workspace.open_modal("U0ADA", spec)
    status, answer = await post(
        http, slack, "/_sandbox/view_close", {"user": "U0ADA", "view_id": view.id}
    )
    assert status == 200 and answer["ok"] and app.received[-1]["type"] == "view_closed"
    quiet = slack.workspace.open_modal("U0ADA", {**spec, "notify_on_close": False})
    received = len(app.received)
    _, answer = await post(
        http, slack, "/_sandbox/view_close", {"user": "U0ADA", "view_id": quiet.id}
    )
    assert answer == {"ok": True, "status": None, "error": None}
    assert len(app.received) == received and slack.modals("U0ADA") == []


async def test_home_and_say(slack: SlackStandIn, app: FakeApp, http: aiohttp.ClientSession) -> None:
    status, answer = await post(http, slack, "/_sandbox/home", {"user": "U0KATHERINE"})
    assert answer["ok"]
    event = app.received[-1]["event"]
    assert (event["type"], event["user"], event["tab"]) == (
        "app_home_opened",
        "U0KATHERINE",
        "home",
    )
    status, said = await post(
        http, slack, "/_sandbox/say", {"user": "U0LINUS", "channel": "C0ENG", "text": "hello"}
    )
    assert status == 200 and said["ok"]
    (message,) = slack.messages("C0ENG")
    assert (message.user, message.text, message.ts) == ("U0LINUS", "hello", said["ts"])
    await post(
        http,
        slack,
        "/_sandbox/say",
        {"user": "U0ADA", "channel": "C0ENG", "text": "hi", "thread_ts": message.ts},
    )
    assert [m.text for m in slack.thread("C0ENG", message.ts)] == ["hello", "hi"]


async def test_state_has_members_and_files_are_shown(
    slack: SlackStandIn, http: aiohttp.ClientSession
) -> None:
    upload = slack.workspace.start_upload("transcript.txt", 5, None)
    upload.file.content = b"hello"
    async with http.get(f"{slack.url}/_sandbox/files/{upload.file.id}") as response:
        assert response.status == 200 and await response.text() == "hello"
        assert response.content_type == "text/plain"
    async with http.get(f"{slack.url}/_sandbox/files/F404") as response:
        assert response.status == 404
    async with http.get(f"{slack.url}/_sandbox/ui/state") as response:
        state = await response.json()
    assert state["members"]["C0HR"] == ["U0ADA"]
    assert {c["id"] for c in state["channels"]} >= {"C0MEETINGS", "C0GENERAL"}


async def read_events(response: aiohttp.ClientResponse, count: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    async with asyncio.timeout(5):
        while len(events) < count:
            line = (await response.content.readline()).decode().strip()
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    return events


async def test_the_stream_replays_then_follows_changes(
    slack: SlackStandIn, http: aiohttp.ClientSession
) -> None:
    first = slack.say("#general", "one")
    async with http.get(f"{slack.url}/_sandbox/stream?after=0") as response:
        assert response.content_type == "text/event-stream"
        (replayed,) = await read_events(response, 1)
        assert (replayed["kind"], replayed["ts"]) == ("message_posted", first.ts)
        slack.workspace.update(first, text="one, edited")
        (live,) = await read_events(response, 1)
    assert (live["kind"], live["seq"]) == ("message_updated", 2)
    assert live["message"]["text"] == "one, edited"
    headers = {"Last-Event-ID": "1"}
    async with http.get(f"{slack.url}/_sandbox/stream", headers=headers) as response:
        (resumed,) = await read_events(response, 1)
    assert resumed["seq"] == 2


async def test_an_open_stream_does_not_hold_up_stopping() -> None:
    slack = SlackStandIn()
    await slack.start()
    async with aiohttp.ClientSession(headers=slack.lock.headers()) as http:
        response = await http.get(f"{slack.url}/_sandbox/stream")
        started = time.perf_counter()
        await slack.stop()
        assert time.perf_counter() - started < 2.0
        response.close()


async def test_provider_controls_are_proxied(
    slack: SlackStandIn, http: aiohttp.ClientSession
) -> None:
    async with AttendeeStandIn(lock=slack.lock) as attendee:
        slack.providers = {"attendee": attendee.url}
        async with http.get(f"{slack.url}/_sandbox/providers/attendee/attendee") as response:
            assert response.status == 200
            assert (await response.json())["bots"] == []
        status, answer = await post(
            http, slack, "/_sandbox/providers/attendee/attendee/bots/nope/join", {}
        )
        assert (status, answer) == (404, {"error": "Bot not found"})
