"""The model endpoint's settings as the core reads them: loaded with the rest, refused with a
reason (never a traceback), its key redacted, and a `debrief doctor` line."""

from __future__ import annotations

import io

import pytest

from bot.config import SettingsError, load_settings
from bot.doctor import run_doctor
from providers.llm import LLMSettings
from sandbox.llm import LLMStandIn
from tests.conftest import make_settings

KEY = "sk-doctor-0123456789"


def test_the_settings_load_the_model_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEBRIEF_LLM_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("DEBRIEF_LLM_MODEL", "llama3.1:8b")
    monkeypatch.setenv("DEBRIEF_LLM_API_KEY", KEY)
    settings = load_settings()
    assert settings.llm.enabled and settings.llm.model == "llama3.1:8b"
    assert KEY in settings.secret_values()
    assert [p for p in settings.problems() if "LLM" in p.setting] == []


@pytest.mark.parametrize(
    ("env", "setting", "words"),
    [
        ({"DEBRIEF_LLM_URL": "http://127.0.0.1:11434/v1"}, "DEBRIEF_LLM_MODEL", "must name"),
        ({"DEBRIEF_LLM_URL": "ollama:11434"}, "DEBRIEF_LLM_URL", "http(s) URL"),
        ({"DEBRIEF_LLM_TIMEOUT": "soon"}, "DEBRIEF_LLM_TIMEOUT", "cannot be read ('soon')"),
        ({"DEBRIEF_LLM_CONTEXT_TOKENS": "12"}, "DEBRIEF_LLM_CONTEXT_TOKENS", "512"),
    ],
)
def test_a_bad_value_is_a_problem_with_a_fix_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], setting: str, words: str
) -> None:
    for name in ("DEBRIEF_LLM_URL", "DEBRIEF_LLM_MODEL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()  # reading never raises: the engine stays off
    assert not settings.llm.enabled
    with pytest.raises(SettingsError) as refused:
        load_settings(check=True)
    [problem] = [p for p in refused.value.problems if p.setting == setting]
    assert words in problem.problem and "unset DEBRIEF_LLM_URL" in problem.fix


async def test_doctor_says_whether_the_model_is_configured() -> None:
    out = io.StringIO()
    await run_doctor(make_settings(llm=LLMSettings(url=None, model=None)), online=False, out=out)
    assert "· Model engine: off (to turn it on, set DEBRIEF_LLM_URL" in out.getvalue()
    out = io.StringIO()
    llm = LLMSettings(url="http://127.0.0.1:11434/v1", model="qwen2.5:7b", api_key=KEY)
    await run_doctor(make_settings(llm=llm), online=False, out=out)
    line = "✔ Model engine: on (qwen2.5:7b at http://127.0.0.1:11434/v1, with DEBRIEF_LLM_API_KEY)"
    assert line in out.getvalue() and KEY not in out.getvalue()


async def test_doctor_online_tries_the_key() -> None:
    async with LLMStandIn(api_key=KEY) as standin:
        assert isinstance(standin, LLMStandIn)
        good = LLMSettings(url=standin.api_url, model="sandbox-llm", api_key=KEY)
        out = io.StringIO()
        await run_doctor(make_settings(llm=good), online=True, out=out)
        assert "✔ The model endpoint: DEBRIEF_LLM_API_KEY works" in out.getvalue()
