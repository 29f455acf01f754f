"""Typed client for any OpenAI-compatible chat-completions endpoint (Ollama, vLLM, llama.cpp's
server, LM Studio, OpenAI, Azure's OpenAI-compatible ``/openai/v1``)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from providers.budget import BudgetLedger, WindowBudget
from providers.errors import ProviderResponseError
from providers.http import Clock, ProviderTransport, RateLimiter, RetryPolicy, Sleep
from providers.llm.models import ChatCompletion, ModelList
from providers.llm.settings import (
    DEFAULT_CONTEXT_TOKENS,
    DEFAULT_REQUESTS_PER_MINUTE,
    DEFAULT_TIMEOUT,
)

#: The name in errors and logs ("model: timed out (ReadTimeout)").
PROVIDER = "model"

#: A model call is slow and its endpoint often a single local GPU: retry once, not three times,
#: so that a dead endpoint falls back to the embedded engine within about two timeouts.
MODEL_RETRY = RetryPolicy(attempts=2, base_delay=1.0, max_delay=10.0, max_wait=30.0)


def llm_rate_limiter(
    requests_per_minute: float = DEFAULT_REQUESTS_PER_MINUTE,
    *,
    ledger: BudgetLedger | None = None,
    clock: Clock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
) -> WindowBudget:
    """Pacing for the model endpoint: ``requests_per_minute`` in any minute.

    Args:
        requests_per_minute: DEBRIEF_LLM_REQUESTS_PER_MINUTE (a hosted API's quota, or what a
            local server can take).
        ledger: where requests are counted; this process only when omitted. Give it the shared
            database ledger (``bot.budgets``) so that every process spends from one budget.
        clock: monotonic time, or wall time for a ledger shared between processes.
        sleep: injectable for tests.
    """
    return WindowBudget(
        requests_per_minute, window=60.0, margin=1.0, ledger=ledger, clock=clock, sleep=sleep
    )


class ChatCompletionsClient:
    """``POST {base}/chat/completions`` with structured outputs; a ``understanding.ChatModel``.

    Args:
        http_client: the shared ``httpx.AsyncClient`` (``providers.http.build_http_client``).
        base_url: the API root (``http://127.0.0.1:11434/v1``); the stand-in's ``api_url`` in
            tests.
        model: the model's name as the server knows it.
        api_key: sent as ``Authorization: Bearer`` when given; never logged.
        context_tokens: how much the model reads at once (callers split longer transcripts).
        timeout: seconds each attempt may take, replacing the shared client's shorter timeout.
        limiter: pacing; :func:`llm_rate_limiter` in this process when omitted.
        retry: retry policy; :data:`MODEL_RETRY` when omitted. A completion changes nothing on
            the server, so timeouts and 5xx are retried like 429s.
        sleep: injectable for tests.
    """

    def __init__(
        self,
        http_client: httpx.AsyncClient,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        context_tokens: int = DEFAULT_CONTEXT_TOKENS,
        timeout: float = DEFAULT_TIMEOUT,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not base_url:
            raise ValueError("the model endpoint's base URL is required")
        if not model:
            raise ValueError("the model's name is required")
        headers = {"Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self.model = model
        self.context_tokens = context_tokens
        self.timeout = timeout
        self._transport = ProviderTransport(
            PROVIDER,
            http_client,
            base_url=base_url,
            headers=headers,
            limiter=limiter or llm_rate_limiter(),
            retry=retry or MODEL_RETRY,
            sleep=sleep,
        )

    @property
    def limiter(self) -> RateLimiter:
        """The limiter pacing this client."""
        return self._transport.limiter

    def request_body(
        self, messages: list[dict[str, str]], *, name: str, schema: dict[str, Any]
    ) -> dict[str, Any]:
        """The JSON body of a structured-outputs request (deterministic: temperature 0)."""
        return {
            "model": self.model,
            "messages": messages,
            "temperature": 0,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": name, "schema": schema, "strict": True},
            },
        }

    async def complete(
        self, messages: list[dict[str, str]], *, name: str, schema: dict[str, Any]
    ) -> ChatCompletion:
        """The whole completion for ``messages``, answered in the JSON ``schema``.

        Raises:
            BadRequest: the server refused the request (an unknown model, a schema it cannot
                enforce, a prompt longer than its context).
            AuthenticationFailed: DEBRIEF_LLM_API_KEY is missing or wrong.
            RateLimited: still throttled after the retries.
            ProviderUnavailable: unreachable, timed out or 5xx after the retries.
            ProviderResponseError: the answer is not a chat completion.
        """
        data = await self._transport.json(
            "POST",
            "chat/completions",
            json=self.request_body(messages, name=name, schema=schema),
            idempotent=True,
            attempt_timeout=self.timeout,
        )
        return self._transport.parse(ChatCompletion, data)

    async def complete_json(
        self, messages: list[dict[str, str]], *, name: str, schema: dict[str, Any]
    ) -> str:
        """The text of the first choice (JSON the caller validates).

        Raises:
            ProviderResponseError: the model refused, or answered no text.
            ProviderError: as :meth:`complete`.
        """
        completion = await self.complete(messages, name=name, schema=schema)
        message = completion.choices[0].message
        if message.refusal:
            raise ProviderResponseError(PROVIDER, f"the model refused: {message.refusal[:200]}")
        if message.content is None:
            raise ProviderResponseError(PROVIDER, "the answer has no content")
        return message.content

    async def list_models(self) -> list[str]:
        """The models the server offers (``GET /models``): a cheap check of URL and key.

        Raises:
            ProviderError: as :meth:`complete`.
        """
        data = await self._transport.json("GET", "models", attempt_timeout=min(self.timeout, 15.0))
        return [entry.id for entry in self._transport.parse(ModelList, data).data]
