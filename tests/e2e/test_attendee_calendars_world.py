"""The sandbox World's Attendee stand-in syncs calendars for the real app: a calendar made with
the app's own client syncs its week, and the app accepts the signed calendar webhooks (sent to
the project subscription the World configures) that it will act on."""

from __future__ import annotations

from providers.attendee import AttendeeClient
from providers.attendee.calendars import CreateCalendar
from sandbox.world import World


async def test_calendar_webhooks_reach_the_app_verified(world: World) -> None:
    calendars = world.services.require(AttendeeClient).calendars
    calendar = await calendars.create(
        CreateCalendar(
            platform="google",
            client_id="sandbox-google-client",
            client_secret="s",
            refresh_token="r",
            deduplication_key="T0SANDBOX:U0ADA",
            metadata={"slack_team_id": "T0SANDBOX", "slack_user_id": "U0ADA"},
        )
    )
    await world.settle()
    events = [e async for e in calendars.iter_events(calendar_id=calendar.id)]
    assert len(events) >= 10
    assert {e.calendar_id for e in events} == {calendar.id}

    world.attendee.calendars.revoke_token(calendar.id)
    await world.settle()
    calendar_deliveries = [
        d for d in world.attendee.outbox.records if d.meta.get("calendar_id") == calendar.id
    ]
    assert [d.meta["trigger"] for d in calendar_deliveries] == [
        "calendar.events_update",
        "calendar.state_change",
    ]
    # Signed with the secret the app was configured with: it verified and took both.
    assert all(d.state == "sent" and d.status == 200 for d in calendar_deliveries)
    assert (await calendars.get(calendar.id)).state == "disconnected"
