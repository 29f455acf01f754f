"""The sandbox page (sandbox/ui/app.js) over a Slack stand-in and a fake app: live updates,
threads, ephemeral messages, modals, App Home, DMs and the user switcher."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from bot.plugins import installed
from sandbox.attendee import AttendeeStandIn
from sandbox.claritalk import ClaritalkStandIn
from sandbox.otter import DESIGN_REVIEW_ID, OtterStandIn
from sandbox.plugin import installed_stand_ins
from sandbox.slack import SlackStandIn
from sandbox.whereby import DEFAULT_API_KEY as WHEREBY_KEY
from sandbox.whereby import WherebyStandIn
from tests.browser.fake_app import FakeApp, running_app

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

SECRET = "page-signing-secret"


async def eventually(check: Callable[[], bool], within: float = 5.0) -> None:
    """Wait for the fake app to have received something (it is not a page element)."""
    for _ in range(int(within / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the app did not receive it in time")


def plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def section(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


@pytest_asyncio.fixture(loop_scope="module")
async def world() -> AsyncIterator[tuple[SlackStandIn, FakeApp]]:
    async with (
        SlackStandIn(signing_secret=SECRET, default_channel="C0MEETINGS") as slack,
        running_app(SECRET) as app,
    ):
        slack.app_url = app.url
        yield slack, app


@pytest_asyncio.fixture(loop_scope="module")
async def page(browser: Any, world: tuple[SlackStandIn, FakeApp]) -> AsyncIterator[Any]:
    from playwright.async_api import expect

    slack, _ = world
    context = await browser.new_context(viewport={"width": 1366, "height": 800})
    tab = await context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    await tab.goto(slack.page_url)  # the URL `debrief sandbox` prints: the token in it
    await expect(tab.locator("#connection")).to_have_text("live")
    # The token went into a cookie no script can read, and out of the address bar.
    assert tab.url == f"{slack.url}/"
    assert await tab.evaluate("document.cookie") == ""
    # Set once: a reload would lose it, so its survival proves updates came without one.
    await tab.evaluate("window.notReloaded = true")
    yield tab
    assert await tab.evaluate("window.notReloaded") is True
    await context.close()
    assert not errors, errors


async def test_another_page_in_the_same_browser_cannot_drive_the_sandbox(
    page: Any, world: tuple[SlackStandIn, FakeApp]
) -> None:
    slack, app = world
    # Another local server's page is same-site with the sandbox (ports do not count), so the
    # browser even attaches the sandbox's SameSite=Strict cookie to what it sends.
    other = await page.context.new_page()
    await other.goto(f"{app.url}/elsewhere")
    before = len(app.received)
    # A "simple" request: no CORS preflight, so the browser sends it as it is.
    await other.evaluate(
        """async (url) => {
          const body = JSON.stringify({user: "U0ADA", channel: "C0GENERAL", text: "/debrief help"});
          await fetch(url + "/_sandbox/command", {method: "POST", mode: "no-cors",
            credentials: "include", headers: {"Content-Type": "text/plain"}, body});
        }""",
        slack.url,
    )
    await other.close()
    # fetch() resolves once the stand-in has answered, and it answers after the app does.
    assert app.received[before:] == []


async def test_messages_update_in_place_live(
    page: Any, world: tuple[SlackStandIn, FakeApp]
) -> None:
    from playwright.async_api import expect

    slack, _ = world
    ws = slack.workspace
    message = ws.post(
        ws.channel("C0MEETINGS"), text="x", blocks=[section("⏳ *Sending a notetaker…*")]
    )
    node = page.locator(f".message[data-ts='{message.ts}']")
    await expect(node).to_contain_text("Sending a notetaker")
    await expect(node.locator(".badge")).to_have_text("APP")
    await expect(node.locator(".name")).to_have_text("Debrief")
    ws.update(message, blocks=[section("🔴 *Recording*")])
    await expect(node).to_contain_text("Recording")
    await expect(node).to_contain_text("(edited)")
    await expect(node).to_have_class("message flash")
    await expect(page.locator("#messages .message")).to_have_count(1)
    ws.delete(message)
    await expect(page.locator("#messages .message")).to_have_count(0)


async def test_threads_open_beside_the_channel(
    page: Any, world: tuple[SlackStandIn, FakeApp]
) -> None:
    from playwright.async_api import expect

    slack, _ = world
    ws = slack.workspace
    parent = ws.post(ws.channel("C0MEETINGS"), text="status")
    ws.post(ws.channel("C0MEETINGS"), text="the digest", thread_ts=parent.ts)
    ws.post_ephemeral(ws.channel("C0MEETINGS"), "U0ADA", text="only Ada", thread_ts=parent.ts)
    await page.locator(f".message[data-ts='{parent.ts}'] [data-open-thread]").click()
    thread = page.locator("#thread-messages")
    await expect(thread).to_contain_text("the digest")
    await expect(thread.locator(".message.ephemeral")).to_contain_text("only Ada")
    await expect(page.locator("#messages")).not_to_contain_text("the digest")
    await page.fill("#thread-input", "thanks!")
    await page.press("#thread-input", "Enter")
    await expect(thread).to_contain_text("thanks!")
    assert [m.text for m in slack.thread("C0MEETINGS", parent.ts)][-1] == "thanks!"
    assert slack.thread("C0MEETINGS", parent.ts)[-1].user == "U0ADA"
    await page.click("#thread-close")
    await expect(page.locator("#thread")).to_be_hidden()


async def test_commands_and_clicks_reach_the_app_as_the_chosen_user(
    page: Any, world: tuple[SlackStandIn, FakeApp]
) -> None:
    from playwright.async_api import expect

    slack, app = world
    app.answer = lambda request: {"text": f"Hi <@{request.get('user_id')}>"}
    await page.select_option("#user-switcher", "U0LINUS")
    await expect(page.locator("#user-tz")).to_contain_text("Asia/Tokyo (UTC+9)")
    await page.fill("#composer-input", "/debrief help")
    await page.press("#composer-input", "Enter")
    ephemeral = page.locator("#messages .message.ephemeral")
    await expect(ephemeral).to_contain_text("Hi @Linus Torvalds")
    await expect(ephemeral).to_contain_text("Only visible to you")
    (command,) = [r for r in app.received if r.get("command")]
    assert (command["command"], command["text"], command["user_id"]) == (
        "/debrief",
        "help",
        "U0LINUS",
    )
    await page.select_option("#user-switcher", "U0ADA")
    await expect(page.locator("#messages .message.ephemeral")).to_have_count(0)

    app.answer = lambda request: None
    ws = slack.workspace
    message = ws.post(
        ws.channel("C0MEETINGS"),
        text="items",
        blocks=[
            section(
                "Write the plan",
                block_id="item",
                accessory={"type": "users_select", "action_id": "action_items.assign"},
            ),
            {
                "type": "actions",
                "block_id": "act",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "attendee.leave",
                        "text": plain("Make it leave"),
                        "value": "bot_1",
                        "style": "danger",
                        "confirm": {
                            "title": plain("Stop the notetaker?"),
                            "text": {"type": "mrkdwn", "text": "It leaves now."},
                            "confirm": plain("Leave"),
                            "deny": plain("Keep it"),
                        },
                    }
                ],
            },
        ],
    )
    node = page.locator(f".message[data-ts='{message.ts}']")
    await node.locator("select.bk-users-select").select_option("U0GRACE")
    await node.get_by_role("button", name="Make it leave").click()
    dialog = page.locator(".confirm-overlay")
    await expect(dialog).to_contain_text("Stop the notetaker?")
    await dialog.get_by_role("button", name="Keep it").click()
    await expect(dialog).to_have_count(0)
    await node.get_by_role("button", name="Make it leave").click()
    await page.locator(".confirm-overlay").get_by_role("button", name="Leave").click()
    await eventually(lambda: len(app.of_type("block_actions")) == 2)
    assign, leave = app.of_type("block_actions")
    assert assign["actions"][0]["selected_user"] == "U0GRACE"
    assert assign["user"]["id"] == "U0ADA"
    assert leave["actions"][0]["value"] == "bot_1"
    assert leave["state"]["values"]["item"]["action_items.assign"]["selected_user"] == "U0GRACE"


async def test_modals_submit_show_errors_and_close(
    page: Any, world: tuple[SlackStandIn, FakeApp]
) -> None:
    from playwright.async_api import expect

    slack, app = world

    def answer(payload: dict[str, Any]) -> Any:
        if payload.get("type") != "view_submission":
            return None
        name = payload["view"]["state"]["values"]["name"]["value"]["value"]
        if not name or len(name) < 3:
            return {"response_action": "errors", "errors": {"name": "At least 3 letters"}}
        return None

    app.answer = answer
    slack.workspace.open_modal(
        "U0ADA",
        {
            "type": "modal",
            "callback_id": "route",
            "title": plain("New route"),
            "submit": plain("Save"),
            "close": plain("Cancel"),
            "blocks": [
                {
                    "type": "input",
                    "block_id": "name",
                    "label": plain("Name"),
                    "element": {"type": "plain_text_input", "action_id": "value"},
                },
                {
                    "type": "input",
                    "block_id": "channel",
                    "label": plain("Channel"),
                    "element": {"type": "channels_select", "action_id": "pick"},
                },
            ],
        },
    )
    modal = page.locator(".overlay.view .modal")
    await expect(modal.locator("h2")).to_have_text("New route")
    await modal.locator("input.bk-text").fill("ab")
    await modal.locator("select").select_option("C0ENG")
    await modal.get_by_role("button", name="Save").click()
    await expect(modal.locator(".input-error:not([hidden])")).to_have_text("At least 3 letters")
    await modal.locator("input.bk-text").fill("Sales")
    await modal.get_by_role("button", name="Save").click()
    await expect(page.locator(".overlay.view")).to_have_count(0)
    submitted = app.of_type("view_submission")[-1]["view"]["state"]["values"]
    assert submitted["name"]["value"]["value"] == "Sales"
    assert submitted["channel"]["pick"]["selected_channel"] == "C0ENG"
    assert slack.modals("U0ADA") == []


async def test_app_home_and_dms_per_user(page: Any, world: tuple[SlackStandIn, FakeApp]) -> None:
    from playwright.async_api import expect

    slack, app = world

    def publish(payload: dict[str, Any]) -> Any:
        event = payload.get("event") or {}
        if event.get("type") == "app_home_opened":
            user = slack.workspace.user(event["user"])
            slack.workspace.publish_home(
                user.id,
                {
                    "type": "home",
                    "blocks": [
                        {"type": "header", "text": plain(f"Open items for {user.real_name}")},
                        section(
                            "Fix the reminder bug",
                            accessory={
                                "type": "button",
                                "action_id": "action_items.done",
                                "text": plain("Done"),
                                "value": "item-7",
                            },
                        ),
                    ],
                },
            )
        return None

    app.answer = publish
    slack.workspace.post(slack.workspace.open_im("U0GRACE"), text="You were assigned an item")
    await expect(page.locator("#dm-list")).to_have_text("None yet")
    await page.select_option("#user-switcher", "U0GRACE")
    dm = page.locator("#dm-list [data-dm=debrief]")
    await expect(dm.locator(".count")).to_have_text("1")
    await page.locator("#app-list [data-app=debrief]").click()
    home = page.locator("#home")
    await expect(home).to_contain_text("Open items for Grace Hopper")
    await home.get_by_role("button", name="Done").click()
    await eventually(lambda: len(app.of_type("block_actions")) == 1)
    done = app.of_type("block_actions")[0]
    assert done["container"]["type"] == "view" and done["user"]["id"] == "U0GRACE"
    await page.locator("#app-tabs [data-tab=messages]").click()
    await expect(page.locator("#messages")).to_contain_text("You were assigned an item")
    await expect(dm.locator(".count")).to_have_count(0)
    await page.select_option("#user-switcher", "U0ADA")
    await expect(page.locator("#messages")).not_to_contain_text("You were assigned an item")
    await page.locator("#app-tabs [data-tab=home]").click()
    await expect(home).to_contain_text("Open items for Ada Lovelace")


async def test_the_providers_panel_drives_every_stand_in(
    page: Any, world: tuple[SlackStandIn, FakeApp]
) -> None:
    from playwright.async_api import expect

    slack, app = world
    async with (
        # One lock for the run, as in a World: the page's proxy passes its token on.
        AttendeeStandIn(step_delay=0.05, lock=slack.lock) as attendee,
        OtterStandIn(requests_per_second=None, lock=slack.lock) as otter,
        WherebyStandIn(lock=slack.lock) as whereby,
        ClaritalkStandIn(lock=slack.lock) as claritalk,
        aiohttp.ClientSession() as http,
    ):
        attendee.configure_webhook(f"{app.url}/webhooks/attendee")
        otter.configure_webhook(f"{app.url}/webhooks/otter", bearer="otter-secret")
        whereby.configure_webhook(f"{app.url}/webhooks/whereby", "whereby-secret")
        claritalk.webhook_url = f"{app.url}/webhooks/claritalk"
        bots = []
        for meeting in ("https://zoom.us/j/111", "https://zoom.us/j/222"):
            async with http.post(
                f"{attendee.url}/api/v1/bots",
                json={"meeting_url": meeting, "bot_name": "Debrief"},
                headers={"Authorization": f"Token {attendee.api_key}"},
            ) as response:
                bots.append((await response.json())["id"])
        async with http.post(
            f"{whereby.api_url}/meetings",
            json={"endDate": "2099-01-01T00:00:00.000Z"},
            headers={"Authorization": f"Bearer {WHEREBY_KEY}"},
        ) as response:
            room = (await response.json())["roomName"].lstrip("/")
        slack.providers = {
            "attendee": attendee.url,
            "otter": otter.url,
            "whereby": whereby.url,
            "claritalk": claritalk.url,
        }
        # The page's sections are the stand-ins' own declarations, as a World gives them.
        slack.panels = {
            name: {"title": plugin.title, "state": plugin.state_path}
            for name, plugin in installed_stand_ins(installed()).items()
            if name in slack.providers
        }
        await page.reload()
        await expect(page.locator("#connection")).to_have_text("live")
        await page.evaluate("window.notReloaded = true")
        await page.click("#providers-toggle")
        panel = page.locator("#providers")

        failing = panel.locator(f"[data-bot-id='{bots[0]}']")
        await failing.get_by_role("button", name="Fail to join").click()
        await expect(failing).to_contain_text("fatal error")
        joining = panel.locator(f"[data-bot-id='{bots[1]}']")
        await joining.get_by_role("button", name="Admit").click()
        await expect(joining).to_contain_text("joined recording")
        await joining.get_by_label("Speaker").select_option("Alan Turing")
        await joining.get_by_label("What they say").fill("The benchmark is ready.")
        await joining.get_by_role("button", name="Say", exact=True).click()
        await expect(joining).to_contain_text("1 transcript line")
        await joining.get_by_role("button", name="End meeting").click()
        await expect(joining).to_contain_text("ended")
        assert attendee.bots[bots[0]].state == "fatal_error"
        assert attendee.bots[bots[1]].utterances[0].data["speaker_name"] == "Alan Turing"

        conversation = panel.locator(f"[data-conversation-id='{DESIGN_REVIEW_ID}']")
        await conversation.get_by_role("button", name="Finish processing").click()
        await expect(conversation).to_contain_text("ready")

        whereby_room = panel.locator("[data-provider=whereby] .provider-row")
        await whereby_room.get_by_role("button", name="Start session").click()
        await expect(page.locator(".toast").last).to_contain_text("Session started")
        await whereby_room.get_by_role("button", name="Finish transcription").click()
        await expect(page.locator(".toast").last).to_contain_text("Transcription finished")

        clari = panel.locator("[data-provider=claritalk]")
        await clari.get_by_label("Meeting title").fill("Pricing review")
        await clari.get_by_role("button", name="Process a meeting").click()
        await expect(clari).to_contain_text("Pricing review")

        await whereby.settle()
        kinds = {
            (provider, body.get("type") or body.get("event")) for provider, body in app.webhooks
        }
        assert ("whereby", "room.session.started") in kinds
        assert ("whereby", "transcription.finished") in kinds
        assert ("claritalk", "meeting.processed") in kinds
        assert any(p == "otter" and b["data"]["id"] == DESIGN_REVIEW_ID for p, b in app.webhooks)
        assert {p for p, _ in app.webhooks} >= {"attendee", "otter", "whereby", "claritalk"}
        assert room in whereby.rooms


async def test_the_attendee_panel_moves_cancels_and_disconnects_calendars(
    page: Any, world: tuple[SlackStandIn, FakeApp]
) -> None:
    from playwright.async_api import expect

    slack, app = world
    async with (
        AttendeeStandIn(lock=slack.lock) as attendee,
        aiohttp.ClientSession() as http,
    ):
        attendee.configure_webhook(f"{app.url}/webhooks/attendee")
        auth = {"Authorization": f"Token {attendee.api_key}"}
        async with http.post(
            f"{attendee.url}/api/v1/calendars",
            json={
                "platform": "google",
                "client_id": "c",
                "client_secret": "s",
                "refresh_token": "r",
                "metadata": {"slack_team_id": "T0SANDBOX", "slack_user_id": "U0ADA"},
            },
            headers=auth,
        ) as response:
            calendar_id = (await response.json())["id"]
        await attendee.settle()
        (event,) = [
            e for e in attendee.calendars.events(calendar_id) if e["name"].startswith("Design")
        ]
        async with http.post(
            f"{attendee.url}/api/v1/bots",
            json={"calendar_event_id": event["id"], "bot_name": "Debrief"},
            headers=auth,
        ) as response:
            bot_id = (await response.json())["id"]
        slack.providers = {"attendee": attendee.url}
        slack.panels = {
            name: {"title": plugin.title, "state": plugin.state_path}
            for name, plugin in installed_stand_ins(installed()).items()
            if name in slack.providers
        }
        await page.reload()
        await expect(page.locator("#connection")).to_have_text("live")
        await page.evaluate("window.notReloaded = true")
        if await page.locator("#providers").is_hidden():
            await page.click("#providers-toggle")
        panel = page.locator("[data-provider=attendee]")
        row = panel.locator(f"[data-event-id='{event['id']}']")
        await expect(row).to_contain_text("scheduled")

        await row.get_by_role("button", name="Move +30 min").click()
        await expect(page.locator(".toast").last).to_contain_text("Event moved")
        start = datetime.fromisoformat(event["start_time"])
        assert attendee.bots[bot_id].join_at == start + timedelta(minutes=30)

        await row.get_by_role("button", name="Cancel").click()
        await expect(row).to_contain_text("cancelled")
        assert bot_id not in attendee.bots

        calendar = panel.locator(f"[data-calendar-id='{calendar_id}']")
        await calendar.get_by_role("button", name="Revoke token").click()
        await expect(calendar).to_contain_text("disconnected")
        await expect(calendar).to_contain_text("invalid_grant")
        await calendar.get_by_role("button", name="Reconnect").click()
        await expect(calendar).to_contain_text("connected")
        await expect(calendar.get_by_role("button", name="Revoke token")).to_be_visible()

        await attendee.settle()
        triggers = [b.get("trigger") for p, b in app.webhooks if p == "attendee"]
        assert triggers.count("calendar.events_update") >= 3
        assert "calendar.state_change" in triggers
        slack.providers = {}
