"""`/debrief room`, "End room", and fresh recording/transcript links, through the real app
against the Slack and Whereby stand-ins (jobs run by the test)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.store.db import transaction
from handlers.whereby.blocks import ACTION_END, ACTION_JOIN, ACTION_RECORDING
from handlers.whereby.rooms import JOB_CREATE, JOB_EXPIRE, ExpireRoomsJob
from sandbox.slack import validate_blocks
from sandbox.whereby import WherebyStandIn
from tests.handlers.digest.support import text_of
from tests.handlers.whereby.conftest import SECRET, room_rig


def buttons(blocks: list[dict]) -> dict[str, dict]:  # type: ignore[type-arg]
    return {
        element["action_id"]: element
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
    }


async def test_a_room_is_created_by_a_job_posted_here_and_the_host_link_sent_privately(
    database_url: str, whereby: WherebyStandIn
) -> None:
    async with room_rig(database_url, whereby) as rr:
        answer = await rr.command("room")
        assert answer == "", "no placeholder: the job's host link is the one answer"
        assert whereby.calls == [], "the listener answers before Whereby is called"
        assert len(await rr.r.jobs(JOB_CREATE)) == 1

        await rr.r.drain()
        (create,) = whereby.calls_to("/v1/meetings", "POST")
        body = create.json
        assert body["roomNamePrefix"] == "eng"
        assert body["fields"] == ["hostRoomUrl"]
        end = datetime.fromisoformat(body["endDate"])
        assert abs((end - datetime.now(UTC)) - timedelta(minutes=60)) < timedelta(seconds=30)

        (message,) = rr.posted()
        meeting = next(iter(whereby.meetings.values())).meeting
        assert meeting is not None
        shown = text_of(message.blocks)
        assert "#eng" in shown and "Open" in shown and "Opened by <@U0ADA>" in shown
        assert buttons(message.blocks)[ACTION_JOIN]["url"] == meeting["roomUrl"]
        assert ACTION_END in buttons(message.blocks)
        assert meeting["hostRoomUrl"] not in str(message.blocks), "the host link stays private"
        assert validate_blocks(message.blocks) == []

        (only,) = rr.r.slack.ephemerals("U0ADA")
        private = rr.said("U0ADA")
        assert meeting["hostRoomUrl"] in private and meeting["hostRoomUrl"] in text_of(only.blocks)
        assert "host" in private.lower()
        (row,) = await rr.rooms()
        assert row.message_ts == message.ts and row.status == "open"
        assert row.room_name == meeting["roomName"].lstrip("/")
        assert row.meeting_id == meeting["meetingId"]
        assert row.end_at is not None and abs(row.end_at - end) < timedelta(seconds=1)


async def test_minutes_and_a_name_shape_the_room(sqlite_url: str, whereby: WherebyStandIn) -> None:
    async with room_rig(sqlite_url, whereby) as rr:
        await rr.open_room("room 30 Sprint Review!")
        body = whereby.calls_to("/v1/meetings", "POST")[0].json
        assert body["roomNamePrefix"] == "sprint-review"
        end = datetime.fromisoformat(body["endDate"])
        assert abs((end - datetime.now(UTC)) - timedelta(minutes=30)) < timedelta(seconds=30)
        assert "Sprint Review!" in text_of(rr.posted()[0].blocks)


async def test_out_of_bounds_minutes_are_refused_before_anything_happens(
    sqlite_url: str, whereby: WherebyStandIn
) -> None:
    async with room_rig(sqlite_url, whereby) as rr:
        for text in ("room 2", "room 2000", "room 3.5 Planning"):
            answer = await rr.command(text)
            assert "/debrief room" in answer
        assert await rr.r.jobs(JOB_CREATE) == []
        assert whereby.calls == []


async def test_a_private_channel_is_named_by_asking_slack(
    sqlite_url: str, whereby: WherebyStandIn
) -> None:
    async with room_rig(sqlite_url, whereby) as rr:
        await rr.command("room", channel="C0LEADERSHIP")
        await rr.r.drain()
        assert whereby.calls_to("/v1/meetings", "POST")[0].json["roomNamePrefix"] == "leadership"
        assert rr.r.slack.calls_of("conversations.info")


async def test_without_whereby_configured_the_command_says_so(sqlite_url: str) -> None:
    async with (
        WherebyStandIn() as whereby,
        room_rig(sqlite_url, whereby, whereby_api_key=None) as rr,  # type: ignore[arg-type]
    ):
        assert "WHEREBY_API_KEY" in await rr.command("room")


async def test_when_whereby_refuses_the_caller_is_told(
    sqlite_url: str, whereby: WherebyStandIn
) -> None:
    async with room_rig(sqlite_url, whereby) as rr:
        whereby.fail("/v1/meetings$", status=400, body={"error": "endDate is too far away"})
        await rr.command("room")
        await rr.r.drain()
        assert rr.posted() == []
        assert "Whereby refused to create the room" in rr.said()
        assert "endDate is too far away" in rr.said()
        (row,) = await rr.rooms()
        assert row.status == "failed"


async def test_a_channel_the_bot_cannot_post_in_gets_both_links_privately(
    sqlite_url: str, whereby: WherebyStandIn
) -> None:
    async with room_rig(sqlite_url, whereby) as rr:
        await rr.command("room Private chat", channel="C0HR")
        await rr.r.drain()
        meeting = next(iter(whereby.meetings.values())).meeting
        assert meeting is not None
        private = rr.said()
        assert "invite me" in private
        assert meeting["roomUrl"] in private and meeting["hostRoomUrl"] in private


async def test_only_the_creator_its_channel_or_an_admin_can_end_the_room(
    database_url: str, whereby: WherebyStandIn
) -> None:
    async with room_rig(database_url, whereby) as rr:
        # Ada opens it in #leadership (Ada and Grace). Alan, in neither the channel nor an
        # admin, may not end it (a forged click: he cannot see the message).
        row, message = await rr.open_room(user="U0ADA", channel="C0LEADERSHIP")
        await rr.click(message, ACTION_END, user="U0ALAN")
        await rr.r.drain()
        refusal = rr.said("U0ALAN")
        assert "Only <@U0ADA>, who opened it, members of the channel it belongs to, " in refusal
        assert "you are not in its channel, nor a workspace admin" in refusal
        assert whereby.calls_to(f"/v1/meetings/{row.meeting_id}", "DELETE") == []
        assert ACTION_END in buttons(message.blocks)

        # Grace is no admin and did not open it, but she is in the channel.
        await rr.click(message, ACTION_END, user="U0GRACE")
        await rr.r.drain()
        assert len(whereby.calls_to(f"/v1/meetings/{row.meeting_id}", "DELETE")) == 1
        assert row.meeting_id not in whereby.meetings
        shown = text_of(message.blocks)
        assert "Room ended* by <@U0GRACE>" in shown
        assert ACTION_END not in buttons(message.blocks)
        assert ACTION_JOIN not in buttons(message.blocks)


async def test_an_admin_outside_the_channel_can_end_the_room(
    sqlite_url: str, whereby: WherebyStandIn
) -> None:
    async with room_rig(sqlite_url, whereby) as rr:
        rr.r.slack.workspace.users["U0LINUS"].is_admin = True
        row, message = await rr.open_room(user="U0ADA", channel="C0LEADERSHIP")
        await rr.click(message, ACTION_END, user="U0LINUS")
        await rr.r.drain()
        assert len(whereby.calls_to(f"/v1/meetings/{row.meeting_id}", "DELETE")) == 1
        assert "Room ended* by <@U0LINUS>" in text_of(message.blocks)


async def test_the_creator_ends_it_without_a_role_check(
    sqlite_url: str, whereby: WherebyStandIn
) -> None:
    async with room_rig(sqlite_url, whereby) as rr:
        row, message = await rr.open_room(user="U0GRACE")
        await rr.click(message, ACTION_END, user="U0GRACE")
        await rr.r.drain()
        assert "Room ended* by <@U0GRACE>" in text_of(message.blocks)
        assert rr.r.slack.calls_of("users.info") == []
        stored = await rr.room(row.id)
        assert stored.status == "closed" and stored.closed_by == "U0GRACE"


async def test_recording_finished_adds_a_button_with_a_fresh_link(
    database_url: str, whereby: WherebyStandIn
) -> None:
    async with room_rig(database_url, whereby) as rr:
        row, message = await rr.open_room()
        whereby.configure_webhook(f"{rr.app_url}/webhooks/whereby", SECRET)
        whereby.start_session(row.room_name or "")
        whereby.end_session(row.room_name or "")
        recording = whereby.finish_recording(row.room_name or "")
        await whereby.settle()
        await rr.r.drain()
        assert buttons(message.blocks)[ACTION_RECORDING]["value"].endswith(recording["recordingId"])

        for _ in range(2):
            await rr.click(message, ACTION_RECORDING)
            await rr.r.drain()
        links = whereby.calls_to("/access-link", "GET")
        assert len(links) == 2, "each click fetches its own link"
        assert all(recording["recordingId"] in c.path for c in links)
        assert f"/files/recordings/{recording['recordingId']}" in rr.said()


async def test_a_private_rooms_recording_is_fetched_only_for_its_channel(
    sqlite_url: str, whereby: WherebyStandIn
) -> None:
    async with room_rig(sqlite_url, whereby) as rr:
        row, message = await rr.open_room(channel="C0LEADERSHIP")
        whereby.configure_webhook(f"{rr.app_url}/webhooks/whereby", SECRET)
        whereby.start_session(row.room_name or "")
        whereby.end_session(row.room_name or "")
        recording = whereby.finish_recording(row.room_name or "")
        await whereby.settle()
        await rr.r.drain()
        # Alan is not in #leadership: a click in his name fetches nothing.
        await rr.click(message, ACTION_RECORDING, user="U0ALAN")
        await rr.r.drain()
        assert whereby.calls_to("/access-link", "GET") == []
        assert "for the members of the channel it was opened in" in rr.said("U0ALAN")
        assert recording["recordingId"] not in rr.said("U0ALAN")
        await rr.click(message, ACTION_RECORDING, user="U0GRACE")
        await rr.r.drain()
        assert f"/files/recordings/{recording['recordingId']}" in rr.said("U0GRACE")


async def test_the_room_expires_an_hour_after_its_end(
    sqlite_url: str, whereby: WherebyStandIn
) -> None:
    async with room_rig(sqlite_url, whereby) as rr:
        _, message = await rr.open_room("room 30")
        other, _ = await rr.open_room("room 90")
        services = rr.r.services
        async with transaction(services.sessions) as session:
            await services.queue.enqueue(session, JOB_EXPIRE, ExpireRoomsJob())
        await rr.r.drain()
        assert "Room expired" not in text_of(message.blocks), "not yet"
        later = datetime.now(UTC) + timedelta(minutes=91)
        services.clock = lambda: later
        async with transaction(services.sessions) as session:
            await services.queue.enqueue(session, JOB_EXPIRE, ExpireRoomsJob())
        await rr.r.drain()
        assert "Room expired" in text_of(message.blocks)
        assert ACTION_JOIN not in buttons(message.blocks)
        assert (await rr.room(other.id)).status == "open", "its end is 90 minutes away"
