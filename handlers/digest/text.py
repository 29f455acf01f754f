"""Fitting long text into Slack's limits without cutting words or losing what was cut.

Escaping and cutting live in ``bot.blockkit`` (the Slack client needs them too); they are named
here as well because every feature's builders already import them from here.
"""

from __future__ import annotations

from bot.blockkit import (
    SECTION_TEXT,
    escape,
    fallback,
    file_title,
    fit,
    link,
    mrkdwn,
    plain,
    truncate,
)

__all__ = [
    "CONTINUED",
    "SECTION_LIMIT",
    "escape",
    "fallback",
    "file_title",
    "fit",
    "join_names",
    "link",
    "mrkdwn",
    "plain",
    "split_text",
    "truncate",
]

SECTION_LIMIT = SECTION_TEXT
CONTINUED = "_(continued)_"


def split_text(text: str, limit: int = SECTION_LIMIT - 50) -> list[str]:
    """Split ``text`` into chunks of at most ``limit`` characters, at line or word breaks.

    Every chunk but the last ends with a "continued" marker, so a reader knows more follows.
    A single word longer than the limit is the only thing ever cut mid-word.
    """
    if len(text) <= limit:
        return [text]
    room = limit - len(CONTINUED) - 1
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, room)
        if cut < room // 2:
            cut = rest.rfind(" ", 0, room)
        if cut <= 0:
            # One endless word: cut it, but not inside an entity that escaping made of it.
            amp = rest.rfind("&", max(0, room - 5), room)
            cut = amp if amp > 0 and ";" not in rest[amp:room] else room
        chunks.append(rest[:cut].rstrip() + "\n" + CONTINUED)
        rest = rest[cut:].lstrip()
    chunks.append(rest)
    return chunks


def join_names(names: list[str], limit: int) -> str:
    """``names`` joined with commas, ending in "and N more" when they do not all fit."""
    text = ", ".join(names)
    if len(text) <= limit:
        return text
    shown: list[str] = []
    for name in names:
        candidate = ", ".join([*shown, name]) + f" and {len(names) - len(shown) - 1} more"
        if len(candidate) > limit:
            break
        shown.append(name)
    if not shown:
        return truncate(f"{len(names)} people", limit)
    return ", ".join(shown) + f" and {len(names) - len(shown)} more"
