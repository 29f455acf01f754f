"""Slack's Block Kit limits that digests must respect; they are ``bot.blockkit``'s, the one
table every builder and the Slack client read, plus the digest's own ceiling per message."""

from __future__ import annotations

from bot.blockkit import (
    ACTION_ELEMENTS,
    BUTTON_TEXT,
    BUTTON_VALUE,
    CONTEXT_ELEMENTS,
    CONTEXT_TEXT,
    FIELD_TEXT,
    HEADER_TEXT,
    ID_LENGTH,
    MESSAGE_BLOCKS,
    MESSAGE_TEXT,
    SECTION_FIELDS,
    SECTION_TEXT,
    VIEW_BLOCKS,
)

__all__ = [
    "ACTION_ELEMENTS",
    "BUTTON_TEXT",
    "BUTTON_VALUE",
    "CONTEXT_ELEMENTS",
    "CONTEXT_TEXT",
    "FIELD_TEXT",
    "HEADER_TEXT",
    "ID_LENGTH",
    "MESSAGE_BLOCKS",
    "MESSAGE_CHARS",
    "MESSAGE_TEXT",
    "SECTION_FIELDS",
    "SECTION_TEXT",
    "VIEW_BLOCKS",
]

#: Our own ceiling on the text of one thread message: far below anything Slack refuses, and about
#: what a reader takes in before the next reply.
MESSAGE_CHARS = 12_000
