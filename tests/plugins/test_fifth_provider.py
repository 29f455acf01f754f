"""A fifth provider, added by one descriptor that lives in tests/ (``fake_provider.ACME``): its
settings are read, its signed webhook is served, and its meeting reaches Slack through the
common routing, digest renderer and action items, with no other file knowing of it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bot.config import SettingsError, load_settings
from bot.doctor import run_doctor
from bot.plugins import AnyProvider
from handlers.digest import render
from handlers.digest.items import ACTION_DONE
from handlers.registry import PROVIDERS
from sandbox.world import World
from tests.conftest import IsolatedSettings, make_settings
from tests.e2e.conftest import world_options
from tests.e2e.test_action_items_flow import line, section, use
from tests.plugins.fake_provider import ACME, SIGNATURE, AcmeClient, AcmeSettings, sign

SECRET = "acme-s3cret"
WITH_ACME: tuple[AnyProvider, ...] = (*PROVIDERS, ACME)


class WithAcme(IsolatedSettings):
    """The test's settings, with the fifth provider installed beside the registry's."""

    def __init__(self, plugins: Any = None, **values: Any) -> None:
        super().__init__(WITH_ACME, **values)


@pytest.fixture(autouse=True)
def forget_acme(monkeypatch: pytest.MonkeyPatch) -> None:
    # The display names an app registers are process-wide: Acme's go with this test.
    monkeypatch.setattr(render, "REGISTERED_NAMES", {})


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    options = world_options(
        database_url,
        settings_class=WithAcme,
        settings={"acme_webhook_secret": SECRET, "acme_api_key": "acme-key"},
    )
    async with World(options) as started:
        yield started


def event(meeting_id: str = "acme-1") -> bytes:
    return json.dumps(
        {
            "id": f"evt-{meeting_id}",
            "type": "meeting.ready",
            "meeting": {
                "id": meeting_id,
                "title": "Acme launch review",
                "summary": "We agreed to ship the launch on Thursday.",
                "host_email": "ada@example.com",
                "attendees": ["grace@example.com"],
                "todos": [
                    {"id": "t1", "text": "Write the launch notes", "owner": "grace@example.com"},
                    {"id": "t2", "text": "Book the demo room"},
                ],
            },
        }
    ).encode()


async def post(world: World, body: bytes, signature: str) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(
            f"{world.app_url}/webhooks/acme",
            content=body,
            headers={SIGNATURE: signature, "Content-Type": "application/json"},
        )


async def test_a_fifth_provider_is_one_descriptor_from_webhook_to_digest(world: World) -> None:
    services = world.services
    assert isinstance(services.client(AcmeClient), AcmeClient)
    # A route for it, by the name its descriptor gives: its digests go to #eng.
    answer = await world.slack.command(
        world.app_url, "/debrief", "route provider:acme #eng", user_id="U0ADA"
    )
    assert answer.status == 200
    await world.settle()
    refused = await post(world, event(), "0" * 64)
    assert refused.status_code == 401, "a wrong signature is refused"
    body = event()
    accepted = await post(world, body, sign(SECRET, body))
    assert accepted.status_code == 200
    (digest,) = await world.eventually(lambda: world.slack.messages("C0ENG"))
    await world.settle()
    assert world.slack.messages("C0MEETINGS") == [], "the routing rule applied"
    text = json.dumps(digest.blocks)
    assert "Acme launch review" in text and "We agreed to ship the launch" in text
    # Its action items, with the owner it suggested, worked from the digest like any other.
    assert "👤 <@U0GRACE> · _suggested by Acme Notes_" in line(digest, 1)
    assert section(digest, 1)["accessory"]["initial_user"] == "U0GRACE"
    await use(world, digest, ACTION_DONE, 1, "U0GRACE")
    await world.eventually(lambda: "done by <@U0GRACE>" in line(digest, 1))
    # The same delivery again is a duplicate: still one digest.
    again = await post(world, body, sign(SECRET, body))
    assert again.status_code == 200
    await world.settle()
    assert [m.ts for m in world.slack.messages("C0ENG")] == [digest.ts]


def test_its_settings_are_read_from_the_environment_by_their_own_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ACME_WEBHOOK_SECRET", "from-the-environment")
    monkeypatch.setenv("DEBRIEF_MAX_ACME_WEBHOOK_BYTES", "5000")
    settings = load_settings(plugins=WITH_ACME)
    assert settings.section(AcmeSettings).max_acme_webhook_bytes == 5000
    assert settings.secret("acme_webhook_secret") == "from-the-environment"
    assert settings.body_limits()["acme"] == 5000
    assert "from-the-environment" in settings.secret_values()
    monkeypatch.setenv("DEBRIEF_MAX_ACME_WEBHOOK_BYTES", "lots")
    with pytest.raises(SettingsError) as caught:
        load_settings(plugins=WITH_ACME, check=True)
    assert [p.setting for p in caught.value.problems][:1] == ["DEBRIEF_MAX_ACME_WEBHOOK_BYTES"]


async def test_doctor_lists_it_and_says_what_is_missing(sqlite_url: str) -> None:
    import io

    out = io.StringIO()
    settings = make_settings(database_url=sqlite_url, acme_api_key="k", plugins=WITH_ACME)
    assert await run_doctor(settings, online=False, out=out) == 0
    assert "· Acme Notes: off (to turn it on, set ACME_WEBHOOK_SECRET)" in out.getvalue()
