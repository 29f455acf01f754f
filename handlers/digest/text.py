"""Fitting text into Slack's limits without cutting words or losing what was cut."""

from __future__ import annotations

SECTION_LIMIT = 3000
CONTINUED = "_(continued)_"


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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
            cut = room
        chunks.append(rest[:cut].rstrip() + "\n" + CONTINUED)
        rest = rest[cut:].lstrip()
    chunks.append(rest)
    return chunks


def truncate(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word break with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit - 1)
    return text[: cut if cut > limit // 2 else limit - 1].rstrip() + "…"


def link(url: str, label: str) -> str:
    """A mrkdwn link; the label loses the characters that would end it early."""
    clean = escape(label).replace("|", "¦")
    return f"<{url.replace('>', '%3E').replace('|', '%7C')}|{clean}>"


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
