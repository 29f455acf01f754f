"""The embedded engine on a real meeting (QMSum's ES2006b, MIT licence in meetings/): a summary
within budget, in clean prose that names its speakers, the same every time."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from understanding import commitments, embedded
from understanding.embedded import EmbeddedEngine, understand
from understanding.types import ActionItem, Turn

MEETING = Path(__file__).resolve().parent / "meetings" / "qmsum_ES2006b.json"
ROOT = Path(__file__).resolve().parents[2]
ROLES = ("Project Manager", "Marketing", "Industrial Designer", "User Interface")


@pytest.fixture(scope="module")
def turns() -> list[Turn]:
    data = json.loads(MEETING.read_text())
    return [Turn(speaker=t["speaker"], text=t["content"]) for t in data["meeting_transcripts"]]


@pytest.mark.parametrize("words", [110, 60, 25])
def test_the_summary_keeps_to_its_budget(turns: list[Turn], words: int) -> None:
    summary = understand(turns, words=words).summary
    assert 0.6 * words <= len(summary.split()) <= words


def test_the_summary_is_clean_prose_that_names_speakers(turns: list[Turn]) -> None:
    result = understand(turns)
    summary = result.summary
    assert "{" not in summary and "}" not in summary and "_" not in summary
    spoken = re.findall(r"[a-z'-]+", summary.lower())
    assert not {"um", "uh", "mm", "mm-hmm", "hmm"} & set(spoken)
    assert "you know" not in summary.lower() and " ,." not in summary and ",." not in summary
    named = [role for role in ROLES if f"{role}:" in summary]
    assert len(named) >= 2, summary
    assert summary.startswith("The meeting was about ")
    # Every sentence of it ends as a sentence does.
    assert all(part.rstrip()[-1] in ".!?" for part in re.split(r"(?<=[.!?]) ", summary))


def test_the_title_and_topics_say_what_it_was_about(turns: list[Turn]) -> None:
    result = understand(turns)
    assert "remote control" in result.title.lower()
    assert 2 <= len(result.topics) <= 8
    assert all(topic.title and "{" not in topic.title for topic in result.topics)


def test_topics_start_where_their_turns_start() -> None:
    said = [
        ("Ada", "The budget for the remote control is twelve euros fifty per unit."),
        ("Bob", "The budget leaves little room, the remote control budget is tight."),
    ] * 20 + [
        ("Cy", "The lunch menu has soup and sandwiches and a salad bar downstairs."),
        ("Di", "Soup and sandwiches for lunch, the salad bar menu looks good."),
    ] * 20
    turns = [Turn(speaker=s, text=t, start=10.0 * n) for n, (s, t) in enumerate(said)]
    topics = understand(turns).topics
    assert [t.start for t in topics] == [0.0, 400.0]
    assert "budget" in topics[0].title.lower() and "lunch" in topics[1].title.lower()


def test_the_same_transcript_gives_the_same_understanding(turns: list[Turn]) -> None:
    """Also in another process with another hash seed: no set or dict order leaks out."""
    first = understand(turns).public()
    assert understand(turns).public() == first
    script = (
        "import json, sys; from understanding.embedded import understand;"
        " from understanding.types import Turn;"
        f" data = json.load(open({str(MEETING)!r}));"
        " turns = [Turn(speaker=t['speaker'], text=t['content'])"
        " for t in data['meeting_transcripts']];"
        " print(json.dumps(understand(turns).public()))"
    )
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout) == first


def test_a_short_meeting_is_summarized_from_what_it_said() -> None:
    result = understand(
        [
            Turn(speaker="Ada", text="Let's ship the Slack integration on Friday."),
            Turn(speaker="Bob", text="Um, yeah."),
        ]
    )
    assert "Ada: Let's ship the Slack integration on Friday." in result.summary
    assert "Slack integration" in result.title


def test_nothing_said() -> None:
    result = understand([Turn(speaker="Ada", text="{vocalsound} um")])
    assert result.summary == "" and result.topics == [] and result.title


async def test_the_engine_composes_commitments(
    turns: list[Turn], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Decisions and action items come from understanding.commitments, with the meeting date."""
    seen: dict[str, Any] = {}

    def extract(turns: list[Turn], *, meeting_date: date | None = None) -> Any:
        seen["date"], seen["turns"] = meeting_date, len(turns)
        return ["Target 15-35 year olds."], [ActionItem(text="Look up prices", owner="Marketing")]

    monkeypatch.setattr(commitments, "extract", extract)
    engine = EmbeddedEngine()
    result = await engine.understand(turns, meeting_date=date(2026, 12, 7), words=80)
    assert engine.name == "embedded" and result.engine == "embedded"
    assert seen == {"date": date(2026, 12, 7), "turns": len(turns)}
    assert result.decisions == ["Target 15-35 year olds."]
    assert result.action_items[0].owner == "Marketing"
    assert len(result.summary.split()) <= 80
    assert embedded.understand(turns, words=80).summary == result.summary


def test_speakers_are_named_without_their_affiliation() -> None:
    said = "The emergency wage subsidy reaches workers in every province of the country."
    result = understand(
        [
            Turn(speaker="Mr. John Barlow (Foothills, CPC)", text=said),
            Turn(speaker="Hon. Bill Morneau", text=said.replace("every", "each")),
        ]
    )
    assert "Mr. John Barlow: The emergency wage subsidy" in result.summary
    assert "CPC" not in result.summary
