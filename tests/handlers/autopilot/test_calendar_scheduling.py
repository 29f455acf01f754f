"""`calendar.events_update` → one notetaker per eligible event, exactly once; its moves and
cancellations followed; the owner's policy applied. Recorded deliveries in, signed as received;
Attendee's calendar API stood in from its recorded answers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from handlers.attendee.tables import AttendeeBot
from handlers.calendar import repo
from handlers.calendar.kinds import JOB_WEBHOOK
from handlers.calendar.tables import CalendarEventRecord, CalendarLink
from tests.handlers.action_items.support import Clock
from tests.handlers.autopilot.support import (
    GOOGLE,
    NOW,
    OWNER,
    CalendarRig,
    api,
    calendar_rig,
    webhook,
)

WEEKLY, CUSTOMER, DESIGN = "evt_4KGt2HwofiJlkJNp", "evt_YQ7XOpamNXm2tlfV", "evt_VCxHNDkzo7WKpuWl"
LUNCH, RETRO, STANDUP = "evt_uiEfdJxL1x7BiagU", "evt_ZcbBXnuiVJsHOJ3P", "evt_iIt7owLT9w59yPj5"
KICKOFF = "evt_Zf8vnOFYXdzDevtB"


async def decisions(r: CalendarRig) -> dict[str, str]:
    async with r.rig.services.sessions() as session:
        rows = await session.execute(select(CalendarEventRecord))
        return {row.event_id: row.decision for row in rows.scalars()}


async def requests(r: CalendarRig) -> dict[str, AttendeeBot]:
    async with r.rig.services.sessions() as session:
        rows = await session.execute(select(AttendeeBot))
        return {str(row.calendar_event_id): row for row in rows.scalars()}


async def first_sync(r: CalendarRig) -> None:
    r.attendee.own(GOOGLE, "calendar_get_google_after_sync")
    r.attendee.sync("calendar_events_list_by_calendar")
    response = await r.deliver(webhook(1))
    assert response.status == 200, await response.text()
    await r.settle()


async def test_events_update_schedules_one_notetaker_per_eligible_event(database_url: str) -> None:
    async with calendar_rig(database_url) as r:
        await first_sync(r)
        (job,) = await r.rig.jobs(JOB_WEBHOOK)
        assert job.status == "done"
        posted = r.attendee.posted()
        assert sorted(p["calendar_event_id"] for p in posted) == sorted([WEEKLY, CUSTOMER, DESIGN])
        weekly = next(p for p in posted if p["calendar_event_id"] == WEEKLY)
        assert "meeting_url" not in weekly and "join_at" not in weekly
        assert weekly["deduplication_key"] == repo.dedup_key(WEEKLY)
        assert weekly["metadata"]["slack_user_id"] == OWNER
        assert weekly["metadata"]["calendar_event_id"] == WEEKLY
        assert weekly["bot_chat_message"]["to"] == "everyone"
        assert "Ada Lovelace" in weekly["bot_chat_message"]["message"]
        assert await decisions(r) == {
            RETRO: "past",
            WEEKLY: "scheduled",
            LUNCH: "no_link",
            CUSTOMER: "scheduled",
            STANDUP: "cancelled",
            DESIGN: "scheduled",
            "evt_Et9HfZW8RIuzLvPS": "no_link",
        }
        rows = await requests(r)
        assert {k: v.state for k, v in rows.items()} == {
            WEEKLY: "scheduled",
            CUSTOMER: "scheduled",
            DESIGN: "scheduled",
        }
        assert all(row.user_id == OWNER for row in rows.values())
        # No message per scheduled notetaker: the morning DM and the reminder tell the owner.
        assert r.slack.dms(OWNER) == []
        link = await repo.get_link(r.rig.services.sessions, GOOGLE)
        assert link is not None and link.user_id == OWNER and link.events_cursor is not None


async def test_a_replay_and_a_second_look_make_nothing_new(database_url: str) -> None:
    async with calendar_rig(database_url) as r:
        await first_sync(r)
        dms = [m.ts for m in r.slack.dms(OWNER)]
        # The same delivery again (a retry), then the periodic catch-up: no new bot, no message.
        await r.deliver(webhook(1))
        await r.rig.services.queue.submit("calendar.sync", {"calendar_id": GOOGLE})
        await r.rig.services.queue.submit("calendar.sync", {})
        await r.settle()
        assert len(r.attendee.posted()) == 3
        assert [m.ts for m in r.slack.dms(OWNER)] == dms


async def test_apply_twice_adopts_the_bot_attendee_already_has(database_url: str) -> None:
    async with calendar_rig(database_url) as r:
        await first_sync(r)
        # The row lost its bot (say the answer never came back): Attendee's key refuses a
        # second bot, and the one it has is ours.
        async with r.rig.services.sessions() as session, session.begin():
            row = (
                await session.execute(
                    select(AttendeeBot).where(AttendeeBot.calendar_event_id == WEEKLY)
                )
            ).scalar_one()
            bot_id, row.bot_id, row.state = row.bot_id, None, "requested"
        await r.rig.services.queue.submit("calendar.apply", {"event_id": WEEKLY})
        await r.settle()
        assert len(r.attendee.posted()) == 4, "a second create was tried"
        assert len(r.attendee.bots) == 3, "and refused by the key"
        assert (await requests(r))[WEEKLY].bot_id == bot_id


async def test_reschedule_cancel_and_new_events_are_followed(database_url: str) -> None:
    async with calendar_rig(database_url) as r:
        await first_sync(r)
        r.clock.advance(seconds=1)
        r.attendee.sync("calendar_events_updated_after_sync2")
        await r.deliver(webhook(2))
        await r.settle()
        found = await decisions(r)
        assert found[CUSTOMER] == "cancelled" and found[KICKOFF] == "scheduled"
        assert found[WEEKLY] == "scheduled" and found[LUNCH] == "cancelled"
        rows = await requests(r)
        assert rows[CUSTOMER].state == "cancelled"
        assert rows[WEEKLY].join_at is not None and rows[WEEKLY].join_at.hour == 10
        assert rows[DESIGN].meeting_url == r.attendee.events[DESIGN]["meeting_url"]
        assert rows[DESIGN].meeting_url.startswith("https://teams.microsoft.com/meet/")
        # Attendee deleted the cancelled event's bot itself: Debrief only recorded it.
        assert not any(c.method == "DELETE" for c in r.attendee.calls)
        assert sorted(p["calendar_event_id"] for p in r.attendee.posted()) == sorted(
            [WEEKLY, CUSTOMER, DESIGN, KICKOFF]
        )
        # A notetaker cancelled before its meeting never had a status message to update.
        assert r.slack.dms(OWNER) == []


async def test_policy_turning_an_event_out_deletes_its_bot(database_url: str) -> None:
    async with calendar_rig(database_url, internal_domains="example.com") as r:
        await first_sync(r)
        await repo.save_policy(
            r.rig.services.sessions, team_id="T0SANDBOX", user_id=OWNER, scope="internal"
        )
        await r.rig.services.queue.submit("calendar.reapply_user", {"user_id": OWNER})
        await r.settle()
        found = await decisions(r)
        # The customer call has someone from acme.example; the weekly sync has linus@example.org.
        assert found[CUSTOMER] == "policy" and found[WEEKLY] == "policy"
        assert found[DESIGN] == "scheduled"
        deleted = sorted(c.path for c in r.attendee.calls if c.method == "DELETE")
        rows = await requests(r)
        assert deleted == sorted(f"/api/v1/bots/{rows[e].bot_id}" for e in (CUSTOMER, WEEKLY))
        assert rows[CUSTOMER].state == "cancelled"
        # The owner's own word wins over the policy.
        await repo.set_choice(r.rig.services.sessions, WEEKLY, "record")
        await r.rig.services.queue.submit("calendar.apply", {"event_id": WEEKLY})
        await r.settle()
        assert (await decisions(r))[WEEKLY] == "scheduled"
        assert len(r.attendee.bots) == 2


async def test_never_words_and_a_refusal_are_recorded(database_url: str) -> None:
    async with calendar_rig(database_url) as r:
        r.attendee.own(GOOGLE, "calendar_get_google_after_sync")
        r.attendee.sync("calendar_events_list_by_calendar")
        await repo.save_policy(
            r.rig.services.sessions, team_id="T0SANDBOX", user_id=OWNER, never_words=["design"]
        )
        # Attendee's clock is ahead of Debrief's: to it, the weekly sync has started.
        r.attendee.clock = Clock(NOW + timedelta(hours=32))
        await r.deliver(webhook(1))
        await r.settle()
        found = await decisions(r)
        assert found[DESIGN] == "policy"
        assert found[WEEKLY] == "refused"
        record = await repo.get_event(r.rig.services.sessions, WEEKLY)
        assert record is not None and "join_at cannot be in the past" in (record.reason or "")


async def test_a_calendar_without_an_owner_is_left_alone(database_url: str) -> None:
    async with calendar_rig(database_url) as r:
        r.attendee.calendars[GOOGLE] = api("calendar_get_google_after_sync")  # no Slack user
        r.attendee.sync("calendar_events_list_by_calendar")
        await r.deliver(webhook(1))
        await r.settle()
        assert r.attendee.posted() == []
        async with r.rig.services.sessions() as session:
            assert (await session.execute(select(CalendarLink))).first() is None


async def test_every_recorded_calendar_delivery_goes_to_the_calendar_job(
    database_url: str,
) -> None:
    async with calendar_rig(database_url) as r:
        for number in range(1, 6):
            response = await r.deliver(webhook(number))
            assert response.status == 200, await response.text()
        kinds = [j.kind for j in await r.rig.jobs(JOB_WEBHOOK)]
        assert kinds == [JOB_WEBHOOK] * 5
        assert await r.rig.jobs("attendee.event") == []
        # A calendar delivery without its calendar is refused with the reason, not dropped.
        envelope = {**webhook(1)["json"], "idempotency_key": "no-calendar"}
        del envelope["calendar_id"]
        response = await r.deliver_new(envelope)
        assert response.status == 400
        assert "calendar_id" in await response.text()


async def test_never_this_series_calls_off_its_notetaker(database_url: str) -> None:
    async with calendar_rig(database_url) as r:
        await first_sync(r)
        record = await repo.get_event(r.rig.services.sessions, WEEKLY)
        assert record is not None and record.series
        sessions = r.rig.services.sessions
        for _ in range(2):  # twice: kept once
            policy = await repo.never_series(
                sessions, team_id="T0SANDBOX", user_id=OWNER, series=record.series
            )
        assert policy.never_series == (record.series,)
        await r.rig.services.queue.submit("calendar.reapply_user", {"user_id": OWNER})
        await r.settle()
        assert (await decisions(r))[WEEKLY] == "policy"
        assert len(r.attendee.bots) == 2
