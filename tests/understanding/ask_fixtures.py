"""The two QMSum meetings beside this file, as the answer engine's tests read them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from understanding.passages import split_turns
from understanding.types import Passage, Turn

MEETINGS = Path(__file__).parent / "ask_meetings"
#: QMSum's annotations ({vocalsound}, {disfmarker}, {gap}): not speech.
MARKER = re.compile(r"\{[^{}]*\}")


def meeting(name: str) -> dict[str, Any]:
    return json.loads((MEETINGS / f"{name}.json").read_text())


def turns(name: str) -> list[Turn]:
    return [
        Turn(speaker=t["speaker"], text=" ".join(MARKER.sub(" ", t["content"]).split()))
        for t in meeting(name)["meeting_transcripts"]
    ]


def passages(name: str) -> tuple[list[Passage], list[tuple[int, int]]]:
    """The meeting's passages (ref = their index) and the turn range of each."""
    cuts = split_turns(turns(name))
    found = [
        Passage(ref=str(i), text=text, speaker=text.split(":", 1)[0], meeting_title=name)
        for i, (_, _, text) in enumerate(cuts)
    ]
    return found, [(first, last) for first, last, _ in cuts]


def hits(ranges: list[tuple[int, int]], spans: list[list[str]]) -> set[int]:
    """The passages whose turns overlap a gold span."""
    gold = [(int(a), int(b)) for a, b in spans]
    return {
        i
        for i, (first, last) in enumerate(ranges)
        if any(first <= b and a <= last for a, b in gold)
    }
