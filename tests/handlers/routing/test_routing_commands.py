"""`/debrief route|routes|unroute`, and where digests end up: routed, default, or held."""

from __future__ import annotations

import pytest

from bot.meetings import Meeting, Person
from handlers.ops import JOB_NOTICE
from handlers.routing import publish_digest, route_for
from handlers.routing.publish import internal_domains
from handlers.routing.repo import list_routes
from handlers.routing.tables import HeldDigest
from sandbox.slack import Delivery
from tests.handlers.digest.support import Rig, rig, text_of


async def command(r: Rig, text: str, user: str = "U0ADA") -> str:
    app_url = str(r.client.make_url("")).rstrip("/")
    delivery: Delivery = await r.slack.command(
        app_url, "/debrief", text, user_id=user, channel_id="C0GENERAL"
    )
    assert delivery.status == 200, delivery.body
    return str(delivery.json.get("text", "")) + "\n" + text_of(delivery.json.get("blocks") or [])


def meeting(title: str = "Weekly sync", **fields: object) -> Meeting:
    values: dict[str, object] = {"provider": "otter", "meeting_id": title, "title": title}
    values.update(fields)
    return Meeting.model_validate(values)


async def test_admins_add_list_and_remove_routes(sqlite_url: str) -> None:
    async with rig(sqlite_url, digest_channel="C0MEETINGS") as r:
        assert "Route #1 added: meetings whose title has “weekly sync” go to <#C0ENG>" in (
            await command(r, "route title:Weekly Sync #eng")
        )
        assert "Route #2 added" in await command(r, "route default <#C0RANDOM|random>")
        assert "Route #3 added" in await command(r, "route external: #leadership")
        changed = await command(r, "route title:weekly  sync C0GENERAL")
        assert "Route #1 changed" in changed and "(was <#C0ENG>)" in changed
        listing = await command(r, "routes", user="U0GRACE")  # anyone may look
        order = [line.split("`")[1] for line in listing.splitlines() if line.startswith("`#")]
        assert order == ["#1", "#3", "#2"], "in the order they are tried"
        assert "Otherwise → <#C0MEETINGS> (the default digest channel)" in listing
        assert "Route #3 removed" in await command(r, "unroute 3")
        assert "There is no route #3" in await command(r, "unroute #3")
        assert [rule.id for rule in await list_routes(r.services.sessions)] == [1, 2]


async def test_others_are_refused_unless_named_in_the_setting(sqlite_url: str) -> None:
    async with rig(sqlite_url) as r:
        refusal = await command(r, "route default #eng", user="U0GRACE")
        assert "Only workspace admins" in refusal
        assert "Only workspace admins" in await command(r, "unroute 1", user="U0GRACE")
        assert await list_routes(r.services.sessions) == []
    async with rig(sqlite_url, route_admins="U0GRACE, U0ALAN") as r:
        assert "Route #1 added" in await command(r, "route default #eng", user="U0GRACE")


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("route default", "Usage: `/debrief route &lt;target&gt; #channel`"),
        ("route everything #eng", "is not a route target"),
        ("route default #hr", "invite me first"),  # private, Debrief is not in it
        ("route default #nope", "I cannot see #nope"),
        ("route default eng", "end with the channel"),
        ("unroute x", "Usage: `/debrief unroute &lt;n&gt;`"),
    ],
)
async def test_mistakes_get_a_clear_answer(sqlite_url: str, text: str, answer: str) -> None:
    async with rig(sqlite_url) as r:
        assert answer in await command(r, text)
        assert await list_routes(r.services.sessions) == []


async def test_without_any_channel_the_digest_is_held_then_released(sqlite_url: str) -> None:
    async with rig(sqlite_url, ops_channel="C0GENERAL") as r:
        assert await route_for(r.services, meeting()) is None
        assert await publish_digest(r.services, meeting()) is None
        assert await publish_digest(r.services, meeting(summary="v2")) is None  # told once
        async with r.services.sessions() as session:
            held = await session.get(HeldDigest, ("otter", "Weekly sync"))
            assert held is not None and held.meeting["summary"] == "v2"
        await r.drain()
        (notice,) = r.slack.messages("C0GENERAL")
        assert "A digest is waiting for a channel" in notice.text
        assert len(await r.jobs(JOB_NOTICE)) == 1

        assert "1 digest is held" in await command(r, "routes")
        await command(r, "route provider:otter #eng")
        await r.drain()
        (parent,) = r.slack.messages("C0ENG")
        assert "v2" in text_of(parent.blocks)
        async with r.services.sessions() as session:
            assert await session.get(HeldDigest, ("otter", "Weekly sync")) is None


async def test_external_meetings_follow_the_workspace_domains(sqlite_url: str) -> None:
    guest = Person(name="Alex", email="alex@acme.example")
    colleague = Person(name="Grace", email="grace@example.com")
    async with rig(sqlite_url, digest_channel="C0MEETINGS") as r:
        await command(r, "route external: #leadership")
        assert await internal_domains(r.services) == {"example.com"}  # from users.list
        assert await route_for(r.services, meeting(participants=[guest])) == "C0LEADERSHIP"
        assert await route_for(r.services, meeting(participants=[colleague])) == "C0MEETINGS"
        assert len(r.slack.calls_of("users.list")) == 1, "the domains are kept for a while"
    async with rig(sqlite_url, digest_channel="C0MEETINGS", internal_domains="acme.example") as r:
        assert await route_for(r.services, meeting(participants=[guest])) == "C0MEETINGS"
        assert await route_for(r.services, meeting(participants=[colleague])) == "C0LEADERSHIP"
        assert r.slack.calls_of("users.list") == []
