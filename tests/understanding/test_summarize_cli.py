"""`debrief summarize FILE...`: one JSON line per file, in order; exit 2 naming a bad file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

MEETING = Path(__file__).resolve().parent / "meetings" / "qmsum_ES2006b.json"
ATTENDEE = Path(__file__).resolve().parents[1] / "payloads" / "attendee" / "api"
KEYS = ["title", "summary", "decisions", "action_items", "topics"]


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    data = json.loads(MEETING.read_text())
    turns = [
        {"speaker": t["speaker"], "text": t["content"], "start": 2.0 * n}
        for n, t in enumerate(data["meeting_transcripts"])
    ]
    meeting = tmp_path / "meeting.json"
    meeting.write_text(json.dumps(turns))
    lines = tmp_path / "standup.txt"
    lines.write_text("Ada: The release is on Friday.\nBob: I will write the release notes.\n")
    return [meeting, lines, ATTENDEE / "transcript_final.json"]


@pytest.fixture(autouse=True)
def no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEBRIEF_LLM_URL", raising=False)


def test_one_json_line_per_file_in_order(
    files: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["summarize", "--words", "60", *map(str, files)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    results = [json.loads(line) for line in lines]
    assert all(list(r) == KEYS for r in results)
    assert "remote control" in results[0]["title"].lower()
    assert len(results[0]["summary"].split()) <= 60
    assert results[0]["topics"][0]["start"] == 0.0
    assert "Ada: The release is on Friday." in results[1]["summary"]
    assert "Slack integration" in results[2]["summary"]


def test_a_bad_file_exits_2_naming_it_and_prints_nothing(
    files: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text('[{"speaker": "Ada"}]')
    assert main(["summarize", str(files[0]), str(bad), str(tmp_path / "gone.txt")]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert f"{bad}: turn 1: text" in err
    assert f"{tmp_path / 'gone.txt'}: no such file" in err
    assert "Traceback" not in err


def test_the_model_engine_needs_a_url(
    files: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["summarize", "--engine", "model", str(files[1])]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "no model configured: set DEBRIEF_LLM_URL" in err


def test_too_few_words_is_a_usage_error(
    files: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["summarize", "--words", "3", str(files[1])]) == 2
    assert "--words must be at least 10" in capsys.readouterr().err


def test_through_the_installed_command(files: list[Path]) -> None:
    """The console script, as a person or a script runs it."""
    debrief = Path(sys.executable).parent / "debrief"
    env = {k: v for k, v in os.environ.items() if k != "DEBRIEF_LLM_URL"}
    ok = subprocess.run(
        [str(debrief), "summarize", str(files[1])], env=env, capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    assert list(json.loads(ok.stdout)) == KEYS
    bad = subprocess.run(
        [str(debrief), "summarize", "--words", "abc", str(files[1])],
        env=env,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "usage: debrief summarize" in bad.stderr
    assert "Traceback" not in bad.stderr


async def test_the_model_engine_through_the_stand_in(
    files: list[Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`--engine model` asks the configured endpoint (here the sandbox's stand-in model)."""
    import asyncio

    from sandbox.llm import COMPLETIONS, LLMStandIn

    monkeypatch.chdir(tmp_path)
    async with LLMStandIn(api_key="sk-cli") as standin:
        monkeypatch.setenv("DEBRIEF_LLM_URL", standin.api_url)
        monkeypatch.setenv("DEBRIEF_LLM_MODEL", standin.model)
        monkeypatch.setenv("DEBRIEF_LLM_API_KEY", "sk-cli")
        debrief = Path(sys.executable).parent / "debrief"
        process = await asyncio.create_subprocess_exec(
            str(debrief),
            "summarize",
            "--engine",
            "model",
            str(files[1]),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
        assert process.returncode == 0, err.decode()
        assert list(json.loads(out)) == KEYS
        assert standin.calls_to(COMPLETIONS), "the model was not asked"
