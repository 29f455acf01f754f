"""What the understanding tests share: a tiny stand-in for the embedded engine."""

from __future__ import annotations

from datetime import date

from understanding.types import ActionItem, Turn, Understanding


class FirstLineEngine:
    """An ``Engine`` that titles the meeting with its first line: enough to tell a fallback."""

    name = "embedded"

    def __init__(self) -> None:
        self.calls: list[list[Turn]] = []

    async def understand(
        self, turns: list[Turn], *, meeting_date: date | None = None, words: int = 110
    ) -> Understanding:
        self.calls.append(turns)
        first = turns[0].text if turns else ""
        return Understanding(
            title=f"fallback: {first[:30]}",
            summary=" ".join(first.split()[:words]),
            action_items=[ActionItem(text="fallback item")],
        )
