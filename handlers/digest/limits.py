"""Slack's Block Kit limits that digests must respect (PROVIDERS.md, "Slack platform facts")."""

from __future__ import annotations

#: Blocks in one message (modals and the Home tab allow 100).
MESSAGE_BLOCKS = 50
#: Characters of a section's text, of a header's, of one section field, of a context element.
SECTION_TEXT = 3000
HEADER_TEXT = 150
FIELD_TEXT = 2000
SECTION_FIELDS = 10
CONTEXT_ELEMENTS = 10
CONTEXT_TEXT = 3000
#: Buttons: visible text and value; ids of actions and blocks.
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
ID_LENGTH = 255
ACTION_ELEMENTS = 25
#: Slack truncates a message's top-level ``text`` beyond this.
MESSAGE_TEXT = 40_000
#: Our own ceiling on the text of one thread message: far below anything Slack refuses, and about
#: what a reader takes in before the next reply.
MESSAGE_CHARS = 12_000
