# placeholder: the summary branch replaces this file
"""The embedded engine: pure Python, no weights (a placeholder until the real one lands)."""

from __future__ import annotations

from datetime import date

from understanding.types import Turn, Understanding


class EmbeddedEngine:
    """Summary = the first three turns joined; title "Meeting"; no items."""

    name = "embedded"

    async def understand(
        self, turns: list[Turn], *, meeting_date: date | None = None, words: int = 110
    ) -> Understanding:
        summary = " ".join(turn.text.strip() for turn in turns[:3] if turn.text.strip())
        return Understanding(title="Meeting", summary=summary, engine="embedded")
