"""The model endpoint's settings as the core reads them (a plug-in's section,
``handlers/model``): loaded with the rest, refused with a reason (never a traceback), its key
redacted, and a `debrief doctor` line."""

from __future__ import annotations

import io

import pytest

from bot.config import SettingsError, load_settings
from bot.doctor import run_doctor
from handlers.model.settings import model_settings
from sandbox.llm import LLMStandIn
from tests.conftest import make_settings

KEY = "sk-doctor-0123456789"


def test_the_settings_load_the_model_endpoint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.chdir(str(tmp_path))
    monkeypatch.setenv("DEBRIEF_LLM_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("DEBRIEF_LLM_MODEL", "llama3.1:8b")
    monkeypatch.setenv("DEBRIEF_LLM_API_KEY", KEY)
    settings = load_settings()
    own = model_settings(settings)
    assert own.enabled and own.model == "llama3.1:8b"
    assert KEY in settings.secret_values()
    assert [p for p in settings.problems() if "LLM" in p.setting] == []


@pytest.mark.parametrize(
    ("env", "setting", "words"),
    [
        ({"DEBRIEF_LLM_URL": "http://127.0.0.1:11434/v1"}, "DEBRIEF_LLM_MODEL", "must name"),
        ({"DEBRIEF_LLM_URL": "ollama:11434"}, "DEBRIEF_LLM_URL", "http(s) URL"),
        ({"DEBRIEF_LLM_TIMEOUT": "soon"}, "DEBRIEF_LLM_TIMEOUT", "('soon')"),
        ({"DEBRIEF_LLM_CONTEXT_TOKENS": "12"}, "DEBRIEF_LLM_CONTEXT_TOKENS", "512"),
    ],
)
def test_a_bad_value_is_a_problem_with_a_fix_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: object,
    env: dict[str, str],
    setting: str,
    words: str,
) -> None:
    monkeypatch.chdir(str(tmp_path))
    for name in ("DEBRIEF_LLM_URL", "DEBRIEF_LLM_MODEL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as refused:
        load_settings(check=True)
    [problem] = [p for p in refused.value.problems if p.setting == setting]
    assert words in problem.problem and problem.fix


async def test_doctor_says_whether_the_model_is_configured() -> None:
    out = io.StringIO()
    await run_doctor(make_settings(), online=False, out=out)
    assert "· Model engine: off (to turn it on, set DEBRIEF_LLM_URL" in out.getvalue()
    out = io.StringIO()
    on = make_settings(
        DEBRIEF_LLM_URL="http://127.0.0.1:11434/v1",
        DEBRIEF_LLM_MODEL="qwen2.5:7b",
        DEBRIEF_LLM_API_KEY=KEY,
    )
    await run_doctor(on, online=False, out=out)
    assert "✔ Model engine: on" in out.getvalue() and KEY not in out.getvalue()


async def test_doctor_online_tries_the_key() -> None:
    async with LLMStandIn(api_key=KEY) as standin:
        assert isinstance(standin, LLMStandIn)
        good = make_settings(
            DEBRIEF_LLM_URL=standin.api_url,
            DEBRIEF_LLM_MODEL="sandbox-llm",
            DEBRIEF_LLM_API_KEY=KEY,
        )
        out = io.StringIO()
        await run_doctor(good, online=True, out=out)
        assert "✔ The model endpoint: DEBRIEF_LLM_API_KEY works" in out.getvalue()
