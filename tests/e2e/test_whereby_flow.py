"""Whereby end to end: the real app over real HTTP against the Slack and Whereby stand-ins, from
`/debrief room` to the summary digest in the room's thread."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from bot.store.models import InboxEvent
from handlers.whereby.blocks import ACTION_END, ACTION_RECORDING, ACTION_TRANSCRIPT
from providers.whereby import PointBudget, WherebyClient, request_cost
from sandbox.slack import Message
from sandbox.whereby import Charge, WherebyStandIn
from sandbox.world import World
from tests.e2e.conftest import world_options
from tests.e2e.test_attendee_flow import block_text

CHANNEL = "C0ENG"
FAST = {"whereby_summary_poll_seconds": 0.05}


def room_messages(world: World) -> list[Message]:
    return [m for m in world.slack.messages(CHANNEL) if m.bot_id]


def replies(world: World, message: Message) -> list[Message]:
    return [m for m in world.slack.thread(CHANNEL, message.ts) if m.ts != message.ts]


def told(world: World, user: str) -> str:
    return "\n".join(block_text(e) for e in world.slack.ephemerals(user))


async def open_room(world: World, text: str, user: str) -> Message:
    before = len(room_messages(world))
    delivery = await world.slack.command(
        world.app_url, "/debrief", text, user_id=user, channel_id=CHANNEL
    )
    assert delivery.status == 200 and delivery.body == "", "the host link is the answer"
    messages = await world.eventually(lambda: room_messages(world)[before:])
    return messages[-1]


def room_name_of(world: World, message: Message) -> str:
    """The Whereby room behind a room message (its Join button's URL)."""
    for block in message.blocks:
        for element in block.get("elements", []):
            if element.get("url"):
                return str(element["url"]).rsplit("/", 1)[-1]
    raise AssertionError("no Join button")


async def test_a_room_from_command_to_digest(database_url: str) -> None:
    async with World(world_options(database_url, settings=FAST)) as world:
        whereby = world.whereby
        room = await open_room(world, "room 30 Design review", user="U0GRACE")
        name = room_name_of(world, room)
        meeting = whereby.room(name).meeting
        assert meeting is not None
        await world.eventually(lambda: meeting["hostRoomUrl"] in told(world, "U0GRACE"))
        assert meeting["hostRoomUrl"] not in block_text(room)
        assert "Design review" in block_text(room) and "Open" in block_text(room)

        whereby.client_joined(name, "Grace Hopper", role_name="host")
        whereby.client_joined(name, "Alan Turing")
        whereby.start_session(name)
        await world.eventually(lambda: "In progress* · 2 people" in block_text(room))
        whereby.end_session(name)
        await world.eventually(lambda: "Session ended" in block_text(room))
        assert "In progress" not in block_text(room)

        recording = whereby.finish_recording(name)
        await world.eventually(lambda: "Recording" in block_text(room))
        await world.slack.click(world.app_url, room, ACTION_RECORDING, user_id="U0ALAN")
        await world.eventually(
            lambda: f"/files/recordings/{recording['recordingId']}" in told(world, "U0ALAN")
        )

        transcription = whereby.finish_transcription(name)
        (digest,) = await world.eventually(lambda: replies(world, room))
        assert whereby.summary_text in block_text(digest)
        assert "Grace Hopper" in block_text(digest) and "Alan Turing" in block_text(digest)
        await world.slack.click(world.app_url, digest, ACTION_TRANSCRIPT, user_id="U0ALAN")
        await world.eventually(
            lambda: (
                f"/files/transcriptions/{transcription['transcriptionId']}" in told(world, "U0ALAN")
            )
        )

        # Alan did not open Grace's room, but he is in its channel: he may end it.
        await world.slack.click(world.app_url, room, ACTION_END, user_id="U0ALAN")
        await world.eventually(lambda: "Room ended* by <@U0ALAN>" in block_text(room))
        assert name not in whereby.rooms
        await world.settle()
        assert len(room_messages(world)) == 1, "one room message, updated in place"
        assert 429 not in [c.status for c in whereby.calls]


async def test_duplicated_and_reordered_webhooks(database_url: str) -> None:
    async with World(world_options(database_url, settings=FAST)) as world:
        whereby = world.whereby
        room = await open_room(world, "room", user="U0ADA")
        name = room_name_of(world, room)
        await world.settle()
        whereby.hold()
        whereby.duplicate_webhooks(2)
        for step in (
            lambda: whereby.client_joined(name, "Ada Lovelace"),
            lambda: whereby.client_joined(name, "Grace Hopper"),
            lambda: whereby.start_session(name),
            lambda: whereby.client_left(name),
            lambda: whereby.end_session(name),
            lambda: whereby.finish_transcription(name),
        ):
            step()
            await asyncio.sleep(0.01)  # distinct createdAt (milliseconds) for each event
        sent = len(whereby.events)
        whereby.release("reversed")
        await world.eventually(lambda: replies(world, room), within=15)
        await world.settle()

        shown = block_text(room)
        assert "Session ended" in shown and "In progress" not in shown
        assert len(replies(world, room)) == 1, "one digest"
        assert len(whereby.calls_to("/v1/summaries", "POST")) == 1
        assert len(whereby.deliveries) == 2 * sent
        assert all(d.status == 200 for d in whereby.deliveries)
        async with world.services.sessions() as session:
            kept = await session.execute(
                select(func.count()).select_from(InboxEvent).where(InboxEvent.provider == "whereby")
            )
        assert kept.scalar() == sent, "each event accepted once, its twin dropped"


def record_charges(standin: WherebyStandIn) -> list[tuple[float, float, bool]]:
    """Every charge the stand-in's budget makes from now on: (time, points, allowed)."""
    charges: list[tuple[float, float, bool]] = []
    charge: Callable[[float], Charge] = standin.budget.charge

    def recording(cost: float) -> Charge:
        result = charge(cost)
        charges.append((time.monotonic(), cost, result.allowed))
        return result

    standin.budget.charge = recording  # type: ignore[method-assign]
    return charges


async def test_a_burst_through_the_app_shares_one_budget(sqlite_url: str) -> None:
    """Commands and clicks at once, each in its own job on four workers, against a budget
    scaled to 30 points per 2 s: no 429, the first window used up, and done when the second
    window opens."""
    points, window = 30, 2.0
    async with World(world_options(sqlite_url, workers=4, settings=FAST)) as world:
        whereby = world.whereby
        rooms = [await open_room(world, f"room Setup {n}", user="U0ADA") for n in range(4)]
        for room in rooms:
            name = room_name_of(world, room)
            whereby.start_session(name)
            whereby.end_session(name)
            whereby.finish_recording(name)
        await world.eventually(lambda: all("Recording" in block_text(r) for r in rooms))
        await world.settle()

        # The app's one client, with its budget scaled like the stand-in's (the plan's window
        # is a minute; a test cannot wait for minutes). Every job goes through it.
        services = world.services
        services.clients[WherebyClient] = WherebyClient(
            services.http,
            api_key=world.whereby_api_key,
            base_url=whereby.api_url,
            limiter=PointBudget(points, window=window, margin=0.05),
        )
        whereby.configure_budget(points=points, window=window)
        charges = record_charges(whereby)

        sends: list[Any] = [
            world.slack.command(
                world.app_url, "/debrief", f"room Burst {n}", user_id="U0ADA", channel_id=CHANNEL
            )
            for n in range(6)
        ]
        for room in rooms:
            sends.append(world.slack.click(world.app_url, room, ACTION_END, user_id="U0ADA"))
            for _ in range(2):
                sends.append(
                    world.slack.click(world.app_url, room, ACTION_RECORDING, user_id="U0ALAN")
                )
        await asyncio.gather(*sends)
        await world.eventually(lambda: len(room_messages(world)) == 10)
        await world.settle()
        assert all("Room ended" in block_text(room) for room in rooms)
        assert told(world, "U0ALAN").count("/files/recordings/") == 8

    assert [c for c in charges if not c[2]] == [], "no request was refused (429)"
    assert 429 not in [c.status for c in whereby.calls]
    costs = [cost for _, cost, _ in charges]
    assert sorted(costs) == sorted(
        [request_cost("POST")] * 6 + [request_cost("DELETE")] * 4 + [request_cost("GET")] * 8
    )
    start = charges[0][0]
    first_window = sum(cost for at, cost, _ in charges if at - start < window)
    assert first_window > points - request_cost("POST"), "the first window was used up"
    best = (math.ceil(sum(costs) / points) - 1) * window
    elapsed = charges[-1][0] - start
    assert best == window
    assert best <= elapsed <= best + 0.75, f"{elapsed:.2f}s against a minimum of {best:.2f}s"
