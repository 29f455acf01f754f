"""The session state folds webhook events to the same result in any order of arrival."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from handlers.whereby.session import (
    MAX_PEOPLE,
    RoomEvent,
    SessionState,
    add_person,
    apply_event,
)

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

# One real session: Ada joins, Grace joins, it starts, Grace leaves, it ends.
SESSION: list[tuple[RoomEvent, int, str, int | None]] = [
    (RoomEvent.JOINED, 0, "s1", 1),
    (RoomEvent.JOINED, 10, "s1", 2),
    (RoomEvent.STARTED, 11, "s1", None),
    (RoomEvent.LEFT, 600, "s1", 1),
    (RoomEvent.ENDED, 900, "s1", None),
]


def fold(events: list[tuple[RoomEvent, int, str, int | None]]) -> SessionState:
    state = SessionState()
    for kind, second, session, clients in events:
        state = apply_event(state, kind, T0 + timedelta(seconds=second), session, clients)
    return state


def test_in_order_the_session_starts_counts_and_ends() -> None:
    live = fold(SESSION[:3])
    assert live.live and live.participants == 2
    assert live.started_at == T0 + timedelta(seconds=11)
    ended = fold(SESSION)
    assert not ended.live and ended.ended and ended.participants == 0
    assert ended.length == timedelta(seconds=889)


def test_an_ended_before_its_started_never_shows_the_room_live() -> None:
    state = fold([(RoomEvent.ENDED, 900, "s1", None)])
    assert state.ended and not state.live
    state = apply_event(state, RoomEvent.STARTED, T0 + timedelta(seconds=11), "s1")
    assert not state.live, "the late start must not bring the session back"
    assert state.length == timedelta(seconds=889)
    # A late join of the same session counts nobody either.
    joined = apply_event(state, RoomEvent.JOINED, T0 + timedelta(seconds=10), "s1", 2)
    assert joined.participants == 0 and not joined.live


def test_every_order_of_arrival_gives_the_same_state() -> None:
    expected = fold(SESSION)
    for order in itertools.permutations(SESSION):
        assert fold(list(order)) == expected, order


@given(st.permutations(SESSION[:3]))
def test_the_count_is_the_newest_one_whatever_the_order(order: list) -> None:  # type: ignore[type-arg]
    state = fold(list(order))
    assert state.live and state.participants == 2


@given(st.permutations([(RoomEvent.JOINED, 0, "s1", n) for n in (1, 2, 3)]))
def test_joins_in_the_same_millisecond_count_everyone(order: list) -> None:  # type: ignore[type-arg]
    assert fold(list(order)).participants == 3


@given(st.permutations([(RoomEvent.LEFT, 0, "s1", n) for n in (0, 1, 2)]))
def test_leaves_in_the_same_millisecond_count_who_is_left(order: list) -> None:  # type: ignore[type-arg]
    state = apply_event(SessionState(), RoomEvent.JOINED, T0 - timedelta(seconds=1), "s1", 3)
    for kind, second, session, clients in order:
        state = apply_event(state, kind, T0 + timedelta(seconds=second), session, clients)
    assert state.participants == 0


def test_duplicates_change_nothing() -> None:
    once = fold(SESSION)
    twice = fold([e for e in SESSION for _ in range(2)])
    assert once == twice


def test_a_late_event_of_an_older_session_is_ignored() -> None:
    state = fold(SESSION[:3])  # s1 live
    state = apply_event(state, RoomEvent.STARTED, T0 + timedelta(hours=1), "s2")
    state = apply_event(state, RoomEvent.JOINED, T0 + timedelta(hours=1), "s2", 3)
    assert state.session_id == "s2" and state.live and state.participants == 3
    # s1's end, delivered only now, is older than everything seen of s2.
    late = apply_event(state, RoomEvent.ENDED, T0 + timedelta(seconds=900), "s1")
    assert late == state


def test_a_newer_session_replaces_the_held_one() -> None:
    state = fold(SESSION)
    state = apply_event(state, RoomEvent.JOINED, T0 + timedelta(hours=2), "s2", 1)
    assert state.session_id == "s2" and not state.ended and state.participants == 1
    assert state.started_at is None


def test_without_client_counts_joins_and_leaves_are_counted() -> None:
    state = SessionState()
    state = apply_event(state, RoomEvent.JOINED, T0, "s1")
    state = apply_event(state, RoomEvent.JOINED, T0 + timedelta(seconds=1), "s1")
    state = apply_event(state, RoomEvent.LEFT, T0 + timedelta(seconds=2), "s1")
    assert state.participants == 1
    state = apply_event(state, RoomEvent.LEFT, T0 + timedelta(seconds=3), "s1")
    state = apply_event(state, RoomEvent.LEFT, T0 + timedelta(seconds=4), "s1")
    assert state.participants == 0


def test_people_are_kept_once_and_bounded() -> None:
    people = add_person([], " Ada ")
    people = add_person(people, "ada")
    people = add_person(people, None)
    assert people == ["Ada"]
    many = [f"P{n}" for n in range(MAX_PEOPLE)]
    assert add_person(many, "One more") == many
