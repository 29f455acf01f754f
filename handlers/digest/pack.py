"""Packing a stream of blocks into as few messages as Slack's limits allow."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from handlers.digest.limits import MESSAGE_BLOCKS, MESSAGE_CHARS
from handlers.digest.text import CONTINUED

Block = dict[str, Any]


def block_chars(block: Block) -> int:
    """How many characters of text a block carries (what a reader has to read)."""
    total = 0
    stack: list[Any] = [block]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                total += len(node["text"])
            stack.extend(v for k, v in node.items() if k != "text" or not isinstance(v, str))
        elif isinstance(node, list):
            stack.extend(node)
    return total


def heading(title: str, *, continued: bool = False) -> Block:
    """The bold line that opens a kind of content, marked when it carries on from before."""
    text = f"*{title}*" + (f" {CONTINUED}" if continued else "")
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def pack(
    stream: Iterable[tuple[str, Block]],
    *,
    max_blocks: int = MESSAGE_BLOCKS,
    max_chars: int = MESSAGE_CHARS,
) -> list[list[Block]]:
    """Group ``(kind, block)`` pairs into messages, each within ``max_blocks`` and ``max_chars``.

    Each kind opens with its heading; a message that starts in the middle of a kind repeats the
    heading with a "continued" marker, so a reader of any one message knows where it belongs.
    A heading is never left alone at the end of a message.
    """
    messages: list[list[Block]] = []
    current: list[Block] = []
    chars = 0
    kind_now: str | None = None
    for kind, block in stream:
        opens = kind != kind_now or not current
        head = heading(kind, continued=kind == kind_now) if opens else None
        need_blocks = 1 + (head is not None)
        need_chars = block_chars(block) + (block_chars(head) if head else 0)
        if current and (len(current) + need_blocks > max_blocks or chars + need_chars > max_chars):
            messages.append(current)
            current, chars = [], 0
            head = heading(kind, continued=kind == kind_now)
            need_chars = block_chars(block) + block_chars(head)
        if head is not None:
            current.append(head)
        current.append(block)
        chars += need_chars
        kind_now = kind
    if current:
        messages.append(current)
    return messages
