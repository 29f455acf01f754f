"""Ctrl-C while `debrief` is still loading the app ends it quietly: the entry point itself loads
almost nothing, and what a command runs on is imported where an interrupt is expected."""

from __future__ import annotations

import builtins
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("command", "module"),
    [(["sandbox"], "sandbox.run"), (["serve"], "bot.app"), (["migrate"], "bot.config")],
)
def test_ctrl_c_while_the_app_loads_exits_quietly(
    monkeypatch: pytest.MonkeyPatch, command: list[str], module: str
) -> None:
    """Ctrl-C during the second it takes to import the app: exit status 130, no traceback."""
    real_import = builtins.__import__

    def interrupted(name: str, *args: object, **kwargs: object) -> object:
        if name == module:
            raise KeyboardInterrupt
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", interrupted)
    try:
        status = main(command)
    except KeyboardInterrupt:  # would end the whole test run, not just fail this test
        pytest.fail("the interrupt escaped as a traceback")
    assert status == 130


def test_the_entry_point_loads_neither_the_web_framework_nor_the_settings() -> None:
    """What `import bot.cli` loads is all that an interrupt can meet before main() runs."""
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, bot.cli; print(sorted(m for m in sys.modules"
            " if m.split('.')[0] in ('aiohttp', 'pydantic', 'sqlalchemy', 'slack_bolt')))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "[]"
