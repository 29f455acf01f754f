"""Meeting understanding: from a transcript to a title, summary, decisions, action items and topics.

Pure: no Slack, no provider calls, no network of its own. Two engines behind one interface
(``understanding.engine.Engine``): ``embedded`` (the default: pure Python, no weights) and
``model`` (any OpenAI-compatible chat-completions endpoint, reached through a ``ChatModel`` that
the caller hands in, so the HTTP client stays in ``providers/``).
"""

from understanding.types import (
    ActionItem,
    Answer,
    ChatModel,
    Engine,
    Passage,
    Topic,
    Turn,
    Understanding,
)

__all__ = [
    "ActionItem",
    "Answer",
    "ChatModel",
    "Engine",
    "Passage",
    "Topic",
    "Turn",
    "Understanding",
]
