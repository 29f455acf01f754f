"""Whereby's point budget under a backlog: how much of it the app uses, and whether it ever
draws a 429.

The real app (in this process, over loopback HTTP) runs against the Whereby stand-in enforcing
the plan's budget (1000 points a minute, in fixed windows from the first request, as strict as
Whereby could be). A backlog of durable jobs is queued at once, mixed as real use mixes them:
room creations (`POST /meetings`, 3 points, then a Slack message and a private answer),
"End room" clicks (`DELETE`, 2 points) and recording-link clicks (`GET …/access-link`, 1
point). Eight workers take them; every Whereby call goes through the app's one client and its
point budget. The backlog is larger than three windows' budget, so each of the first three
windows is measured with work waiting.
"""

from __future__ import annotations

import math
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.report import Section, main, table
from bot.jobs import QueueConfig
from bot.store.db import transaction
from handlers.whereby import repo
from handlers.whereby.rooms import (
    JOB_CREATE,
    JOB_END,
    JOB_LINK,
    CreateRoomJob,
    EndRoomJob,
    LinkJob,
)
from handlers.whereby.tables import WherebyRoom
from providers.whereby import CreateMeeting, PointBudget, WherebyClient
from sandbox.whereby import Charge
from sandbox.world import World, WorldOptions

TEAM, CHANNEL, USER = "T0SANDBOX", "C0ENG", "U0ADA"
WORKERS = 8
#: Full windows measured with work still waiting.
WINDOWS = 3
#: The backlog, in points, as a multiple of what the measured windows allow.
BACKLOG = 1.2
#: Of every 10 points of backlog: 3 for a creation, 2 for an end, 5 link clicks of 1.
MIX = (("create", 1), ("end", 1), ("link", 5))


@dataclass(frozen=True)
class Plan:
    points: int
    window: float
    label: str


class Ledger:
    """Every charge the stand-in makes: (monotonic time, points, allowed)."""

    def __init__(self) -> None:
        self.charges: list[tuple[float, float, bool]] = []

    def watch(self, world: World) -> None:
        budget = world.whereby.budget
        charge = budget.charge

        def recording(cost: float) -> Charge:
            result = charge(cost)
            self.charges.append((time.monotonic(), cost, result.allowed))
            return result

        budget.charge = recording  # type: ignore[method-assign]


async def backlog(world: World, points: float) -> Counter[str]:
    """Queue jobs worth ``points`` at once, interleaved; how many of each kind."""
    services = world.services
    client = services.require(WherebyClient)
    meeting = await client.create_meeting(
        CreateMeeting(end_date=datetime.now(UTC) + timedelta(hours=2), room_name_prefix="bench")
    )
    name = (meeting.room_name or "").lstrip("/")
    recording = world.whereby.finish_recording(name)
    now = services.clock()

    def room(title: str, minutes: int = 30) -> WherebyRoom:
        return repo.new_room(
            team_id=TEAM,
            channel_id=CHANNEL,
            creator_id=USER,
            minutes=minutes,
            title=title,
            name_prefix=title.lower(),
            now=now,
        )

    link_room = room("bench", minutes=60)
    counts: Counter[str] = Counter()
    per_round = 3 + 2 + 5
    rounds = math.ceil(points / per_round)
    workspace = world.slack.workspace
    async with transaction(services.sessions) as session:
        session.add(link_room)
        await session.flush()
        for _ in range(rounds):
            for kind, times in MIX:
                for _ in range(times):
                    response_url = workspace.issue_response_url(CHANNEL, USER)
                    if kind == "create":
                        row = room("Backlog")
                        session.add(row)
                        await session.flush()
                        job = CreateRoomJob(room_id=row.id, response_url=response_url)
                        await services.queue.enqueue(session, JOB_CREATE, job)
                    elif kind == "end":
                        # An open room whose message is elsewhere: the job only deletes it.
                        row = room("Ending")
                        row.status, row.meeting_id = repo.OPEN, f"bench-{uuid.uuid4().hex}"
                        session.add(row)
                        await session.flush()
                        end = EndRoomJob(
                            room_id=row.id, team_id=TEAM, user_id=USER, response_url=response_url
                        )
                        await services.queue.enqueue(session, JOB_END, end)
                    else:
                        link = LinkJob(
                            room_id=link_room.id,
                            kind="recording",
                            item_id=str(recording["recordingId"]),
                            team_id=TEAM,
                            response_url=response_url,
                        )
                        await services.queue.enqueue(session, JOB_LINK, link)
                    counts[kind] += 1
    return counts


def by_window(charges: list[tuple[float, float, bool]], window: float) -> tuple[list[float], float]:
    """Points spent in each of the stand-in's fixed windows (from the first charge) and when
    the last one was spent, in seconds after the first."""
    start = charges[0][0]
    spent: list[float] = []
    for at, cost, allowed in charges:
        if not allowed:
            continue
        index = int((at - start) // window)
        while len(spent) <= index:
            spent.append(0.0)
        spent[index] += cost
    return spent, charges[-1][0] - start


async def measure(plan: Plan, folder: Path) -> tuple[list[float], float, int, int, Counter[str]]:
    options = WorldOptions(
        database_url=f"sqlite+aiosqlite:///{folder / 'whereby.db'}",
        workers=WORKERS,
        scheduler=False,
        queue=QueueConfig(lease_seconds=30, poll_seconds=0.5),
        stand_ins={"whereby": {"points": plan.points, "window": plan.window}},
        settings={"whereby_points_per_minute": plan.points},
    )
    ledger = Ledger()
    async with World(options) as world:
        if plan.window != 60.0:
            # The app's budget runs on a minute; a scaled run scales it the same way.
            services = world.services
            services.clients[WherebyClient] = WherebyClient(
                services.http,
                api_key=world.whereby_api_key,
                base_url=world.whereby.api_url,
                # The safety margin (a quarter second a minute) is scaled with the window too.
                limiter=PointBudget(
                    plan.points, window=plan.window, margin=0.25 * plan.window / 60
                ),
            )
        ledger.watch(world)
        counts = await backlog(world, plan.points * WINDOWS * BACKLOG)
        await world.settle(within=plan.window * (WINDOWS + 3))
        refused = sum(1 for c in world.whereby.calls if c.status == 429)
    spent, last = by_window(ledger.charges, plan.window)
    denied = sum(1 for _, _, allowed in ledger.charges if not allowed)
    return spent, last, refused, denied, counts


async def run(quick: bool) -> Section:
    plan = (
        Plan(100, 3.0, "100 points per 3 s (scaled)")
        if quick
        else Plan(1000, 60.0, "1000 points per minute (Grow plan)")
    )
    with tempfile.TemporaryDirectory() as folder:
        spent, last, refused, denied, counts = await measure(plan, Path(folder))
    measured = spent[:WINDOWS]
    rows = [
        [n + 1, f"{points:.0f}", f"{points / plan.points:.1%}"] for n, points in enumerate(measured)
    ]
    share = sum(measured) / (plan.points * len(measured))
    rows.append(["all measured", f"{sum(measured):.0f}", f"**{share:.1%}**"])
    mix = ", ".join(f"{counts[kind]} {kind}" for kind, _ in MIX)
    body = f"""
Budget: {plan.label}, enforced by the Whereby stand-in in fixed windows from the first request.
Backlog queued at once: {sum(counts.values())} durable jobs ({mix}; creations also post to Slack
and answer privately), worth {BACKLOG:.0%} of {WINDOWS} windows' budget, taken by {WORKERS}
workers through the app's one Whereby client.

{table(["window", "points used", "share of the budget"], rows)}

Goal: at least 95 % of the budget used while work waits, and no 429. **429 answers: {refused}**
(requests the stand-in refused: {denied}). The last request went out {last:.1f} s after the
first; the rest of the backlog ({sum(spent[WINDOWS:]):.0f} points) went in the next window.
"""
    return Section("whereby_budget", "Whereby point budget under a backlog", body)


if __name__ == "__main__":
    raise SystemExit(main("whereby_budget", run))
