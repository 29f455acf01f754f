"""The sandbox page's Block Kit renderer (sandbox/ui/blocks.js), run in Chromium.

Every block and element type the app emits (and the ones the digest and App Home will) renders
as Slack shows it, interactive elements report what the person chose, and anything unknown is
shown as such instead of disappearing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest
import pytest_asyncio

from bot.blockkit import slack_day
from sandbox.slack import SlackStandIn

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

HARNESS = """
import * as B from "/_sandbox/ui/blocks.js";
const users = [
  {id: "U0ADA", name: "ada", real_name: "Ada Lovelace", tz: "Europe/London", is_bot: false},
  {id: "U0GRACE", name: "grace", real_name: "Grace Hopper", tz: "America/New_York", is_bot: false},
  {id: "U0DEBRIEF", name: "debrief", real_name: "Debrief", tz: "UTC", is_bot: true},
];
const channels = [{id: "C0MEETINGS", name: "meetings", is_im: false}];
window.acts = [];
window.confirms = [];
window.confirmAnswer = true;
window.B = B;
window.renderBlocks = (blocks, tz = "UTC") => {
  const renderer = B.createRenderer({
    users: () => users,
    channels: () => channels,
    tz: () => tz,
    now: () => Date.UTC(2026, 10, 22, 12, 0, 0),
    act: (action, form) => {
      window.acts.push({...action, values: form.values()});
      return Promise.resolve();
    },
    confirm: (dialog) => {
      window.confirms.push(dialog);
      return Promise.resolve(window.confirmAnswer);
    },
  });
  window.acts = [];
  window.confirms = [];
  const {node, form} = renderer.blocks(blocks);
  window.form = form;
  document.getElementById("root").replaceChildren(node);
  return node.textContent;
};
window.mrkdwn = (text, tz = "UTC") => {
  const renderer = B.createRenderer({users: () => users, channels: () => channels, tz: () => tz,
    now: () => Date.UTC(2026, 10, 22, 12, 0, 0), act: () => null, confirm: () => null});
  const node = renderer.mrkdwn(text);
  document.getElementById("root").replaceChildren(node);
  return node.textContent;
};
window.ready = true;
"""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def page(browser: Any) -> AsyncIterator[Any]:
    """A blank page on the Slack stand-in's origin with the renderer loaded."""
    async with SlackStandIn() as slack:
        tab = await browser.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        await tab.goto(slack.lock.url(slack.url, "/_sandbox/config"))  # keeps the token's cookie
        await tab.set_content('<div id="root"></div>')
        await tab.add_style_tag(url=f"{slack.url}/_sandbox/ui/style.css")
        await tab.add_script_tag(type="module", content=HARNESS)
        await tab.wait_for_function("window.ready === true")
        yield tab
        await tab.close()
        assert not errors, errors


async def render(page: Any, blocks: list[dict[str, Any]], tz: str = "UTC") -> str:
    text: str = await page.evaluate("([blocks, tz]) => renderBlocks(blocks, tz)", [blocks, tz])
    return text


def mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


async def test_status_message_blocks(page: Any) -> None:
    """The Attendee status message: section, context with a mention and a link, a button."""
    text = await render(
        page,
        [
            {"type": "section", "text": mrkdwn("🔴 *Recording*\nIt is &lt;live&gt; &amp; well")},
            {
                "type": "context",
                "elements": [
                    mrkdwn("Requested by <@U0ADA> · <https://zoom.us/j/1|meeting link> · `bot_1`"),
                    {"type": "image", "image_url": "https://example.com/x.png", "alt_text": "x"},
                ],
            },
            {"type": "divider"},
        ],
    )
    assert "Recording" in text and "It is <live> & well" in text
    assert await page.inner_text(".bk-section b") == "Recording"
    assert await page.inner_text(".bk-context .mention") == "@Ada Lovelace"
    link = page.locator(".bk-context a")
    assert await link.inner_text() == "meeting link"
    assert await link.get_attribute("href") == "https://zoom.us/j/1"
    assert await page.inner_text(".bk-context code") == "bot_1"
    # Images from outside are not fetched: the page loads nothing but the sandbox's own files.
    assert await page.locator(".bk-context img").count() == 0
    assert await page.locator(".bk-context .image-placeholder").count() == 1
    assert await page.locator("hr.bk-divider").count() == 1


async def test_header_fields_and_accessories(page: Any) -> None:
    await render(
        page,
        [
            {"type": "header", "text": plain("📝 Weekly product sync")},
            {
                "type": "section",
                "text": mrkdwn("*Action items*"),
                "fields": [mrkdwn("*Owner*\n<@U0GRACE>"), mrkdwn("*Due*\nFriday")],
                "accessory": {
                    "type": "button",
                    "action_id": "digest.open",
                    "text": plain("Open"),
                    "value": "m1",
                    "style": "primary",
                },
            },
            {
                "type": "section",
                "text": mrkdwn("Photo"),
                "accessory": {
                    "type": "image",
                    "image_url": "http://127.0.0.1:9/p.png",
                    "alt_text": "a photo",
                },
            },
        ],
    )
    assert await page.inner_text(".bk-header") == "📝 Weekly product sync"
    fields = await page.locator(".section-fields .field").all_inner_texts()
    assert fields == ["Owner\n@Grace Hopper", "Due\nFriday"]
    button = page.locator(".accessory .bk-button")
    assert await button.get_attribute("class") == "bk-button bk-primary"
    await button.click()
    acts = await page.evaluate("window.acts")
    assert acts == [
        {
            "action_id": "digest.open",
            "block_id": "",
            "type": "button",
            "value": "m1",
            "values": {},
        }
    ]
    # Loopback images (the sandbox's own) are shown.
    assert await page.locator(".accessory img").get_attribute("alt") == "a photo"


async def test_buttons_styles_and_confirm_dialogs(page: Any) -> None:
    confirm = {
        "title": plain("Stop the notetaker?"),
        "text": mrkdwn("It leaves the meeting now."),
        "confirm": plain("Leave"),
        "deny": plain("Keep it"),
        "style": "danger",
    }
    await render(
        page,
        [
            {
                "type": "actions",
                "block_id": "status",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "attendee.leave",
                        "text": plain("Make it leave"),
                        "value": "bot_1",
                        "style": "danger",
                        "confirm": confirm,
                    },
                    {"type": "button", "action_id": "plain", "text": plain("Later")},
                ],
            }
        ],
    )
    assert await page.locator(".bk-button.bk-danger").inner_text() == "Make it leave"
    await page.evaluate("window.confirmAnswer = false")
    await page.click("text=Make it leave")
    assert await page.evaluate("window.confirms.length") == 1
    assert await page.evaluate("window.acts") == [], "a denied confirm sends nothing"
    await page.evaluate("window.confirmAnswer = true")
    await page.click("text=Make it leave")
    acts = await page.evaluate("window.acts")
    assert [(a["action_id"], a["block_id"], a["value"]) for a in acts] == [
        ("attendee.leave", "status", "bot_1")
    ]
    dialog = await page.evaluate("window.confirms[1]")
    assert dialog["deny"]["text"] == "Keep it"


async def test_selects_datepicker_and_overflow_report_the_choice(page: Any) -> None:
    await render(
        page,
        [
            {
                "type": "section",
                "block_id": "item-1",
                "text": mrkdwn("Write the rollout plan"),
                "accessory": {
                    "type": "users_select",
                    "action_id": "action_items.assign",
                    "placeholder": plain("Assign"),
                },
            },
            {
                "type": "actions",
                "block_id": "item-1-actions",
                "elements": [
                    {
                        "type": "static_select",
                        "action_id": "priority",
                        "placeholder": plain("Priority"),
                        "option_groups": [
                            {
                                "label": plain("Urgent"),
                                "options": [{"text": plain("Today"), "value": "today"}],
                            },
                            {
                                "label": plain("Later"),
                                "options": [{"text": plain("This week"), "value": "week"}],
                            },
                        ],
                        "initial_option": {"text": plain("This week"), "value": "week"},
                    },
                    {"type": "datepicker", "action_id": "due", "initial_date": "2026-11-27"},
                    {
                        "type": "overflow",
                        "action_id": "more",
                        "options": [
                            {"text": plain("Mark done"), "value": "done"},
                            {"text": plain("Delete"), "value": "delete"},
                        ],
                    },
                ],
            },
        ],
    )
    users = page.locator("select.bk-users-select")
    names = await users.locator("option").all_inner_texts()
    assert names == ["Assign", "Ada Lovelace", "Grace Hopper"], "people only, placeholder first"
    await users.select_option("U0GRACE")
    priority = page.locator("[data-block-id='item-1-actions'] select")
    assert await priority.input_value() == "week"
    assert await priority.locator("optgroup").count() == 2
    await priority.select_option("today")
    await page.fill("input[type=date]", "2026-12-01")
    await page.click(".bk-overflow")
    await page.click("text=Mark done")
    acts = await page.evaluate("window.acts")
    assert [(a["action_id"], a["type"], a["value"]) for a in acts] == [
        ("action_items.assign", "users_select", "U0GRACE"),
        ("priority", "static_select", "today"),
        ("due", "datepicker", "2026-12-01"),
        ("more", "overflow", "done"),
    ]
    # Later clicks carry what was chosen before in the same message.
    assert acts[-1]["values"]["item-1"] == {"action_items.assign": "U0GRACE"}
    assert acts[-1]["values"]["item-1-actions"]["due"] == "2026-12-01"


async def test_modal_inputs_hold_their_values_until_submitted(page: Any) -> None:
    await render(
        page,
        [
            {
                "type": "input",
                "block_id": "title",
                "label": plain("Title"),
                "element": {"type": "plain_text_input", "action_id": "value"},
                "hint": plain("What the meeting was about"),
            },
            {
                "type": "input",
                "block_id": "when",
                "optional": True,
                "label": plain("When"),
                "element": {"type": "datepicker", "action_id": "date"},
            },
            {
                "type": "input",
                "block_id": "who",
                "label": plain("Who"),
                "element": {"type": "multi_users_select", "action_id": "people"},
            },
            {
                "type": "input",
                "block_id": "kind",
                "label": plain("Kind"),
                "element": {
                    "type": "radio_buttons",
                    "action_id": "kind",
                    "options": [
                        {"text": plain("Sync"), "value": "sync"},
                        {"text": plain("Review"), "value": "review"},
                    ],
                },
            },
        ],
    )
    await page.fill("[data-block-id=title] input.bk-text", "Design review")
    await page.fill("input[type=date]", "2026-11-23")
    await page.select_option("select.bk-users-select", ["U0ADA", "U0GRACE"])
    await page.check("input[value=review]")
    assert await page.evaluate("window.acts") == [], "inputs dispatch nothing by themselves"
    assert await page.evaluate("window.form.values()") == {
        "title": {"value": "Design review"},
        "when": {"date": "2026-11-23"},
        "who": {"people": ["U0ADA", "U0GRACE"]},
        "kind": {"kind": "review"},
    }
    await page.evaluate("window.form.showErrors({title: 'Too short'})")
    assert await page.inner_text(".input-error:not([hidden])") == "Too short"
    assert "(optional)" in await page.inner_text("[data-block-id=when]")


async def test_rich_text_image_file_video_and_markdown(page: Any) -> None:
    text = await render(
        page,
        [
            {
                "type": "rich_text",
                "elements": [
                    {
                        "type": "rich_text_section",
                        "elements": [
                            {"type": "text", "text": "Decisions ", "style": {"bold": True}},
                            {"type": "user", "user_id": "U0GRACE"},
                            {"type": "text", "text": " in "},
                            {"type": "channel", "channel_id": "C0MEETINGS"},
                            {"type": "emoji", "name": "tada", "unicode": "1f389"},
                            {"type": "link", "url": "https://otter.ai/u/x", "text": "notes"},
                        ],
                    },
                    {
                        "type": "rich_text_list",
                        "style": "ordered",
                        "elements": [
                            {
                                "type": "rich_text_section",
                                "elements": [{"type": "text", "text": "Ship it"}],
                            },
                            {
                                "type": "rich_text_section",
                                "elements": [
                                    {"type": "text", "text": "Fix", "style": {"strike": True}}
                                ],
                            },
                        ],
                    },
                    {
                        "type": "rich_text_preformatted",
                        "elements": [{"type": "text", "text": "[00:00] Ada: hello"}],
                    },
                    {
                        "type": "rich_text_quote",
                        "elements": [{"type": "text", "text": "quoted", "style": {"italic": True}}],
                    },
                ],
            },
            {
                "type": "image",
                "image_url": "https://example.com/chart.png",
                "alt_text": "talk time chart",
                "title": plain("Talk time"),
            },
            {"type": "file", "external_id": "transcript-1", "source": "remote"},
            {
                "type": "video",
                "title": plain("Recording"),
                "title_url": "https://example.com/v",
                "video_url": "https://example.com/v.mp4",
                "thumbnail_url": "https://example.com/t.png",
                "alt_text": "recording",
            },
            {"type": "markdown", "text": "**Summary** of the call"},
        ],
    )
    assert await page.inner_text(".rich-text b") == "Decisions "
    assert "@Grace Hopper" in text and "#meetings" in text and "🎉" in text
    assert await page.locator(".rich-text a").get_attribute("href") == "https://otter.ai/u/x"
    assert await page.locator(".rich-text ol li").all_inner_texts() == ["Ship it", "Fix"]
    assert await page.inner_text(".rich-text pre") == "[00:00] Ada: hello"
    assert await page.inner_text(".rich-text blockquote i") == "quoted"
    assert await page.inner_text(".bk-image figcaption") == "Talk time"
    assert "talk time chart" in await page.inner_text(".bk-image")
    assert "transcript-1" in await page.inner_text(".bk-file")
    assert await page.inner_text(".bk-video a") == "Recording"
    assert "Summary" in await page.inner_text(".bk-markdown")
    assert await page.locator(".unsupported").count() == 0


async def test_unknown_types_render_visibly(page: Any) -> None:
    text = await render(
        page,
        [
            {"type": "section", "text": mrkdwn("before")},
            {"type": "xyz", "block_id": "b1"},
            {"type": "actions", "elements": [{"type": "sparkle_button", "action_id": "s"}]},
            {
                "type": "rich_text",
                "elements": [{"type": "rich_text_hologram", "elements": []}],
            },
            {"type": "section", "text": mrkdwn("after")},
        ],
    )
    assert "unsupported block: xyz" in text
    assert "unsupported element: sparkle_button" in text
    assert "unsupported rich text element: rich_text_hologram" in text
    assert text.index("before") < text.index("unsupported block") < text.index("after")
    assert await page.locator(".unsupported").count() == 3


async def test_mrkdwn_formatting_and_dates_in_the_viewers_time_zone(page: Any) -> None:
    stamp = 1795348800  # 2026-11-22 12:00 UTC, "today" in the harness
    source = (
        f"*bold* _italic_ ~gone~ `code` <!date^{stamp}^{{date_short_pretty}} at {{time}}|fallback>"
        " <#C0MEETINGS> <!here> :white_check_mark: :no_such_emoji:\n&gt; a quote\n```a\n*b*```"
    )
    text = await page.evaluate("([t, tz]) => mrkdwn(t, tz)", [source, "America/New_York"])
    assert "Today at 7:00 AM" in text, text
    assert await page.inner_text("#root b") == "bold"
    assert await page.inner_text("#root i") == "italic"
    assert await page.inner_text("#root s") == "gone"
    assert await page.inner_text("#root code") == "code"
    assert "#meetings" in text and "@here" in text and "✅" in text and ":no_such_emoji:" in text
    assert await page.inner_text("#root blockquote") == "a quote"
    assert await page.inner_text("#root pre") == "a\n*b*", "no formatting inside code blocks"
    tokyo = await page.evaluate(
        "t => mrkdwn(t, 'Asia/Tokyo')", f"<!date^{stamp}^{{date_num}} {{time}}|x>"
    )
    assert tokyo == "2026-11-22 9:00 PM"


@pytest.mark.parametrize("tz", ["America/Los_Angeles", "UTC", "Asia/Tokyo"])
@pytest.mark.parametrize(
    ("day", "words"), [(date(2026, 11, 23), "Tomorrow"), (date(2026, 12, 1), "Dec 1, 2026")]
)
async def test_a_date_picker_shows_its_day_as_the_text_beside_it_does(
    page: Any, tz: str, day: date, words: str
) -> None:
    await render(
        page,
        [
            {"type": "section", "text": mrkdwn(f"due {slack_day(day)}")},
            {
                "type": "actions",
                "elements": [
                    {"type": "datepicker", "action_id": "due", "initial_date": day.isoformat()}
                ],
            },
        ],
        tz,
    )
    assert await page.inner_text("#root .bk-date-shown") == words
    assert f"due {words}" in await page.inner_text("#root")


async def test_nothing_an_app_posts_becomes_markup(page: Any) -> None:
    await page.evaluate(
        "t => mrkdwn(t)",
        "<script>alert(1)</script> &lt;img src=x onerror=alert(1)&gt; "
        "<javascript:alert(1)|click me> <https://ok.example|fine>",
    )
    assert await page.locator("#root script, #root img").count() == 0
    links = page.locator("#root a")
    assert await links.count() == 1
    assert await links.get_attribute("href") == "https://ok.example"
    assert "<img src=x onerror=alert(1)>" in await page.inner_text("#root")
