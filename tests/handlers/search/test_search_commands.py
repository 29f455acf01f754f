"""`/debrief search`, `ask`, `forget` and mentions, through signed requests to the real app and
the Slack stand-in: results, answers, refusals, usage lines, and privacy in each of them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.meetings import Meeting, Utterance
from handlers.digest.tables import Digest
from handlers.search.blocks import NOT_FOUND
from handlers.search.tables import StoredMeeting, StoredPassage
from sandbox.slack.state import BOT_USER_ID
from tests.handlers.action_items.support import app_url, deliver, rig, settle
from tests.handlers.digest.support import Rig, text_of

SECRET_WORD = "zanzibar"


def board_meeting() -> Meeting:
    """A leadership meeting, delivered to the private #leadership (Ada and Grace only)."""
    return Meeting(
        provider="otter",
        meeting_id="board-1",
        title="Board prep",
        summary="Acquisition talks.",
        transcript=[
            Utterance(
                speaker="Ada Lovelace",
                text=f"The acquisition codename is {SECRET_WORD}; we ship the offer on Friday.",
                start_seconds=75.0,
            ),
        ],
    )


def launch_meeting() -> Meeting:
    """A public meeting, delivered to #meetings (everyone)."""
    return Meeting(
        provider="otter",
        meeting_id="launch-1",
        title="Launch sync",
        summary="Launch timing.",
        transcript=[
            Utterance(
                speaker="Grace Hopper", text="We ship the launch on Tuesday.", start_seconds=0
            ),
            Utterance(
                speaker="Alan Turing",
                text="The release notes are ready, and the budget is approved.",
                start_seconds=125.0,
            ),
        ],
    )


@pytest.fixture
async def r(database_url: str) -> AsyncIterator[Rig]:
    async with rig(database_url) as r:
        await deliver(r, board_meeting(), "C0LEADERSHIP")
        await deliver(r, launch_meeting(), "C0MEETINGS")
        yield r


async def command(r: Rig, text: str, user: str, channel: str = "C0MEETINGS") -> Any:
    """Type ``/debrief text``; the last ephemeral the person sees, once the jobs ran."""
    seen = len(r.slack.ephemerals(user))
    delivery = await r.slack.command(app_url(r), "/debrief", text, user_id=user, channel_id=channel)
    assert delivery.status == 200, delivery.body
    await settle(r)
    shown = r.slack.ephemerals(user)
    assert len(shown) > seen, "no answer"
    return shown[-1]


def said(answer: Any) -> str:
    return answer.text + "\n" + text_of(answer.blocks)


async def mention(r: Rig, user: str, channel: str, text: str, thread_ts: str | None) -> str:
    """Mention the app in a thread; the text of its answer there."""
    ts = r.slack.workspace.next_ts()
    event: dict[str, Any] = {
        "type": "app_mention",
        "user": user,
        "text": f"<@{BOT_USER_ID}> {text}",
        "channel": channel,
        "ts": ts,
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    before = len(r.slack.thread(channel, thread_ts)) if thread_ts else 0
    delivery = await r.slack.event(app_url(r), event)
    assert delivery.status == 200, delivery.body
    # Bolt answers an event before its listener runs: the job may not be there yet.
    async with asyncio.timeout(5):
        while True:
            await r.make_due()
            await r.drain()
            replies = r.slack.thread(channel, thread_ts) if thread_ts else []
            if len(replies) > before:
                break
            await asyncio.sleep(0.01)
    return said(replies[-1])


def parent_ts(r: Rig, channel: str, title: str) -> str:
    return next(m.ts for m in r.slack.messages(channel) if title in m.text + text_of(m.blocks))


async def test_search_shows_meetings_moments_and_links(r: Rig) -> None:
    answer = await command(r, "search budget", "U0KATHERINE")
    text = said(answer)
    assert "Launch sync" in text
    assert "*Grace Hopper, Alan Turing* `00:00`" in text, "a passage of two short turns"
    assert "*budget*" in text, "the matched word in bold"
    assert "/archives/C0MEETINGS/p" in text, "a link to the digest"


def leaks(text: str) -> bool:
    """Whether an answer shows anything of the board meeting (the question may echo words)."""
    return "Board prep" in text or "acquisition" in text.lower() or "offer" in text.lower()


async def test_private_meeting_never_shown_to_a_non_member(r: Rig) -> None:
    # Katherine is not in #leadership: no search, ask or mention shows its meeting to her.
    found = said(await command(r, f"search {SECRET_WORD}", "U0KATHERINE"))
    assert "No meetings" in found and not leaks(found)
    found = said(await command(r, "search ship", "U0KATHERINE"))
    assert "Launch sync" in found and not leaks(found)
    asked = said(await command(r, f"ask what is the {SECRET_WORD} codename?", "U0KATHERINE"))
    assert NOT_FOUND in asked and not leaks(asked)
    asked = said(await command(r, "ask when do we ship?", "U0KATHERINE"))
    assert "Launch sync" in asked and not leaks(asked)
    board = parent_ts(r, "C0LEADERSHIP", "Board prep")
    answered = await mention(r, "U0KATHERINE", "C0LEADERSHIP", f"what is {SECRET_WORD}?", board)
    assert NOT_FOUND in answered and not leaks(answered)
    # Ada is in #leadership, but a thread in #meetings is read by everyone in #meetings.
    launch = parent_ts(r, "C0MEETINGS", "Launch sync")
    answered = await mention(r, "U0ADA", "C0MEETINGS", f"what about {SECRET_WORD}?", launch)
    assert NOT_FOUND in answered and not leaks(answered)
    # Members see it.
    assert leaks(said(await command(r, f"search {SECRET_WORD}", "U0GRACE")))


async def test_ask_answers_with_citations(r: Rig) -> None:
    asked = said(await command(r, "ask is the budget approved?", "U0KATHERINE"))
    assert "budget is approved" in asked
    assert "Launch sync" in asked and "/archives/C0MEETINGS/p" in asked


async def test_mention_in_a_digest_thread_answers_there_from_that_meeting_first(r: Rig) -> None:
    board = parent_ts(r, "C0LEADERSHIP", "Board prep")
    answered = await mention(r, "U0GRACE", "C0LEADERSHIP", "when do we ship?", board)
    assert SECRET_WORD in answered, "the thread's own meeting first"
    assert "Board prep" in answered


async def test_forget_by_the_requester_or_an_admin_only(r: Rig) -> None:
    refused = said(await command(r, "forget 2", "U0KATHERINE"))
    assert "nothing was deleted" in refused and "workspace admin" in refused
    assert "Launch sync" in said(await command(r, "search budget", "U0KATHERINE"))
    launch = parent_ts(r, "C0MEETINGS", "Launch sync")
    link = f"https://sandbox.slack.test/archives/C0MEETINGS/p{launch.replace('.', '')}"
    done = said(await command(r, f"forget {link}", "U0ADA"))  # Ada is an admin
    assert "Forgotten" in done and "Launch sync" in done
    assert "Launch sync" not in said(await command(r, "search budget", "U0KATHERINE"))
    async with r.services.sessions() as session:
        left = await session.scalar(
            select(func.count()).select_from(StoredMeeting).where(StoredMeeting.id == 2)
        )
        passages = await session.scalar(
            select(func.count()).select_from(StoredPassage).where(StoredPassage.meeting_pk == 2)
        )
        digest = await session.get(Digest, ("otter", "launch-1", "C0MEETINGS"))
    assert left == 0 and passages == 0
    assert digest is not None and digest.meeting is None, "the digest's copy is gone too"
    # A meeting Katherine cannot see is not even named to her.
    hidden = said(await command(r, "forget 1", "U0KATHERINE"))
    assert "Board prep" not in hidden and "no stored meeting" in hidden


async def test_redelivery_updates_the_stored_meeting(r: Rig) -> None:
    await deliver(r, launch_meeting(), "C0MEETINGS")
    async with r.services.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(StoredMeeting))
    assert count == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("search", "Usage: `/debrief search"),
        ("search after:2026-11-01", "Tell me what to look for"),
        ("search ship after:yesterday", "takes a date like"),
        ("search ship in:general", "`in:` takes a channel"),
        ("search ship from:", "needs a value"),
        ("ask", "Usage: `/debrief ask"),
        ("ask ???", "Usage: `/debrief ask"),
        ("forget", "Usage: `/debrief forget"),
        ("forget https://evil.example/<!channel>", "Usage: `/debrief forget"),
    ],
)
async def test_bad_input_gets_a_usage_line(r: Rig, text: str, expected: str) -> None:
    delivery = await r.slack.command(app_url(r), "/debrief", text, user_id="U0ALAN")
    assert delivery.status == 200
    answer = r.slack.ephemerals("U0ALAN")[-1]
    assert expected in answer.text
    assert "<!channel>" not in answer.text


async def test_filters_from_person_and_in_channel(r: Rig) -> None:
    grace = said(await command(r, "search ship from:@grace in:#meetings", "U0GRACE"))
    assert "Launch sync" in grace and "Board prep" not in grace
    ada = said(await command(r, "search ship from:<@U0ADA>", "U0GRACE"))
    assert "Board prep" in ada and "Launch sync" not in ada
    elsewhere = said(await command(r, "search ship in:#eng", "U0GRACE"))
    assert "No meetings" in elsewhere
