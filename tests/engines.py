"""Understanding engines for tests: known answers, so no test depends on a real engine's output."""

from __future__ import annotations

from datetime import date

from understanding.types import ActionItem, Topic, Turn, Understanding


def known(**changes: object) -> Understanding:
    """A known understanding of the launch meeting the tests hold."""
    values: dict[str, object] = {
        "title": "Slack integration launch",
        "summary": "The team agreed to ship the Slack integration on Friday.",
        "decisions": ["Ship the Slack integration on Friday."],
        "action_items": [
            ActionItem(
                text="Write the release notes", owner="Grace Hopper", due=date(2026, 12, 11)
            ),
            ActionItem(text="Tell the support team", owner=None),
        ],
        "topics": [Topic(title="Launch plan", start=0.0), Topic(title="Release notes", start=2.5)],
    }
    values.update(changes)
    return Understanding.model_validate(values)


class FixedEngine:
    """Answers every meeting with one known ``Understanding``, and remembers what it read."""

    def __init__(self, answer: Understanding | None = None, name: str = "fixed") -> None:
        self.answer = answer or known()
        self.name = name
        self.calls: list[tuple[list[Turn], date | None]] = []

    async def understand(
        self, turns: list[Turn], *, meeting_date: date | None = None, words: int = 110
    ) -> Understanding:
        self.calls.append((turns, meeting_date))
        return self.answer.model_copy(deep=True)
