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


def run_debrief(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`debrief …` as an operator runs it: a fresh process, in ``cwd``, with only ``env``."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serve_without_settings_lists_every_problem_and_creates_nothing(tmp_path: Path) -> None:
    done = run_debrief("serve", cwd=tmp_path, env={"ATTENDEE_API_KEY": "k", "PORT": "eighty"})
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "PORT cannot be read ('eighty')" in done.stderr
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"):
        assert f"✘ {name} is not set" in done.stderr
    assert list(tmp_path.iterdir()) == [], "nothing is created before the settings are in order"


def test_serve_lists_every_wrong_value_at_once(tmp_path: Path) -> None:
    env = {
        "SLACK_BOT_TOKEN": "not-a-bot-token",
        "SLACK_SIGNING_SECRET": "s",
        "ATTENDEE_API_KEY": "k",
        "DATABASE_URL": "mysql://db/debrief",
        "PUBLIC_URL": "debrief.example.com",
        "DEBRIEF_ENCRYPTION_KEYS": "not-a-key",
    }
    done = run_debrief("serve", cwd=tmp_path, env=env)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "5 setting(s) need attention" in done.stderr
    for name in (
        "SLACK_BOT_TOKEN is not a bot token",
        "ATTENDEE_WEBHOOK_SECRET is not set, though ATTENDEE_API_KEY is",
        "DATABASE_URL names the driver 'mysql'",
        "PUBLIC_URL is not an http(s) URL",
        "DEBRIEF_ENCRYPTION_KEYS holds a value that is not a Fernet key",
    ):
        assert name in done.stderr
    assert "not-a-key" not in done.stderr, "secrets are never shown"
    assert list(tmp_path.iterdir()) == []


def test_doctor_without_settings_marks_each_line_and_leaves_no_file(tmp_path: Path) -> None:
    done = run_debrief("doctor", cwd=tmp_path, env={})
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "INFO" not in done.stderr + done.stdout
    lines = [line.strip() for line in done.stdout.splitlines() if line.startswith("  ")]
    assert lines and all(line[0] in "✔!✘·→" for line in lines), lines
    assert len(lines) == len(set(lines)), "no two lines alike"
    assert "✘ SLACK_BOT_TOKEN is not set" in done.stdout
    assert list(tmp_path.iterdir()) == []


def test_the_earlier_single_webhook_limit_is_still_honoured() -> None:
    from tests.conftest import make_settings

    default = make_settings().body_limits()
    assert default["claritalk"] == 25 * 1024 * 1024 and default["attendee"] == 256 * 1024
    raised = make_settings(max_webhook_bytes=50 * 1024 * 1024).body_limits()
    assert raised["claritalk"] == 50 * 1024 * 1024, "it sized the PDF deliveries"
    assert raised["attendee"] == 256 * 1024, "never above a route's own limit"
    lowered = make_settings(max_webhook_bytes=100_000).body_limits()
    assert set(lowered.values()) - {lowered["slack"]} == {100_000}
    both = make_settings(max_webhook_bytes=100_000, max_claritalk_webhook_bytes=2_000_000)
    assert both.body_limits()["claritalk"] == 100_000
