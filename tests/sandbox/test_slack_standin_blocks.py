"""Block Kit validation: the stand-in rejects what Slack rejects, with Slack's error shapes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.slack import SlackStandIn, validate_blocks, validate_view


def text(value: str, kind: str = "mrkdwn") -> dict[str, Any]:
    return {"type": kind, "text": value}


def plain(value: str) -> dict[str, Any]:
    return text(value, "plain_text")


def section(value: str = "x", **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": text(value), **extra}


def button(action_id: str = "go", label: str = "Go", **extra: Any) -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "text": plain(label), **extra}


def option(value: str = "v", label: str = "Option") -> dict[str, Any]:
    return {"text": plain(label), "value": value}


def select(options: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "static_select",
        "action_id": "pick",
        "placeholder": plain("Pick"),
        "options": options,
    }


def actions(*elements: dict[str, Any], block_id: str = "acts") -> dict[str, Any]:
    return {"type": "actions", "block_id": block_id, "elements": list(elements)}


# (case, blocks, pointer of the expected problem, phrase in its message)
BAD_MESSAGES = [
    ("51 blocks", [section() for _ in range(51)], "/blocks", "no more than 50 items"),
    ("section text 3001", [section("x" * 3001)], "/blocks/0/text/text", "less than 3001"),
    ("section without text or fields", [{"type": "section"}], "/blocks/0", "text or fields"),
    (
        "11 section fields",
        [{"type": "section", "fields": [text("f")] * 11}],
        "/blocks/0/fields",
        "no more than 10",
    ),
    (
        "section field 2001",
        [{"type": "section", "fields": [text("f" * 2001)]}],
        "/blocks/0/fields/0/text",
        "2001",
    ),
    ("header 151", [{"type": "header", "text": plain("h" * 151)}], "/blocks/0/text/text", "151"),
    (
        "header in mrkdwn",
        [{"type": "header", "text": text("h")}],
        "/blocks/0/text/type",
        "plain_text",
    ),
    ("button text 76", [actions(button(label="b" * 76))], "/blocks/0/elements/0/text/text", "76"),
    (
        "button value 2001",
        [actions(button(value="v" * 2001))],
        "/blocks/0/elements/0/value",
        "2001",
    ),
    (
        "button url 3001",
        [actions(button(url="https://x/" + "u" * 2992))],
        "/blocks/0/elements/0/url",
        "3001",
    ),
    (
        "action_id 256",
        [actions(button(action_id="a" * 256))],
        "/blocks/0/elements/0/action_id",
        "256",
    ),
    ("block_id 256", [section(block_id="b" * 256)], "/blocks/0/block_id", "256"),
    (
        "duplicate action_id in a block",
        [actions(button("same"), button("same"))],
        "/blocks/0/elements/1/action_id",
        "duplicate action_id",
    ),
    (
        "duplicate block_id",
        [section(block_id="one"), section(block_id="one")],
        "/blocks/1/block_id",
        "duplicate block_id",
    ),
    (
        "26 action elements",
        [actions(*[button(f"b{n}") for n in range(26)])],
        "/blocks/0/elements",
        "no more than 25",
    ),
    (
        "11 context elements",
        [{"type": "context", "elements": [text("c")] * 11}],
        "/blocks/0/elements",
        "no more than 10",
    ),
    (
        "101 select options",
        [actions(select([option(f"v{n}") for n in range(101)]))],
        "/blocks/0/elements/0/options",
        "no more than 100",
    ),
    (
        "option text 76",
        [actions(select([option(label="o" * 76)]))],
        "/blocks/0/elements/0/options/0/text/text",
        "76",
    ),
    (
        "option value 151",
        [actions(select([option(value="v" * 151)]))],
        "/blocks/0/elements/0/options/0/value",
        "151",
    ),
    ("unknown block type", [{"type": "carousel"}], "/blocks/0/type", "unsupported block type"),
    (
        "button without text",
        [actions({"type": "button", "action_id": "go"})],
        "/blocks/0/elements/0/text",
        "missing required field",
    ),
    (
        "image without alt_text",
        [{"type": "image", "image_url": "https://x/i.png"}],
        "/blocks/0/alt_text",
        "missing required field",
    ),
    ("empty section text", [section("")], "/blocks/0/text/text", "more than 0"),
    (
        "text object as a string",
        [{"type": "section", "text": "plain string"}],
        "/blocks/0/text",
        "expected an object",
    ),
]


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    async with SlackStandIn() as standin:
        yield standin


@pytest.fixture
async def client(slack: SlackStandIn) -> AsyncIterator[AsyncWebClient]:
    async with aiohttp.ClientSession() as session:
        yield AsyncWebClient(token=slack.bot_token, base_url=slack.api_url, session=session)


@pytest.mark.parametrize(
    ("blocks", "pointer", "phrase"),
    [pytest.param(b, p, m, id=c) for c, b, p, m in BAD_MESSAGES],
)
async def test_bad_messages_are_rejected_like_slack(
    slack: SlackStandIn, client: AsyncWebClient, blocks: list[Any], pointer: str, phrase: str
) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C0GENERAL", text="fallback", blocks=blocks)
    data = raised.value.response.data
    assert data["error"] == "invalid_blocks"
    assert any(e.endswith(f"[json-pointer:{pointer}]") and phrase in e for e in data["errors"]), (
        data["errors"]
    )
    assert all(m.startswith("[ERROR] ") for m in data["response_metadata"]["messages"])
    assert slack.messages("C0GENERAL") == []


async def test_valid_limits_are_accepted(slack: SlackStandIn, client: AsyncWebClient) -> None:
    blocks = [
        {"type": "header", "text": plain("h" * 150)},
        section("x" * 3000, accessory=button("more", "m" * 75, value="v" * 2000)),
        {"type": "section", "fields": [text("f" * 2000)] * 10},
        actions(*[button(f"b{n}") for n in range(25)]),
        actions(select([option(f"v{n}" + "v" * 140) for n in range(100)]), block_id="sel"),
        {"type": "context", "elements": [text("c")] * 10},
        {"type": "divider"},
    ] + [section(f"s{n}") for n in range(43)]
    assert len(blocks) == 50
    await client.chat_postMessage(channel="C0GENERAL", text="fallback", blocks=blocks)
    assert len(slack.messages("C0GENERAL")[0].blocks) == 50


async def test_action_ids_may_repeat_across_blocks(client: AsyncWebClient) -> None:
    blocks = [actions(button("done"), block_id="item1"), actions(button("done"), block_id="item2")]
    answer = await client.chat_postMessage(channel="C0GENERAL", text="items", blocks=blocks)
    assert answer["ok"] is True


async def test_message_level_errors(client: AsyncWebClient) -> None:
    cases = [
        ({"text": "x" * 40001}, "msg_too_long"),
        ({}, "no_text"),
        ({"text": "", "blocks": []}, "no_text"),
        ({"text": "x", "blocks": "not json"}, "invalid_blocks_format"),
    ]
    for args, error in cases:
        with pytest.raises(SlackApiError) as raised:
            await client.api_call("chat.postMessage", json={"channel": "C0GENERAL", **args})
        assert raised.value.response["error"] == error, args


def modal(**extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": plain("Join"),
        "submit": plain("Join"),
        "blocks": [section()],
        **extra,
    }


BAD_VIEWS = [
    ("modal title 25", modal(title=plain("t" * 25)), "/view/title/text"),
    ("private_metadata 3001", modal(private_metadata="m" * 3001), "/view/private_metadata"),
    ("101 blocks", modal(blocks=[section() for _ in range(101)]), "/view/blocks"),
    ("submit 25", modal(submit=plain("s" * 25)), "/view/submit/text"),
    ("missing title", {"type": "modal", "blocks": []}, "/view/title"),
    (
        "input without submit",
        {
            "type": "modal",
            "title": plain("t"),
            "blocks": [
                {
                    "type": "input",
                    "label": plain("URL"),
                    "element": {"type": "plain_text_input", "action_id": "url"},
                }
            ],
        },
        "/view",
    ),
    (
        "input element a button",
        modal(blocks=[{"type": "input", "label": plain("x"), "element": button()}]),
        "/view/blocks/0/element/type",
    ),
]


@pytest.mark.parametrize(("view", "pointer"), [pytest.param(v, p, id=c) for c, v, p in BAD_VIEWS])
async def test_bad_modals_answer_invalid_arguments(
    slack: SlackStandIn, client: AsyncWebClient, view: dict[str, Any], pointer: str
) -> None:
    trigger = slack.issue_trigger("U0ADA")
    with pytest.raises(SlackApiError) as raised:
        await client.views_open(trigger_id=trigger, view=view)
    data = raised.value.response.data
    assert data["error"] == "invalid_arguments"
    assert any(
        m.endswith(f"[json-pointer:{pointer}]") for m in data["response_metadata"]["messages"]
    )
    assert slack.modals("U0ADA") == []
    # The trigger was not spent on a rejected view.
    await client.views_open(trigger_id=trigger, view=modal())


async def test_home_allows_100_blocks_but_not_101(client: AsyncWebClient) -> None:
    home = {"type": "home", "blocks": [section() for _ in range(100)]}
    assert (await client.views_publish(user_id="U0ADA", view=home))["ok"] is True
    with pytest.raises(SlackApiError) as raised:
        await client.views_publish(user_id="U0ADA", view={**home, "blocks": home["blocks"] * 2})
    assert raised.value.response["error"] == "invalid_arguments"


def test_validators_are_usable_without_a_server() -> None:
    assert validate_blocks([section()]) == []
    [problem] = validate_blocks([section("x" * 3001)])
    assert str(problem) == "must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
    assert validate_view(modal()) == []
