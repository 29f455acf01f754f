"""Every interaction payload is checked: an unknown item, another workspace or a forged value
gets a clear private answer and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest

from handlers.action_items.jobs import JOB_APPLY
from handlers.digest.items import ACTION_ASSIGN, ACTION_DONE, ACTION_DUE
from sandbox.slack import Message, driver
from tests.handlers.action_items.support import (
    CHANNEL,
    app_url,
    current,
    deliver,
    events,
    eventually,
    items,
    jobs_of,
    product_sync,
    rig,
    said,
)
from tests.handlers.digest.support import Rig

Json = dict[str, Any]


def payload(r: Rig, message: Message, action_id: str, block_id: str, value: Any = None) -> Json:
    """The block_actions payload Slack sends when U0GRACE uses a control of ``message``."""
    ws = r.slack.workspace
    found, element = driver.find_element(message.blocks, action_id, block_id)
    state = None if value is None else driver.enter(ws, message, action_id, value, found)[2]
    action = driver.action(element, found, state, ws.next_ts())
    return driver.block_actions(
        ws, message, action, user_id="U0GRACE", verification_token=r.slack.verification_token
    )


async def send(r: Rig, body: Json) -> None:
    form = urlencode({"payload": json.dumps(body)}).encode()
    delivery = await r.slack.deliver(app_url(r), form)
    assert delivery.status == 200, delivery.body


def forge(path: str, value: Any) -> Callable[[Json], None]:
    def change(body: Json) -> None:
        *parents, last = path.split(".")
        node: Any = body
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[last] = value

    return change


async def snapshot(r: Rig) -> list[tuple[Any, ...]]:
    stored = [*(await items(r)).values(), *(await items(r, "other-meeting")).values()]
    return sorted((i.id, i.assignee_id, i.status, i.due, i.version) for i in stored)


ASSIGN = (ACTION_ASSIGN, "digest.item.3", "U0ALAN")
DONE = (ACTION_DONE, "digest.controls.3", None)
DUE = (ACTION_DUE, "digest.controls.3", "2026-12-01")


#: (name, control, forgery, what the clicker is told): clicks Slack itself would never send.
FORGERIES: list[tuple[str, tuple[str, str, Any], Callable[[Json], None], str]] = [
    ("workspace", ASSIGN, forge("team.id", "T0ELSEWHERE"), "another Slack workspace"),
    ("item 99", ASSIGN, forge("actions.0.block_id", "digest.item.99"), "does not exist"),
    ("block id", ASSIGN, forge("actions.0.block_id", "something.else"), "does not exist"),
    ("user id", ASSIGN, forge("actions.0.selected_user", "robert'); drop"), "not a person"),
    ("message", ASSIGN, forge("container.message_ts", "1.000001"), "do not know this message"),
    ("ephemeral", ASSIGN, forge("container.is_ephemeral", True), "does not know that control"),
    ("no action_ts", ASSIGN, forge("actions.0.action_ts", None), "no time stamp"),
    ("no such id", DONE, forge("actions.0.value", "999999"), "does not exist"),
    ("not an id", DONE, forge("actions.0.value", "1; --"), "does not exist"),
    ("other item", DONE, forge("actions.0.value", "1"), "does not exist"),
    ("other meeting", DONE, forge("actions.0.value", "5"), "does not exist"),
    ("30 February", DUE, forge("actions.0.selected_date", "2026-02-30"), "not a due date"),
    ("last century", DUE, forge("actions.0.selected_date", "1999-12-31"), "not a due date"),
    ("format", DUE, forge("actions.0.selected_date", "27/11/2026"), "not a due date"),
]


async def test_a_forged_click_is_refused_and_changes_nothing(sqlite_url: str) -> None:
    async with rig(sqlite_url) as r:
        parent = await deliver(r, product_sync())
        await deliver(r, product_sync("other-meeting"), "C0ENG")
        before = await snapshot(r)
        updates = len(r.slack.calls_of("chat.update"))
        for name, control, change, answer in FORGERIES:
            told = len(r.slack.ephemerals("U0GRACE"))
            body = payload(r, current(r, parent), *control)
            change(body)
            await send(r, body)
            await eventually(r, lambda: len(r.slack.ephemerals("U0GRACE")) > told)  # noqa: B023
            (reply,) = r.slack.ephemerals("U0GRACE")[told:]
            assert answer in reply.text, name
            assert "nothing was changed" in reply.text, name

        assert await snapshot(r) == before
        assert await events(r) == []
        assert await jobs_of(r, JOB_APPLY) == [], "refused before anything was written"
        assert len(r.slack.calls_of("chat.update")) == updates


@pytest.mark.parametrize(
    ("person", "answer"),
    [
        ("U0NOBODY", "cannot find that person"),
        ("U0DEBRIEF", "go to people, not apps"),
        ("U0LINUS", "no longer in this workspace"),
    ],
)
async def test_assigning_to_someone_who_cannot_own_it_is_refused(
    sqlite_url: str, person: str, answer: str
) -> None:
    async with rig(sqlite_url) as r:
        r.slack.workspace.users["U0LINUS"].deleted = True
        parent = await deliver(r, product_sync())
        await send(r, payload(r, current(r, parent), ACTION_ASSIGN, "digest.item.3", person))
        await r.drain()
        assert answer in said(r, "U0GRACE")
        assert (await items(r))[3].assignee_id is None
        assert await events(r) == []
        assert r.slack.dms(person) == []


async def test_a_click_on_a_message_that_is_not_a_digest(sqlite_url: str) -> None:
    async with rig(sqlite_url) as r:
        parent = await deliver(r, product_sync())
        someone = r.slack.say(CHANNEL, "not a digest", user_id="U0ADA")
        someone.blocks = current(r, parent).blocks  # a copy of the controls elsewhere
        await send(r, payload(r, someone, ACTION_ASSIGN, "digest.item.1", "U0ALAN"))
        await eventually(r, lambda: said(r, "U0GRACE"))
        assert "do not know this message" in said(r, "U0GRACE")
        assert await events(r) == []
