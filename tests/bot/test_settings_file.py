"""One settings file: `.env` beside the process, environment variables winning, and
`.env.example` listing every setting Debrief reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import Settings, SettingsError, load_settings
from bot.plugins import installed

ROOT = Path(__file__).resolve().parents[2]


def aliases() -> set[str]:
    """Every environment name Debrief reads: the core's and each installed plug-in's."""
    models = [Settings, *(p.settings for p in installed())]
    return {f.alias for model in models for f in model.model_fields.values() if f.alias}


def test_a_dotenv_file_in_the_working_directory_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("SLACK_BOT_TOKEN", "DEBRIEF_DIGEST_CHANNEL", "PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("OTTER_API_KEY", raising=False)
    (tmp_path / ".env").write_text(
        "# comments are fine\nSLACK_BOT_TOKEN=xoxb-from-the-file\n"
        "DEBRIEF_DIGEST_CHANNEL=C0FILE\nPORT=4000\nOTTER_API_KEY=otter-from-the-file\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("PORT", "5000")
    settings = load_settings()
    assert settings.secret("slack_bot_token") == "xoxb-from-the-file"
    assert settings.digest_channel == "C0FILE"
    # A provider's own settings are read from the file too.
    assert settings.secret("otter_api_key") == "otter-from-the-file"
    # The environment wins over the file.
    assert settings.port == 5000


def test_without_a_dotenv_file_nothing_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DEBRIEF_DIGEST_CHANNEL", raising=False)
    assert load_settings().digest_channel is None


def test_a_bad_value_in_the_file_is_named_like_one_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PORT", raising=False)
    (tmp_path / ".env").write_text("PORT=not-a-number\n", encoding="utf-8")
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert [p.setting for p in refused.value.problems] == ["PORT"]


def test_the_example_file_lists_every_setting_and_parses() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    listed = set(re.findall(r"^# ([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))
    missing = aliases() - listed
    assert not missing, f".env.example does not list {sorted(missing)}"
    unknown = listed - aliases()
    assert not unknown, f".env.example lists settings Debrief does not read: {sorted(unknown)}"
    # Every entry has a comment saying what it is, on the line above.
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if re.match(r"^# [A-Z][A-Z0-9_]+=", line):
            assert lines[index - 1].startswith("# ") and "=" not in lines[index - 1][:40], line


def test_the_configuration_page_documents_every_setting() -> None:
    text = (ROOT / "docs" / "CONFIGURATION.md").read_text(encoding="utf-8")
    missing = {name for name in aliases() if f"`{name}`" not in text}
    assert not missing, f"docs/CONFIGURATION.md does not document {sorted(missing)}"
