"""Per-person limits: the wait in words, budget names, and spending in the caller's transaction."""

from __future__ import annotations

import pytest

from bot.budgets import DatabaseLedger
from bot.limits import PersonalLimit, budget_name, in_words
from bot.store.db import create_engine, create_sessionmaker, transaction

WALL0 = 1_700_000_000.0


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0.2, "in a minute"),
        (60, "in a minute"),
        (61, "in 2 minutes"),
        (12 * 60 - 5, "in 12 minutes"),
        (3599.5, "in an hour"),
        (3601, "in an hour and 1 minute"),
        (2 * 3600 + 600, "in 2 hours and 10 minutes"),
    ],
)
def test_a_wait_is_said_in_whole_minutes_rounded_up(seconds: float, words: str) -> None:
    assert in_words(seconds) == words


def test_budget_names_fit_their_column_and_keep_people_apart() -> None:
    rooms = PersonalLimit("rooms", 10, things="Whereby rooms", verb="open")
    assert budget_name(rooms, "T0SANDBOX", "U0ADA") == "limit.rooms:T0SANDBOX:U0ADA"
    long_team = "E" + "0" * 60
    names = {budget_name(rooms, long_team, user) for user in ("W0ADA", "W0GRACE")}
    assert len(names) == 2 and all(len(n) <= 64 for n in names)
    notetakers = PersonalLimit("notetakers", 10, things="notetakers", verb="send")
    assert budget_name(notetakers, "T1", "U1") != budget_name(rooms, "T1", "U1")


class Rollback(Exception):
    pass


async def test_a_spend_in_the_callers_transaction_goes_with_it(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        sessions = create_sessionmaker(engine)
        ledger = DatabaseLedger(sessions, "limit.rooms:T1:U1", 2, clock=lambda: WALL0)
        with pytest.raises(Rollback):
            async with transaction(sessions) as session:
                assert await ledger.spend(1, WALL0, 3600.0, session=session) == 0.0
                assert await ledger.spend(1, WALL0, 3600.0, session=session) == 0.0
                raise Rollback  # the job was not enqueued after all
        assert await ledger.used(WALL0, 3600.0) == 0.0

        async with transaction(sessions) as session:
            assert await ledger.spend(1, WALL0, 3600.0, session=session) == 0.0
        assert await ledger.used(WALL0, 3600.0) == 1.0
        assert await ledger.spend(1, WALL0 + 10, 3600.0) == 0.0
        assert await ledger.spend(1, WALL0 + 20, 3600.0) == pytest.approx(
            3580.0
        )  # when the first frees
    finally:
        await engine.dispose()
