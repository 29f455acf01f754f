"""Answers from passages: the embedded engine's extractive answer."""

# placeholder: the ask branch replaces this file

from __future__ import annotations

from understanding.types import Answer, Passage


def answer(question: str, passages: list[Passage], *, limit: int = 3) -> Answer:
    """The best passage's text as the answer; found only when there is a passage at all."""
    if not passages:
        return Answer(text="", citations=[], found=False)
    best = sorted(passages, key=lambda p: p.score, reverse=True)[:limit]
    return Answer(text=best[0].text, citations=[p.ref for p in best], found=True)
