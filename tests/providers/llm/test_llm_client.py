"""ChatCompletionsClient against the model stand-in over real loopback HTTP: what it sends, how
it maps failures, and its budget in the shared ledger on both databases."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select

from bot.budgets import SharedBudgets
from bot.store.db import create_engine, create_sessionmaker, transaction
from bot.store.models import RateBudget, RateBudgetSpend
from providers.errors import (
    AuthenticationFailed,
    BadRequest,
    NotFound,
    ProviderResponseError,
    ProviderUnavailable,
    RateLimited,
    ServerError,
)
from providers.http import RetryPolicy
from providers.llm import BUDGET_NAME, ChatCompletionsClient, LLMSettings, build_client
from sandbox.llm import COMPLETIONS, SANDBOX_MODEL, LLMStandIn
from tests.conftest import FakeTime
from understanding.model import MEETING_SCHEMA

KEY = "sk-test-0123456789abcdef"
MESSAGES = [
    {"role": "system", "content": "Summarise in at most 30 words."},
    {"role": "user", "content": "[00:05] Ada: I'll send the pricing draft to legal."},
]
ONCE = RetryPolicy(attempts=1)


@pytest.fixture
async def llm() -> AsyncIterator[LLMStandIn]:
    standin = LLMStandIn(api_key=KEY)
    async with standin:
        yield standin


def client_for(
    llm: LLMStandIn, http: httpx.AsyncClient, *, key: str | None = KEY, **kwargs: object
) -> ChatCompletionsClient:
    return ChatCompletionsClient(
        http,
        base_url=llm.api_url,
        model=SANDBOX_MODEL,
        api_key=key,
        **kwargs,  # type: ignore[arg-type]
    )


async def test_sends_a_strict_structured_outputs_request_with_the_bearer_key(
    llm: LLMStandIn, http: httpx.AsyncClient
) -> None:
    text = await client_for(llm, http).complete_json(
        MESSAGES, name="meeting_understanding", schema=MEETING_SCHEMA
    )
    assert '"owner": "Ada"' in text
    [call] = llm.calls_to(COMPLETIONS, "POST")
    assert call.headers["Authorization"] == f"Bearer {KEY}"
    assert call.json == {
        "model": SANDBOX_MODEL,
        "messages": MESSAGES,
        "temperature": 0,
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "meeting_understanding",
                "schema": MEETING_SCHEMA,
                "strict": True,
            },
        },
    }


async def test_sends_no_authorization_without_a_key(
    llm: LLMStandIn, http: httpx.AsyncClient
) -> None:
    llm.api_key = None
    await client_for(llm, http, key=None).complete_json(MESSAGES, name="m", schema=MEETING_SCHEMA)
    [call] = llm.calls_to(COMPLETIONS)
    assert "Authorization" not in call.headers


async def test_lists_the_models(llm: LLMStandIn, http: httpx.AsyncClient) -> None:
    assert await client_for(llm, http).list_models() == [SANDBOX_MODEL]


async def test_client_errors_are_mapped_and_not_retried(
    llm: LLMStandIn, http: httpx.AsyncClient
) -> None:
    with pytest.raises(AuthenticationFailed):
        await client_for(llm, http, key="sk-wrong").complete_json(
            MESSAGES, name="m", schema=MEETING_SCHEMA
        )
    with pytest.raises(BadRequest, match="must be an object schema"):
        await client_for(llm, http).complete_json(MESSAGES, name="m", schema={"type": "string"})
    wrong_model = ChatCompletionsClient(http, base_url=llm.api_url, model="gpt-9", api_key=KEY)
    with pytest.raises(NotFound):
        await wrong_model.complete_json(MESSAGES, name="m", schema=MEETING_SCHEMA)
    assert len(llm.calls_to(COMPLETIONS)) == 3
    assert not AuthenticationFailed.retryable and not BadRequest.retryable


async def test_5xx_and_429_are_retried_then_raised_as_retryable(
    llm: LLMStandIn, http: httpx.AsyncClient
) -> None:
    t = FakeTime()
    client = client_for(llm, http, sleep=t.sleep)
    llm.answer_next("error")
    assert await client.complete_json(MESSAGES, name="m", schema=MEETING_SCHEMA)
    assert len(llm.calls_to(COMPLETIONS)) == 2
    llm.answer_next("error", 2)
    with pytest.raises(ServerError) as server:
        await client.complete_json(MESSAGES, name="m", schema=MEETING_SCHEMA)
    assert server.value.retryable
    llm.answer_next("rate_limited", 2)
    with pytest.raises(RateLimited) as limited:
        await client.complete_json(MESSAGES, name="m", schema=MEETING_SCHEMA)
    assert limited.value.retryable and limited.value.retry_after == 1.0
    assert 1.0 in t.sleeps  # Retry-After honoured between the two attempts


async def test_a_slow_model_times_out_as_unavailable(
    llm: LLMStandIn, http: httpx.AsyncClient
) -> None:
    llm.answer_next("slow", delay=1.0)
    client = client_for(llm, http, timeout=0.2, retry=ONCE)
    with pytest.raises(ProviderUnavailable, match="timed out"):
        await client.complete_json(MESSAGES, name="m", schema=MEETING_SCHEMA)


async def test_an_unreachable_endpoint_is_unavailable(http: httpx.AsyncClient) -> None:
    client = ChatCompletionsClient(http, base_url="http://127.0.0.1:9/v1", model="m", retry=ONCE)
    with pytest.raises(ProviderUnavailable, match="unreachable"):
        await client.complete_json(MESSAGES, name="m", schema=MEETING_SCHEMA)


async def test_a_refusal_or_an_empty_answer_is_a_response_error() -> None:
    def answer(message: dict[str, object]) -> httpx.Response:
        return httpx.Response(200, json={"choices": [{"index": 0, "message": message}]})

    for message, reason in (
        ({"role": "assistant", "content": None, "refusal": "I can't help"}, "refused"),
        ({"role": "assistant", "content": None}, "no content"),
    ):
        transport = httpx.MockTransport(lambda request, m=message: answer(m))
        async with httpx.AsyncClient(transport=transport) as http:
            client = ChatCompletionsClient(http, base_url="http://model/v1", model="m")
            with pytest.raises(ProviderResponseError, match=reason):
                await client.complete_json(MESSAGES, name="m", schema=MEETING_SCHEMA)
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"choices": []}))
    async with httpx.AsyncClient(transport=transport) as http:
        client = ChatCompletionsClient(http, base_url="http://model/v1", model="m")
        with pytest.raises(ProviderResponseError, match="ChatCompletion"):
            await client.complete_json(MESSAGES, name="m", schema=MEETING_SCHEMA)


async def test_the_key_never_reaches_the_log(
    llm: LLMStandIn, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    llm.answer_next("error", 2)
    with pytest.raises(ServerError) as failure:
        await client_for(llm, http, sleep=FakeTime().sleep).complete_json(
            MESSAGES, name="m", schema=MEETING_SCHEMA
        )
    assert caplog.records
    assert KEY not in caplog.text and KEY not in str(failure.value)


def test_settings_read_the_environment_and_hide_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEBRIEF_LLM_URL", "http://127.0.0.1:11434/v1/")
    monkeypatch.setenv("DEBRIEF_LLM_MODEL", "llama3.1:8b")
    monkeypatch.setenv("DEBRIEF_LLM_API_KEY", KEY)
    monkeypatch.setenv("DEBRIEF_LLM_TIMEOUT", "90")
    monkeypatch.setenv("DEBRIEF_LLM_CONTEXT_TOKENS", "32768")
    monkeypatch.setenv("DEBRIEF_LLM_REQUESTS_PER_MINUTE", "20")
    settings = LLMSettings()
    assert settings.url == "http://127.0.0.1:11434/v1"
    assert (settings.model, settings.key(), settings.timeout) == ("llama3.1:8b", KEY, 90.0)
    assert (settings.context_tokens, settings.requests_per_minute) == (32768, 20.0)
    assert KEY not in repr(settings)


def test_settings_refuse_a_url_without_a_model_or_a_bad_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("DEBRIEF_LLM_URL", "DEBRIEF_LLM_MODEL"):
        monkeypatch.delenv(name, raising=False)
    assert not LLMSettings().enabled
    with pytest.raises(ValueError, match="must name the model"):
        LLMSettings(url="http://127.0.0.1:11434/v1")
    with pytest.raises(ValueError, match="http"):
        LLMSettings(url="ftp://models", model="m")


async def test_budget_is_spent_in_the_shared_ledger(
    llm: LLMStandIn, http: httpx.AsyncClient, database_url: str
) -> None:
    engine = create_engine(database_url)
    try:
        sessions = create_sessionmaker(engine)
        settings = LLMSettings(
            url=llm.api_url, model=SANDBOX_MODEL, api_key=KEY, requests_per_minute=2
        )
        t = FakeTime(wall0=1_700_000_000.0)
        budgets = SharedBudgets(sessions, clock=t.wall, sleep=t.sleep)
        client = build_client(settings, http, budgets)
        assert client is not None
        for _ in range(3):
            await client.complete_json(MESSAGES, name="m", schema=MEETING_SCHEMA)
        async with transaction(sessions) as session:
            spent = await session.scalar(
                select(func.count()).where(RateBudgetSpend.budget == BUDGET_NAME)
            )
            units = await session.scalar(
                select(RateBudget.units).where(RateBudget.name == BUDGET_NAME)
            )
        assert (spent, units) == (3, 2.0)
        # Two a minute: the third request waited for the first to leave the window.
        assert sum(t.sleeps) >= 60.0
        assert len(llm.calls_to(COMPLETIONS)) == 3
    finally:
        await engine.dispose()


def test_no_client_without_a_url(http: httpx.AsyncClient) -> None:
    assert build_client(LLMSettings(url=None, model=None), http) is None
