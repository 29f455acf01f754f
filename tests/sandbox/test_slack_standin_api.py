"""The Slack stand-in's Web API, driven through slack_sdk's real AsyncWebClient."""

from __future__ import annotations

import json
import types
from collections.abc import AsyncIterator

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_async_handlers
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.slack import BOT_USER_ID, SlackStandIn


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    async with SlackStandIn() as standin:
        yield standin


@pytest.fixture
def client(slack: SlackStandIn, session: aiohttp.ClientSession) -> AsyncWebClient:
    return AsyncWebClient(token=slack.bot_token, base_url=slack.api_url, session=session)


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


async def error_of(call) -> tuple[str, dict]:  # type: ignore[no-untyped-def]
    with pytest.raises(SlackApiError) as raised:
        await call
    return raised.value.response["error"], raised.value.response.data


async def test_auth_test_answers_the_bot_identity_bolt_needs(client: AsyncWebClient) -> None:
    answer = await client.auth_test()
    assert answer["user_id"] == BOT_USER_ID
    assert answer["bot_id"] == "B0DEBRIEF"
    assert answer["team_id"] == "T0SANDBOX"


async def test_tokens_are_checked(slack: SlackStandIn, session: aiohttp.ClientSession) -> None:
    anonymous = AsyncWebClient(base_url=slack.api_url, session=session)
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=slack.api_url, session=session)
    assert (await error_of(anonymous.auth_test()))[0] == "not_authed"
    assert (await error_of(wrong.chat_postMessage(channel="#general", text="x")))[0] == (
        "invalid_auth"
    )
    assert slack.messages("#general") == []


async def test_unknown_method(client: AsyncWebClient) -> None:
    error, data = await error_of(client.api_call("chat.teleport"))
    assert error == "unknown_method"
    assert data["req_method"] == "chat.teleport"


async def test_post_update_and_delete(slack: SlackStandIn, client: AsyncWebClient) -> None:
    blocks = [section("*Standup* digest")]
    posted = await client.chat_postMessage(
        channel="#meetings",
        text="Standup digest",
        blocks=blocks,
        metadata={"event_type": "meeting_digest", "event_payload": {"meeting": "m1"}},
        unfurl_links=False,
    )
    assert posted["channel"] == "C0MEETINGS"
    assert posted["message"]["text"] == "Standup digest"
    assert posted["message"]["bot_id"] == "B0DEBRIEF"
    assert posted["message"]["blocks"][0]["block_id"]  # Slack stamps missing block_ids

    updated = await client.chat_update(
        channel="C0MEETINGS",
        ts=posted["ts"],
        text="Standup digest (2 items)",
        blocks=[section("*Standup* digest, 2 items")],
    )
    assert updated["ts"] == posted["ts"]
    [message] = slack.messages("meetings")
    assert message.text == "Standup digest (2 items)"
    assert message.blocks[0]["text"]["text"] == "*Standup* digest, 2 items"
    assert message.edited is not None
    assert message.metadata == {"event_type": "meeting_digest", "event_payload": {"meeting": "m1"}}
    assert message.unfurl_links is False

    await client.chat_delete(channel="C0MEETINGS", ts=posted["ts"])
    assert slack.messages("meetings") == []
    assert (await error_of(client.chat_update(channel="C0MEETINGS", ts=posted["ts"], text="x")))[
        0
    ] == "message_not_found"


async def test_only_the_bots_messages_can_be_updated(
    slack: SlackStandIn, client: AsyncWebClient
) -> None:
    human = slack.say("#general", "hello from Ada")
    error, _ = await error_of(client.chat_update(channel="C0GENERAL", ts=human.ts, text="x"))
    assert error == "cant_update_message"
    error, _ = await error_of(client.chat_delete(channel="C0GENERAL", ts=human.ts))
    assert error == "cant_delete_message"


async def test_threads_and_broadcast_replies(slack: SlackStandIn, client: AsyncWebClient) -> None:
    parent = await client.chat_postMessage(channel="C0ENG", text="Digest")
    first = await client.chat_postMessage(
        channel="C0ENG", text="Action items", thread_ts=parent["ts"]
    )
    # Replying to a reply lands in the parent's thread.
    await client.chat_postMessage(channel="C0ENG", text="Outline", thread_ts=first["ts"])
    await client.chat_postMessage(
        channel="C0ENG", text="Heads up", thread_ts=parent["ts"], reply_broadcast=True
    )
    assert [m.text for m in slack.thread("#eng", parent["ts"])] == [
        "Digest",
        "Action items",
        "Outline",
        "Heads up",
    ]
    assert [m.text for m in slack.messages("#eng")] == ["Digest", "Heads up"]

    replies = await client.conversations_replies(channel="C0ENG", ts=parent["ts"])
    assert [m["text"] for m in replies["messages"]] == [
        "Digest",
        "Action items",
        "Outline",
        "Heads up",
    ]
    assert replies["messages"][0]["reply_count"] == 3
    history = await client.conversations_history(channel="C0ENG")
    assert [m["text"] for m in history["messages"]] == ["Heads up", "Digest"]
    assert history["messages"][0]["subtype"] == "thread_broadcast"


async def test_history_pages_with_cursors(slack: SlackStandIn, client: AsyncWebClient) -> None:
    for n in range(5):
        await client.chat_postMessage(channel="C0GENERAL", text=f"m{n}")
    first = await client.conversations_history(channel="C0GENERAL", limit=2)
    assert [m["text"] for m in first["messages"]] == ["m4", "m3"]
    assert first["has_more"] is True
    seen = []
    async for page in await client.conversations_history(channel="C0GENERAL", limit=2):
        seen += [m["text"] for m in page["messages"]]
    assert seen == ["m4", "m3", "m2", "m1", "m0"]


async def test_ephemeral_messages_are_kept_per_user(
    slack: SlackStandIn, client: AsyncWebClient
) -> None:
    answer = await client.chat_postEphemeral(channel="C0GENERAL", user="U0GRACE", text="Only you")
    [ephemeral] = slack.ephemerals("U0GRACE")
    assert ephemeral.ts == answer["message_ts"]
    assert ephemeral.text == "Only you"
    assert slack.ephemerals("U0ADA") == []
    assert slack.messages("#general") == []
    error, _ = await error_of(
        client.chat_postEphemeral(channel="C0LEADERSHIP", user="U0LINUS", text="x")
    )
    assert error == "user_not_in_channel"


async def test_channel_membership_errors(slack: SlackStandIn, client: AsyncWebClient) -> None:
    assert (await error_of(client.chat_postMessage(channel="#random", text="x")))[0] == (
        "not_in_channel"
    )
    assert (await error_of(client.chat_postMessage(channel="#nope", text="x")))[0] == (
        "channel_not_found"
    )
    # A private channel the bot is not in does not exist for it.
    assert (await error_of(client.chat_postMessage(channel="C0HR", text="x")))[0] == (
        "channel_not_found"
    )
    error, _ = await error_of(client.conversations_join(channel="C0HR"))
    assert error == "channel_not_found"

    joined = await client.conversations_join(channel="C0RANDOM")
    assert joined["channel"]["is_member"] is True
    await client.chat_postMessage(channel="#random", text="now I can")
    assert [m.text for m in slack.messages("C0RANDOM")] == ["now I can"]


async def test_chat_write_public_lets_the_bot_post_without_joining(
    session: aiohttp.ClientSession,
) -> None:
    async with SlackStandIn(chat_write_public=True) as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url, session=session)
        await client.chat_postMessage(channel="#random", text="hi")
        assert [m.text for m in slack.messages("#random")] == ["hi"]


async def test_dms_by_user_id_and_conversations_open(
    slack: SlackStandIn, client: AsyncWebClient
) -> None:
    opened = await client.conversations_open(users="U0KATHERINE")
    assert opened["channel"]["id"] == "D0KATHERINE"
    await client.chat_postMessage(channel=opened["channel"]["id"], text="You were assigned")
    await client.chat_postMessage(channel="U0KATHERINE", text="Reminder")
    assert [m.text for m in slack.dms("U0KATHERINE")] == ["You were assigned", "Reminder"]
    again = await client.conversations_open(users="U0KATHERINE", return_im=True)
    assert again["already_open"] is True
    assert again["channel"]["is_im"] is True
    assert again["channel"]["user"] == "U0KATHERINE"


async def test_users(client: AsyncWebClient) -> None:
    found = await client.users_lookupByEmail(email="Grace@Example.com")
    assert found["user"]["id"] == "U0GRACE"
    assert found["user"]["tz"] == "America/New_York"
    assert found["user"]["tz_offset"] in (-5 * 3600, -4 * 3600)
    assert found["user"]["profile"]["email"] == "grace@example.com"
    assert (await error_of(client.users_lookupByEmail(email="nobody@example.com")))[0] == (
        "users_not_found"
    )
    ada = await client.users_info(user="U0ADA")
    assert ada["user"]["real_name"] == "Ada Lovelace"
    assert ada["user"]["is_admin"] is True
    assert (await error_of(client.users_info(user="U0NOBODY")))[0] == "user_not_found"
    everyone = await client.users_list(limit=4)
    assert len(everyone["members"]) == 4
    assert everyone["response_metadata"]["next_cursor"]


async def test_conversations_info_list_and_permalink(
    slack: SlackStandIn, client: AsyncWebClient
) -> None:
    info = await client.conversations_info(channel="C0LEADERSHIP")
    assert info["channel"]["is_private"] is True
    listed = await client.conversations_list(types="public_channel,private_channel")
    names = {c["name"] for c in listed["channels"]}
    assert names == {"general", "meetings", "eng", "random", "leadership"}
    posted = await client.chat_postMessage(channel="C0GENERAL", text="x")
    link = await client.chat_getPermalink(channel="C0GENERAL", message_ts=posted["ts"])
    assert link["permalink"] == (f"{slack.url}/archives/C0GENERAL/p{posted['ts'].replace('.', '')}")
    team = await client.team_info()
    assert team["team"]["domain"] == "debrief-sandbox"


async def test_conversations_members_pages_and_hides_private_channels_the_bot_is_not_in(
    client: AsyncWebClient,
) -> None:
    first = await client.conversations_members(channel="C0LEADERSHIP", limit=2)
    cursor = first["response_metadata"]["next_cursor"]
    assert len(first["members"]) == 2 and cursor
    rest = await client.conversations_members(channel="C0LEADERSHIP", limit=2, cursor=cursor)
    assert rest["response_metadata"]["next_cursor"] == ""
    assert set(first["members"]) | set(rest["members"]) == {"U0ADA", "U0GRACE", BOT_USER_ID}
    # #random: public, the bot is not in it, its members are still listed.
    random = await client.conversations_members(channel="C0RANDOM")
    assert "U0ALAN" in random["members"] and BOT_USER_ID not in random["members"]
    # #hr: private and without the bot, so it does not exist for the bot.
    error, _ = await error_of(client.conversations_members(channel="C0HR"))
    assert error == "channel_not_found"


async def test_users_conversations_lists_a_persons_channels_with_paging(
    client: AsyncWebClient,
) -> None:
    async def channels(user: str, types: str) -> list[str]:
        found: list[str] = []
        cursor = None
        while True:
            page = await client.users_conversations(user=user, types=types, limit=1, cursor=cursor)
            found += [c["id"] for c in page["channels"]]
            cursor = page["response_metadata"]["next_cursor"]
            if not cursor:
                return found

    both = "public_channel,private_channel"
    # Ada is in #hr too, but the bot is not: Slack does not show it.
    assert await channels("U0ADA", both) == [
        "C0GENERAL",
        "C0MEETINGS",
        "C0ENG",
        "C0RANDOM",
        "C0LEADERSHIP",
    ]
    assert "C0LEADERSHIP" not in await channels("U0ALAN", both)
    assert await channels("U0GRACE", "private_channel") == ["C0LEADERSHIP"]


async def test_form_encoded_arguments_with_json_strings(
    slack: SlackStandIn, client: AsyncWebClient
) -> None:
    blocks = [section("form-encoded")]
    await client.api_call(
        "chat.postMessage",
        data={"channel": "C0GENERAL", "text": "form", "blocks": json.dumps(blocks)},
    )
    [message] = slack.messages("C0GENERAL")
    assert message.blocks[0]["text"]["text"] == "form-encoded"
    [args] = slack.calls_of("chat.postMessage")
    assert args["blocks"] == blocks
    assert "token" not in args


async def test_markdown_text(slack: SlackStandIn, client: AsyncWebClient) -> None:
    await client.chat_postMessage(channel="C0GENERAL", markdown_text="**bold**")
    assert slack.messages("C0GENERAL")[0].text == "**bold**"
    error, _ = await error_of(
        client.chat_postMessage(channel="C0GENERAL", text="x", markdown_text="y")
    )
    assert error == "markdown_text_conflict"


async def test_files_upload_v2_end_to_end(
    slack: SlackStandIn, client: AsyncWebClient, session: aiohttp.ClientSession
) -> None:
    parent = await client.chat_postMessage(channel="C0MEETINGS", text="Digest")
    answer = await client.files_upload_v2(
        channel="C0MEETINGS",
        thread_ts=parent["ts"],
        content="WEBVTT\n\n00:00.000 --> 00:01.000\nHello",
        filename="transcript.vtt",
        title="Transcript",
        initial_comment="Full transcript",
    )
    assert answer["file"]["title"] == "Transcript"
    assert answer["file"]["name"] == "transcript.vtt"
    [_parent, reply] = slack.thread("C0MEETINGS", parent["ts"])
    assert reply.text == "Full transcript"
    assert reply.files[0]["id"] == answer["file"]["id"]
    [upload_url] = [c for c in slack.calls if c.path.startswith("/upload/v1/")]
    assert upload_url.body.startswith(b"WEBVTT")
    async with session.get(
        answer["file"]["url_private_download"],
        headers={"Authorization": f"Bearer {slack.bot_token}"},
    ) as response:
        assert await response.read() == b"WEBVTT\n\n00:00.000 --> 00:01.000\nHello"
    assert slack.calls_of("files.getUploadURLExternal")[0]["filename"] == "transcript.vtt"


async def test_complete_upload_needs_the_bytes_first(client: AsyncWebClient) -> None:
    started = await client.files_getUploadURLExternal(filename="a.txt", length=3)
    error, _ = await error_of(
        client.files_completeUploadExternal(files=[{"id": started["file_id"]}], channel_id="C0ENG")
    )
    assert error == "file_not_found"


async def test_views_publish_and_home(slack: SlackStandIn, client: AsyncWebClient) -> None:
    view = {"type": "home", "blocks": [section("Your open action items")]}
    published = await client.views_publish(user_id="U0ALAN", view=view)
    home = slack.home("U0ALAN")
    assert home is not None
    assert home.blocks[0]["text"]["text"] == "Your open action items"
    assert published["view"]["id"] == home.id
    error, _ = await error_of(client.views_publish(user_id="U0ALAN", view=view, hash="stale.hash"))
    assert error == "hash_conflict"
    again = await client.views_publish(user_id="U0ALAN", view=view, hash=home.hash)
    assert again["view"]["id"] == home.id


async def test_modals_need_fresh_unused_triggers(session: aiohttp.ClientSession) -> None:
    clock = FakeClock()
    async with SlackStandIn(clock=clock) as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url, session=session)
        modal = {
            "type": "modal",
            "title": {"type": "plain_text", "text": "Join a meeting"},
            "submit": {"type": "plain_text", "text": "Join"},
            "blocks": [
                {
                    "type": "input",
                    "block_id": "url",
                    "label": {"type": "plain_text", "text": "Meeting URL"},
                    "element": {"type": "plain_text_input", "action_id": "value"},
                }
            ],
        }
        assert (await error_of(client.views_open(trigger_id="made.up", view=modal)))[0] == (
            "invalid_trigger_id"
        )
        stale = slack.issue_trigger("U0GRACE")
        clock.advance(3.5)
        assert (await error_of(client.views_open(trigger_id=stale, view=modal)))[0] == (
            "expired_trigger_id"
        )
        fresh = slack.issue_trigger("U0GRACE")
        opened = await client.views_open(trigger_id=fresh, view=modal)
        assert [v.id for v in slack.modals("U0GRACE")] == [opened["view"]["id"]]
        assert (await error_of(client.views_open(trigger_id=fresh, view=modal)))[0] == (
            "exchanged_trigger_id"
        )
        pushed = await client.views_push(trigger_id=slack.issue_trigger("U0GRACE"), view=modal)
        assert pushed["view"]["previous_view_id"] == opened["view"]["id"]
        updated = await client.views_update(
            view_id=opened["view"]["id"],
            hash=opened["view"]["hash"],
            view={**modal, "title": {"type": "plain_text", "text": "Joining…"}},
        )
        assert updated["view"]["title"]["text"] == "Joining…"
        assert slack.view(opened["view"]["id"]).title == {"type": "plain_text", "text": "Joining…"}


async def test_injected_429_is_honoured_by_the_rate_limit_retry_handler(
    slack: SlackStandIn, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(builtin_async_handlers, "asyncio", types.SimpleNamespace(sleep=fake_sleep))
    client = AsyncWebClient(
        token=slack.bot_token,
        base_url=slack.api_url,
        session=session,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
    )
    slack.ratelimit("chat.postMessage", retry_after=2)
    answer = await client.chat_postMessage(channel="C0GENERAL", text="after a pause")
    assert answer["ok"] is True
    assert [c.status for c in slack.calls_to("/api/chat.postMessage")] == [429, 200]
    assert len(slept) == 1 and 2 <= slept[0] < 3
    assert [m.text for m in slack.messages("#general")] == ["after a pause"]


async def test_a_429_without_retry_handler_surfaces_ratelimited(
    slack: SlackStandIn, client: AsyncWebClient
) -> None:
    slack.ratelimit("chat.update", retry_after=7)
    with pytest.raises(SlackApiError) as raised:
        await client.chat_update(channel="C0GENERAL", ts="1.2", text="x")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "7"
    assert raised.value.response["error"] == "ratelimited"


async def test_enforced_pacing_allows_a_burst_then_one_per_second(
    session: aiohttp.ClientSession,
) -> None:
    clock = FakeClock()
    async with SlackStandIn(clock=clock, enforce_rate_limits=True) as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url, session=session)
        for n in range(3):
            await client.chat_postMessage(channel="C0GENERAL", text=f"burst {n}")
        # Another channel has its own allowance.
        await client.chat_postMessage(channel="C0ENG", text="elsewhere")
        with pytest.raises(SlackApiError) as raised:
            await client.chat_postMessage(channel="C0GENERAL", text="too fast")
        assert raised.value.response.status_code == 429
        assert raised.value.response.headers["Retry-After"] == "1"
        clock.advance(1.0)
        await client.chat_postMessage(channel="C0GENERAL", text="after a second")
        assert [m.text for m in slack.messages("#general")] == [
            "burst 0",
            "burst 1",
            "burst 2",
            "after a second",
        ]


async def test_snapshot_and_event_log_endpoints(
    slack: SlackStandIn, client: AsyncWebClient, session: aiohttp.ClientSession
) -> None:
    mark = slack.last_seq
    queue = slack.subscribe()
    posted = await client.chat_postMessage(channel="C0GENERAL", text="hello")
    change = await slack.wait_for("message_posted", since=mark, channel="C0GENERAL")
    assert change.data["ts"] == posted["ts"]
    assert (await queue.get()).kind == "message_posted"
    slack.unsubscribe(queue)

    lock = slack.lock.headers()
    async with session.get(f"{slack.url}/_sandbox/state", headers=lock) as response:
        state = await response.json()
    general = next(c for c in state["channels"] if c["id"] == "C0GENERAL")
    assert [m["text"] for m in general["messages"]] == ["hello"]
    assert {u["id"] for u in state["users"]} >= {"U0ADA", "U0LINUS", BOT_USER_ID}
    async with session.get(
        f"{slack.url}/_sandbox/events", params={"after": mark}, headers=lock
    ) as response:
        events = await response.json()
    assert [c["kind"] for c in events["changes"]] == ["message_posted"]
    # Control endpoints are not recorded as API calls.
    assert not [c for c in slack.calls if c.path.startswith("/_sandbox")]


async def test_wait_for_times_out(slack: SlackStandIn) -> None:
    with pytest.raises(TimeoutError):
        await slack.wait_for("message_posted", within=0.05)


async def test_only_chat_post_message_takes_a_user_id_as_channel(
    slack: SlackStandIn, client: AsyncWebClient
) -> None:
    assert (await error_of(client.conversations_info(channel="U0ADA")))[0] == "channel_not_found"
    assert (await error_of(client.conversations_history(channel="C0RANDOM")))[0] == (
        "not_in_channel"
    )
    assert "D0ADA" not in slack.workspace.channels
