"""A calendar's state (the recorded ``calendar.state_change``) and `/debrief calendar`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from handlers.attendee.plugin import PROVIDER
from handlers.attendee.tables import AttendeeBot
from handlers.calendar import repo
from handlers.calendar.kinds import JOB_REAPPLY
from tests.conftest import make_settings
from tests.handlers.action_items.support import app_url
from tests.handlers.autopilot.support import GOOGLE, OWNER, CalendarRig, calendar_rig, webhook
from tests.handlers.autopilot.test_calendar_scheduling import first_sync

CHANNEL = "C0MEETINGS"


async def states(r: CalendarRig) -> list[str]:
    async with r.rig.services.sessions() as session:
        rows = await session.execute(select(AttendeeBot.state).order_by(AttendeeBot.id))
        return sorted(rows.scalars())


def said(r: CalendarRig, user: str = OWNER) -> str:
    """Everything shown privately to ``user``: texts and their blocks."""
    return "\n".join(f"{e.text}\n{e.blocks}" for e in r.slack.ephemerals(user))


async def command(r: CalendarRig, text: str, user: str = OWNER) -> Any:
    delivery = await r.slack.command(
        app_url(r.rig), "/debrief", text, user_id=user, channel_id=CHANNEL
    )
    assert delivery.status == 200, delivery.body
    await r.settle()
    return delivery


async def test_disconnect_dms_the_owner_once_and_calls_off_its_notetakers(
    database_url: str,
) -> None:
    async with calendar_rig(database_url) as r:
        await first_sync(r)
        before = len(r.slack.dms(OWNER))
        # Google refused the token: Attendee deleted the scheduled bots and said so.
        r.attendee.own(GOOGLE, "calendar_get_google_disconnected")
        r.attendee.bots.clear()
        for _ in range(2):  # a redelivery changes nothing
            response = await r.deliver(webhook(5))
            assert response.status == 200
            await r.settle()
        link = await repo.get_link(r.rig.services.sessions, GOOGLE)
        assert link is not None and link.state == "disconnected"
        assert "invalid_grant" in (link.state_detail or "")
        dms = r.slack.dms(OWNER)
        warnings = [m for m in dms if "can no longer read your google calendar" in m.text]
        assert len(warnings) == 1
        assert "/debrief calendar connect google" in warnings[0].text
        assert "Token has been expired or revoked" in warnings[0].text
        assert len(dms) == before + 1, "status messages are updated in place"
        assert await states(r) == ["cancelled"] * 3
        assert not any(c.method == "DELETE" for c in r.attendee.calls)

        # Reconnected (new credentials PATCHed): the notetakers come back.
        r.attendee.own(GOOGLE, "calendar_get_google_reconnected")
        back = {**webhook(5)["json"], "idempotency_key": "reconnected-1"}
        back["data"] = {**back["data"], "state": "connected", "connection_failure_data": None}
        assert (await r.deliver_new(back)).status == 200
        await r.settle()
        assert len(await r.rig.jobs(JOB_REAPPLY)) == 1
        assert (await states(r)).count("scheduled") == 3
        assert len(r.attendee.bots) == 3


async def test_status_policy_and_typos(database_url: str) -> None:
    async with calendar_rig(database_url) as r:
        await first_sync(r)
        await command(r, "calendar")
        text = said(r)
        assert "*Google* calendar connected. Last synced <!date^" in text
        assert "*Policy:* every meeting with a link" in text
        assert "Next notetakers" in text and "Weekly sync" in text

        delivery = await command(r, "calendar policy organized")
        assert "Usage" in delivery.json["text"]
        policy = await repo.get_policy(r.rig.services.sessions, OWNER)
        assert policy.scope == "all", "a typo changes nothing"

        delivery = await command(r, "calendar policy never Design 1:1")
        assert "never get a notetaker" in delivery.json["text"]
        policy = await repo.get_policy(r.rig.services.sessions, OWNER)
        assert policy.never_words == ("design", "1:1")
        record = await repo.get_event(r.rig.services.sessions, "evt_VCxHNDkzo7WKpuWl")
        assert record is not None and record.decision == "policy"
        assert len(r.attendee.bots) == 2

        await command(r, "calendar policy never -")
        assert (await repo.get_policy(r.rig.services.sessions, OWNER)).never_words == ()
        assert len(r.attendee.bots) == 3


async def test_status_adopts_a_calendar_set_up_in_attendee(database_url: str) -> None:
    async with calendar_rig(database_url) as r:
        r.attendee.own(GOOGLE, "calendar_get_google_after_sync")
        r.attendee.sync("calendar_events_list_by_calendar")
        await command(r, "calendar")
        assert await repo.get_link(r.rig.services.sessions, GOOGLE) is not None
        assert len(r.attendee.bots) == 3, "its events were taken in at once"
        # Someone else's `/debrief calendar` adopts nothing of Ada's.
        await command(r, "calendar", user="U0GRACE")
        assert "no calendar connected" in said(r, "U0GRACE")


async def test_disconnect_deletes_future_bots_and_the_calendar(database_url: str) -> None:
    async with calendar_rig(database_url) as r:
        await first_sync(r)
        await command(r, "calendar disconnect")
        assert "disconnected" in said(r)
        assert r.attendee.bots == {} and r.attendee.calendars == {}
        assert await repo.get_link(r.rig.services.sessions, GOOGLE) is None
        assert await states(r) == ["cancelled"] * 3


async def test_connect_without_an_oauth_client_says_so(database_url: str) -> None:
    async with calendar_rig(database_url) as r:
        delivery = await command(r, "calendar connect google")
        assert "Google calendars cannot be connected" in delivery.json["text"]
        delivery = await command(r, "calendar connect zoom")
        assert "Usage" in delivery.json["text"]


async def test_the_home_tab_shows_the_calendar_and_changes_the_policy(database_url: str) -> None:
    async with calendar_rig(database_url) as r:
        await r.slack.open_home(app_url(r.rig), "U0GRACE")
        await r.settle()
        grace = r.slack.home("U0GRACE")
        assert grace is not None and "Calendar" not in str(grace.blocks), "no calendar, no section"

        await first_sync(r)
        await r.slack.open_home(app_url(r.rig), OWNER)
        await r.settle()
        view = r.slack.home(OWNER)
        assert view is not None and "🗓️ Calendar" in str(view.blocks)
        assert "*Google* calendar connected" in str(view.blocks)

        delivery = await r.slack.click(
            app_url(r.rig), view, "calendar.policy", selected_option="external"
        )
        assert delivery.status == 200, delivery.body

        async def saved() -> bool:
            shown = r.slack.home(OWNER)
            return shown is not None and "Calendar policy saved" in str(shown.blocks)

        await r.until(saved)
        assert (await repo.get_policy(r.rig.services.sessions, OWNER)).scope == "external"
        view = r.slack.home(OWNER)
        assert view is not None and "Calendar policy saved" in str(view.blocks)

        delivery = await r.slack.click(
            app_url(r.rig), view, "calendar.never_words", value="Design review"
        )
        assert delivery.status == 200, delivery.body

        async def words() -> bool:
            policy = await repo.get_policy(r.rig.services.sessions, OWNER)
            return policy.never_words == ("design", "review")

        await r.until(words)


def test_the_catch_up_and_the_dms_run_while_attendee_is_configured() -> None:
    assert PROVIDER.schedule(make_settings()) == []
    assert PROVIDER.schedule(make_settings(attendee_api_key="k")) == [
        ("calendar.dms", 60.0),
        ("calendar.sync", 900.0),
    ]
    off = make_settings(attendee_api_key="k", calendar_sync_seconds=0)
    assert PROVIDER.schedule(off) == [("calendar.dms", 60.0)]
