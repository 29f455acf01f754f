"""The calendar autopilot end to end in the sandbox's World: a calendar whose Attendee metadata
names Ada syncs its week, and the real app schedules one notetaker per eligible event at the
Attendee stand-in, follows a move and a cancellation, reminds Ada before a notetaker joins (her
*Skip this one* deletes it), and holds the digest of the meeting with outside invitees for her
review (the invitees come from the calendar event)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from handlers.calendar import reminders
from handlers.calendar.dm_blocks import ACTION_SKIP, EVENT_BLOCK
from handlers.calendar.tables import CalendarEventRecord
from providers.attendee import AttendeeClient
from providers.attendee.calendars import CreateCalendar
from sandbox.world import World
from tests.e2e.conftest import world_options
from tests.e2e.test_attendee_digest import ROUTED, digest_in, route
from tests.e2e.test_attendee_flow import block_text
from tests.engines import FixedEngine

ADA = "U0ADA"


async def decisions(world: World) -> dict[str, tuple[str, str | None]]:
    """Each event's title → (Debrief's decision, the notetaker request made for it)."""
    async with world.services.sessions() as session:
        rows = (await session.execute(select(CalendarEventRecord))).scalars().all()
    return {f"{r.title} {r.start_time:%m%d}": (r.decision, r.bot_request_id) for r in rows}


def calendar_bots(world: World) -> dict[str, Any]:
    """The stand-in's live calendar notetakers, by the event they were made from."""
    return {b.calendar_event_id: b for b in world.attendee.bots.values() if b.calendar_event_id}


def event_id(world: World, title: str) -> str:
    (found,) = [e["id"] for e in world.attendee.calendars.events() if e["name"] == title]
    return str(found)


async def test_a_synced_week_gets_its_notetakers_and_its_owner_stays_in_charge(
    database_url: str,
) -> None:
    # A reminder window wide enough for the meeting the week has starting in about 15 minutes.
    options = world_options(database_url, settings={"calendar_reminder_minutes": 30})
    async with World(options) as world:
        world.services.understanding = FixedEngine()
        await route(world, "default")
        calendars = world.services.require(AttendeeClient).calendars
        calendar = await calendars.create(
            CreateCalendar(
                platform="google",
                client_id="operator-google-client",
                client_secret="s",
                refresh_token="r",
                deduplication_key="set-up-in-attendee",
                metadata={"slack_team_id": "T0SANDBOX", "slack_user_id": ADA},
            )
        )
        await world.eventually(lambda: len(calendar_bots(world)) >= 4, within=20)
        await world.settle()

        # The week is laid out around the wall clock: what is still to come depends on the hour.
        now = datetime.now(UTC)
        week = world.attendee.calendars.events(calendar.id)
        eligible = [
            e
            for e in week
            if e["meeting_url"]
            and not e["is_deleted"]
            and datetime.fromisoformat(e["start_time"].replace("Z", "+00:00")) > now
        ]
        bots = calendar_bots(world)
        assert set(bots) == {e["id"] for e in eligible}, "one notetaker per future linked event"
        assert "Team lunch" not in {e["name"] for e in eligible}, "no link, no notetaker"
        decided = await decisions(world)
        assert {d for d, _ in decided.values()} >= {"scheduled", "no_link", "past"}
        assert world.slack.dms(ADA) == [], "no message per scheduled notetaker"

        # The same sync again changes nothing: no second notetaker for any event.
        world.attendee.calendars.sync(calendar.id)
        await world.settle()
        assert set(calendar_bots(world)) == set(bots)

        # The 1:1 is cancelled: Attendee deletes its notetaker, Debrief records why.
        one_on_one = next(e for e in eligible if "1:1" in e["name"])
        world.attendee.calendars.cancel_event(one_on_one["id"])
        await world.eventually(lambda: one_on_one["id"] not in calendar_bots(world))
        await world.settle()
        async with world.services.sessions() as session:
            record = await session.scalar(
                select(CalendarEventRecord).where(CalendarEventRecord.event_id == one_on_one["id"])
            )
        assert record is not None and record.decision == "cancelled"

        # A few minutes before the design review's notetaker joins, Ada gets a DM; she skips it.
        review_id = event_id(world, "Design review: calendar autopilot")
        await world.services.queue.submit(reminders.JOB_SCAN, reminders.ScanJob())
        dm = await world.eventually(
            lambda: [m for m in world.slack.dms(ADA) if "Design review" in block_text(m)]
        )
        # Depending on the hour, the morning DM or the reminder; both offer it for that meeting.
        click = await world.slack.click(
            world.app_url,
            dm[-1],
            ACTION_SKIP,
            block_id=f"{EVENT_BLOCK}{review_id}",
            user_id=ADA,
        )
        assert click.status == 200, click.body
        await world.eventually(lambda: review_id not in calendar_bots(world))
        await world.eventually(lambda: "Skipped by <@U0ADA>" in block_text(dm[-1]))

        # The customer call had outside invitees: its digest waits for Ada's review.
        northwind = calendar_bots(world)[event_id(world, "Northwind pilot kickoff")]
        world.attendee.join(northwind.id)
        world.attendee.say(northwind.id, "Ada Lovelace", "Let's ship the Slack integration.")
        world.attendee.end_meeting(northwind.id)
        review = await world.eventually(
            lambda: [m for m in world.slack.dms(ADA) if "northwind.example" in block_text(m)],
            within=20,
        )
        await world.settle()
        assert digest_in(world, ROUTED) == [], "nothing external is shared unseen"
        click = await world.slack.click(world.app_url, review[0], "review.share", user_id=ADA)
        assert click.status == 200, click.body
        (digest,) = await world.eventually(lambda: digest_in(world, ROUTED))
        assert "Slack integration" in block_text(digest)
