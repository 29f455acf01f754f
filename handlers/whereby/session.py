"""A room's session state, folded from webhook events in whatever order they arrive.

Whereby delivers events more than once and out of order. Each event is applied by its own
``createdAt``, so that the result does not depend on the order of arrival:

- an event of another session replaces the one held only when it is newer than everything seen
  of the held one (a late event of the previous session changes nothing);
- ``started`` and ``ended`` are independent facts of a session: an ``ended`` seen first is kept
  when its ``started`` comes later, so the room is never shown as live again;
- the number of people is taken from the newest join/leave event (of two at the same
  millisecond, the larger count after joins, the smaller after leaves), and none counts after
  the session has ended.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

#: Display names kept per room (for the digest's participants).
MAX_PEOPLE = 50


class RoomEvent(StrEnum):
    """The room events that change what the room message shows."""

    STARTED = "room.session.started"
    ENDED = "room.session.ended"
    JOINED = "room.client.joined"
    LEFT = "room.client.left"


@dataclass(frozen=True)
class SessionState:
    """What is known of a room's latest session."""

    session_id: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    first_at: datetime | None = None
    last_at: datetime | None = None
    participants: int = 0
    participants_at: datetime | None = None

    @property
    def live(self) -> bool:
        """Started and not (yet known to be) ended."""
        return self.started_at is not None and self.ended_at is None

    @property
    def ended(self) -> bool:
        return self.ended_at is not None

    @property
    def length(self) -> timedelta | None:
        """How long the session lasted, once both ends are known."""
        if self.started_at is None or self.ended_at is None:
            return None
        return max(self.ended_at - self.started_at, timedelta(0))


def _earliest(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b < a else a


def _latest(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b > a else a


def apply_event(
    state: SessionState,
    kind: RoomEvent,
    at: datetime,
    session_id: str | None,
    num_clients: int | None = None,
) -> SessionState:
    """The state after one event; ``state`` itself when the event changes nothing.

    Args:
        state: what is known so far.
        kind: the event's type.
        at: the event's own time (``createdAt``).
        session_id: its ``roomSessionId`` (``None``: taken as the held session).
        num_clients: ``numClients`` of join/leave events, when given.
    """
    if session_id is not None and session_id != state.session_id:
        if state.session_id is not None and state.last_at is not None and at <= state.last_at:
            return state  # a late event of an older session
        state = SessionState(session_id=session_id)
    new = replace(state, first_at=_earliest(state.first_at, at), last_at=_latest(state.last_at, at))
    if kind is RoomEvent.STARTED:
        return replace(new, started_at=_earliest(state.started_at, at))
    if kind is RoomEvent.ENDED:
        return replace(
            new,
            ended_at=_latest(state.ended_at, at),
            participants=0,
            participants_at=_latest(state.participants_at, at),
        )
    # A join or a leave: nobody is counted in a session that is over.
    if state.ended_at is not None:
        return new
    if state.participants_at is not None and at < state.participants_at:
        return new
    if num_clients is not None:
        count = max(num_clients, 0)
        if at == state.participants_at:
            # Two people joining (or leaving) in the same millisecond: the later of the two
            # counts more people after a join, fewer after a leave, whichever arrives first.
            pick = max if kind is RoomEvent.JOINED else min
            count = pick(count, state.participants)
    else:
        count = max(state.participants + (1 if kind is RoomEvent.JOINED else -1), 0)
    return replace(new, participants=count, participants_at=at)


def add_person(people: list[str], name: str | None) -> list[str]:
    """``people`` with ``name`` added once (compared without case), at most ``MAX_PEOPLE``."""
    clean = (name or "").strip()
    if not clean or len(people) >= MAX_PEOPLE:
        return people
    if clean.lower() in {p.lower() for p in people}:
        return people
    return [*people, clean[:100]]
