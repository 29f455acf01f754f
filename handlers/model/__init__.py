"""The model endpoint as a plug-in: an OpenAI-compatible chat-completions API that the meeting
understanding engine may use (``understanding.model``). It brings no meetings, so it has no
listeners, jobs or webhook route; its descriptor gives it settings, a budgeted client and a
``debrief doctor`` line like any provider's (``handlers/model/plugin.py``)."""

from __future__ import annotations

from typing import Any


def register(wiring: Any) -> None:
    """Nothing to wire: the engine is used by the digest path (``handlers.digest.understand``)."""
