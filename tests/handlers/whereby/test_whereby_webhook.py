"""`POST /webhooks/whereby` through the app: the signature on the raw body, de-duplication, and
session events applied in any order of arrival."""

from __future__ import annotations

import json
import math
import time

import pytest

from handlers.whereby.events import JOB_EVENT
from providers.whereby import SIGNATURE_HEADER, sign
from sandbox.whereby import WherebyStandIn
from tests.handlers.digest.support import text_of
from tests.handlers.whereby.conftest import SECRET, event, now, room_data, room_rig

STARTED, ENDED = "room.session.started", "room.session.ended"
JOINED, LEFT = "room.client.joined", "room.client.left"


def body_of(kind: str = STARTED) -> bytes:
    payload = event(kind, {"roomName": "/elsewhere-abc", "roomSessionId": "s"}, now())
    return json.dumps(payload, separators=(",", ":")).encode()


async def test_refused_when_no_secret_is_configured(
    sqlite_url: str, whereby: WherebyStandIn
) -> None:
    async with room_rig(sqlite_url, whereby, whereby_webhook_secret=None) as rr:
        body = body_of()
        response = await rr.r.client.post(
            "/webhooks/whereby",
            data=body,
            headers={SIGNATURE_HEADER: sign(body, SECRET, int(time.time()))},
        )
        assert response.status == 401
        assert "WHEREBY_WEBHOOK_SECRET" in (await response.json())["error"]
        assert await rr.r.jobs(JOB_EVENT) == []


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("good", 200),
        ("tampered", 401),
        ("stale", 401),
        ("future", 401),
        ("other-secret", 401),
        ("missing", 401),
        ("malformed-header", 401),
    ],
)
async def test_the_signature_is_checked_on_the_raw_body(
    sqlite_url: str, whereby: WherebyStandIn, case: str, status: int
) -> None:
    body = signed_body = body_of()
    secret = SECRET
    if case == "other-secret":
        secret = "not-the-secret"
    elif case == "tampered":
        # Signed as sent, then changed on the way: one byte of the JSON, still valid JSON.
        body = body.replace(b'"roomSessionId":"s"', b'"roomSessionId":"t"')
        assert body != signed_body
    async with room_rig(sqlite_url, whereby) as rr:
        # Stamped just before sending (the rig can take over a second to start), and one
        # second past the 300 s tolerance however the clock's fraction falls.
        clock = time.time()
        stamp = int(clock)
        if case == "stale":
            stamp -= 301
        elif case == "future":
            stamp = math.ceil(clock) + 301
        headers = {"Content-Type": "application/json"}
        if case == "malformed-header":
            headers[SIGNATURE_HEADER] = "sha256=" + "0" * 64
        elif case != "missing":
            headers[SIGNATURE_HEADER] = sign(signed_body, secret, stamp)
        response = await rr.r.client.post("/webhooks/whereby", data=body, headers=headers)
        assert response.status == status, await response.text()
        jobs = await rr.r.jobs(JOB_EVENT)
        assert len(jobs) == (1 if status == 200 else 0)
        if status == 200:
            assert (await response.json()) == {"status": "accepted"}
            assert jobs[0].payload["event"]["type"] == STARTED


async def test_within_the_tolerance_window_is_accepted(
    sqlite_url: str, whereby: WherebyStandIn
) -> None:
    async with room_rig(sqlite_url, whereby) as rr:
        for skew in (-290, 290):
            status, answer = await rr.deliver(
                event(STARTED, {"roomName": "/x"}, now()), stamp=int(time.time()) + skew
            )
            assert (status, answer) == (200, {"status": "accepted"})


async def test_authentic_but_malformed_is_400_and_unknown_types_are_ignored(
    sqlite_url: str, whereby: WherebyStandIn
) -> None:
    async with room_rig(sqlite_url, whereby) as rr:
        body = b'{"type": "room.session.started"}'  # no id
        response = await rr.r.client.post(
            "/webhooks/whereby",
            data=body,
            headers={SIGNATURE_HEADER: sign(body, SECRET, int(time.time()))},
        )
        assert response.status == 400
        knock = event("room.client.knocked", {"roomName": "/x"}, now())
        assert await rr.deliver(knock) == (200, {"status": "ignored"})
        assert await rr.r.jobs(JOB_EVENT) == []


async def test_a_duplicate_delivery_is_dropped(database_url: str, whereby: WherebyStandIn) -> None:
    async with room_rig(database_url, whereby) as rr:
        row, message = await rr.open_room()
        joined = event(JOINED, room_data(row, numClients=1, displayName="Ada"), now())
        assert await rr.deliver(joined) == (200, {"status": "accepted"})
        assert await rr.deliver(joined) == (200, {"status": "duplicate"})
        assert len(await rr.r.jobs(JOB_EVENT)) == 1
        await rr.r.drain()
        assert "1 person in the room" in text_of(message.blocks)


@pytest.mark.parametrize(
    "order",
    [
        [4, 3, 2, 1, 0],  # everything reversed: the end first
        [2, 4, 0, 1, 3],
        [0, 1, 4, 2, 3],
    ],
    ids=["reversed", "shuffled", "end-before-start"],
)
async def test_events_in_any_order_end_with_the_session_ended(
    database_url: str, whereby: WherebyStandIn, order: list[int]
) -> None:
    async with room_rig(database_url, whereby) as rr:
        row, message = await rr.open_room()
        t0 = now() - 3600
        session = [
            event(JOINED, room_data(row, numClients=1, displayName="Ada"), t0),
            event(JOINED, room_data(row, numClients=2, displayName="Grace"), t0 + 5),
            event(STARTED, room_data(row), t0 + 6),
            event(LEFT, room_data(row, numClients=1, displayName="Grace"), t0 + 1200),
            event(ENDED, room_data(row), t0 + 1806),
        ]
        for index in order:
            await rr.deliver(session[index])
            await rr.r.drain()  # each applied before the next arrives: the order is real
            shown = text_of(message.blocks)
            if index == 4 or "Session ended" in shown:
                assert "In progress" not in shown
        shown = text_of(message.blocks)
        assert "Session ended" in shown and "lasted 30 min" in shown
        assert "In progress" not in shown
        assert "Ada" in shown and "Grace" in shown
        stored = await rr.room(row.id)
        assert stored.participants == 0 and stored.session_ended_at is not None


async def test_live_state_and_people_count_follow_the_newest_event(
    database_url: str, whereby: WherebyStandIn
) -> None:
    async with room_rig(database_url, whereby) as rr:
        row, message = await rr.open_room()
        t0 = now() - 60
        await rr.deliver(event(JOINED, room_data(row, numClients=3), t0 + 3))
        await rr.deliver(event(JOINED, room_data(row, numClients=2), t0 + 2))  # late, older
        await rr.deliver(event(STARTED, room_data(row), t0 + 1))
        await rr.r.drain()
        shown = text_of(message.blocks)
        assert "In progress" in shown and "3 people" in shown
        # The next session's start replaces it; the old session's late end does not.
        await rr.deliver(event(STARTED, room_data(row, "session-2"), t0 + 50))
        await rr.deliver(event(ENDED, room_data(row), t0 + 40))
        await rr.r.drain()
        stored = await rr.room(row.id)
        assert stored.session_id == "session-2" and stored.session_ended_at is None
        assert "In progress" in text_of(message.blocks)


async def test_events_of_rooms_not_ours_change_nothing(
    sqlite_url: str, whereby: WherebyStandIn
) -> None:
    async with room_rig(sqlite_url, whereby) as rr:
        _, message = await rr.open_room()
        before = text_of(message.blocks)
        await rr.deliver(event(STARTED, {"roomName": "/someone-else", "meetingId": "9"}, now()))
        await rr.deliver(event("recording.finished", {"roomName": "/x", "recordingId": "r"}, now()))
        assert await rr.r.drain() == 2
        assert text_of(message.blocks) == before
