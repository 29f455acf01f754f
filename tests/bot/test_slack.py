"""The Slack layer against the Slack stand-in: retries, pacing, joins, natural-key upserts."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError

from bot.posting import PostKey, PostLedger
from bot.slack import ChannelPacer, SlackMessenger, is_permanent_slack_error
from sandbox.slack import SlackStandIn


async def test_a_429_is_retried_after_its_retry_after(
    slack: SlackStandIn, messenger: SlackMessenger
) -> None:
    slack.ratelimit("chat.postMessage", retry_after=1, times=1)
    answer = await messenger.post("C0GENERAL", "hello")
    assert answer["ok"]
    assert [m.text for m in slack.messages("C0GENERAL")] == ["hello"]
    assert len(slack.calls_to("/api/chat.postMessage")) == 2


async def test_a_5xx_is_retried(slack: SlackStandIn, messenger: SlackMessenger) -> None:
    slack.fail("/api/chat.postMessage", status=503, times=1)
    await messenger.post("C0GENERAL", "after a blip")
    assert [m.text for m in slack.messages("C0GENERAL")] == ["after a blip"]


async def test_not_in_channel_joins_a_public_channel_and_posts(
    slack: SlackStandIn, messenger: SlackMessenger
) -> None:
    await messenger.post("C0RANDOM", "hello random")
    assert slack.calls_of("conversations.join")
    assert [m.text for m in slack.messages("C0RANDOM")] == ["hello random"]


async def test_an_unknown_channel_is_a_permanent_error(messenger: SlackMessenger) -> None:
    with pytest.raises(SlackApiError) as caught:
        await messenger.post("C0HR", "secret")
    assert is_permanent_slack_error(caught.value)


async def test_upsert_posts_once_then_updates_in_place(
    slack: SlackStandIn, posts: PostLedger
) -> None:
    key = PostKey("attendee", "meeting-1", "C0MEETINGS", "status")
    first = await posts.upsert(key, "joining")
    again = await posts.upsert(key, "joining")
    assert not again.changed and again.ts == first.ts
    assert len(slack.calls_of("chat.postMessage")) == 1 and not slack.calls_of("chat.update")
    await posts.upsert(key, "recording")
    (message,) = slack.messages("C0MEETINGS")
    assert message.ts == first.ts and message.text == "recording"


async def test_upsert_reposts_a_message_deleted_in_slack(
    slack: SlackStandIn, posts: PostLedger
) -> None:
    key = PostKey("attendee", "meeting-2", "C0MEETINGS", "status")
    first = await posts.upsert(key, "one")
    await posts.slack.client.chat_delete(channel="C0MEETINGS", ts=first.ts)
    second = await posts.upsert(key, "two")
    assert second.ts != first.ts
    assert [m.text for m in slack.messages("C0MEETINGS")] == ["two"]
    assert (await posts.find(key)).ts == second.ts  # type: ignore[union-attr]


async def test_the_pacer_spaces_messages_to_one_channel() -> None:
    now = [100.0]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    pacer = ChannelPacer(1.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        await pacer.wait("C1")
    await pacer.wait("C2")
    assert waits == [1.0, 2.0], "the second and third wait their turn; another channel does not"
