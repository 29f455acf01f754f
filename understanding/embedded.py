"""The embedded engine (the default): no network, no model weights, pure Python.

Turns are cleaned (understanding.text), the summary is the concept-coverage extract with
speakers named (understanding.summary), topics come from lexical cohesion
(understanding.topics), decisions and action items from understanding.commitments.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from understanding import commitments
from understanding.summary import prepare, subject, summarize, title
from understanding.topics import topics
from understanding.types import Engine, Turn, Understanding


def understand(
    turns: Sequence[Turn], *, meeting_date: date | None = None, words: int = 110
) -> Understanding:
    """Title, summary (at most ``words`` words), decisions, action items and topics."""
    units = prepare(turns)
    about = subject(units)
    # The summary opens with what the meeting was about, as a person's summary does; a tiny
    # budget goes to what was said instead.
    opening = f"The meeting was about {about}." if about else ""
    if len(opening.split()) > words // 3:
        opening = ""
    decisions, action_items = commitments.extract(list(turns), meeting_date=meeting_date)
    return Understanding(
        title=title(units),
        summary=summarize(units, words, opening=opening),
        decisions=decisions,
        action_items=action_items,
        topics=topics(units),
        engine="embedded",
    )


class EmbeddedEngine:
    """The Engine protocol over :func:`understand`. An hour-long meeting is 100-300 ms of pure
    Python, so it runs in a worker thread: the caller's event loop keeps answering (also when
    the model engine falls back to this one)."""

    name = "embedded"

    async def understand(
        self, turns: list[Turn], *, meeting_date: date | None = None, words: int = 110
    ) -> Understanding:
        return await asyncio.to_thread(understand, turns, meeting_date=meeting_date, words=words)


if TYPE_CHECKING:  # mypy holds it to the protocol both engines keep
    _engine: Engine = EmbeddedEngine()
