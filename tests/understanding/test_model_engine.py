"""ModelEngine against the model stand-in over real HTTP (and a scripted ChatModel where a test
needs answers no server would give): prompt, schema, re-asks, chunking and fallback."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import jsonschema
import pytest

from providers.http import RetryPolicy
from providers.llm import ChatCompletionsClient, LLMSettings, build_engine
from sandbox.llm import COMPLETIONS, SANDBOX_MODEL, LLMStandIn
from tests.understanding.conftest import FirstLineEngine
from understanding.model import (
    MEETING_SCHEMA,
    MERGE_SCHEMA,
    REFUSED,
    UNREACHABLE,
    UNUSABLE,
    ModelEngine,
    split_turns,
    strict_schema,
    transcript_line,
)
from understanding.types import ActionItem, Topic, Turn

MONDAY = date(2026, 12, 7)
TURNS = [
    Turn(
        speaker="Ada", text="Welcome, today: the pricing launch and the onboarding budget.", start=0
    ),
    Turn(speaker="Grace", text="Pricing slipped because the billing migration is late.", start=12),
    Turn(speaker="Alan", text="We agreed to ship pricing after the migration.", start=65),
    Turn(speaker="Grace", text="I'll finish the billing migration by Friday.", start=100),
    Turn(speaker="Ada", text="Onboarding budget: marketing wants more for videos.", start=150),
    Turn(speaker="Alan", text="I will draft the onboarding budget proposal.", start=190),
]


@pytest.fixture
async def llm() -> AsyncIterator[LLMStandIn]:
    standin = LLMStandIn()
    async with standin:
        yield standin


def engine_for(
    llm: LLMStandIn, http: httpx.AsyncClient, **kwargs: Any
) -> tuple[ModelEngine, FirstLineEngine]:
    fallback = FirstLineEngine()
    client = ChatCompletionsClient(
        http,
        base_url=llm.api_url,
        model=SANDBOX_MODEL,
        retry=RetryPolicy(attempts=1),
        **kwargs,
    )
    return ModelEngine(client, fallback), fallback


class Scripted:
    """A ChatModel answering from a script, recording every request."""

    def __init__(self, *answers: str, context_tokens: int = 8192) -> None:
        self.answers = list(answers)
        self.requests: list[tuple[list[dict[str, str]], str, dict[str, Any]]] = []
        self.context_tokens = context_tokens

    async def complete_json(
        self, messages: list[dict[str, str]], *, name: str, schema: dict[str, Any]
    ) -> str:
        self.requests.append((messages, name, schema))
        return self.answers.pop(0)


def good(**changes: Any) -> str:
    answer: dict[str, Any] = {
        "title": "Pricing launch",
        "summary": "Grace will finish the migration.",
        "decisions": ["Ship pricing after the migration."],
        "action_items": [
            {"text": "Finish the billing migration", "owner": "Grace", "due": "2026-12-11"}
        ],
        "topics": [{"title": "Pricing", "start": "00:12"}, {"title": "Budget", "start": "02:30"}],
    }
    answer.update(changes)
    return json.dumps(answer)


async def test_the_model_understands_a_meeting(llm: LLMStandIn, http: httpx.AsyncClient) -> None:
    engine, fallback = engine_for(llm, http)
    result = await engine.understand(TURNS, meeting_date=MONDAY, words=40)
    assert result.engine == "model" and result.notice is None and not fallback.calls
    assert "Pricing" in result.title
    assert result.action_items == [
        ActionItem(text="Finish the billing migration by Friday.", owner="Grace"),
        ActionItem(text="Draft the onboarding budget proposal.", owner="Alan"),
    ]
    assert result.decisions == ["We agreed to ship pricing after the migration."]
    assert [t.start for t in result.topics] == [0.0, 65.0, 150.0]
    [body] = llm.completions()
    system, user = body["messages"]
    assert system["role"] == "system" and "at most 40 words" in system["content"]
    assert "Monday 2026-12-07" in system["content"]
    assert user == {"role": "user", "content": "\n".join(transcript_line(t) for t in TURNS)}
    assert user["content"].splitlines()[3] == (
        "[01:40] Grace: I'll finish the billing migration by Friday."
    )
    assert body["response_format"]["json_schema"]["strict"] is True


def test_the_schema_is_strict() -> None:
    def objects(node: Any) -> list[dict[str, Any]]:
        found = []
        if isinstance(node, dict):
            if node.get("type") == "object":
                found.append(node)
            for value in node.values():
                found.extend(objects(value))
        elif isinstance(node, list):
            for value in node:
                found.extend(objects(value))
        return found

    for schema in (MEETING_SCHEMA, MERGE_SCHEMA):
        assert "$defs" not in json.dumps(schema) and "$ref" not in json.dumps(schema)
        for node in objects(schema):
            assert node["additionalProperties"] is False
            assert node["required"] == list(node["properties"])
        assert "default" not in json.dumps(schema)
    item = MEETING_SCHEMA["properties"]["action_items"]["items"]["properties"]
    assert item["owner"]["type"] == ["string", "null"] and item["due"]["type"] == ["string", "null"]
    topic = MEETING_SCHEMA["properties"]["topics"]["items"]["properties"]
    assert set(topic) == {"title", "start"}
    jsonschema.validate(json.loads(good()), MEETING_SCHEMA)
    assert strict_schema(Topic)["required"] == ["title", "start"]


async def test_dates_and_times_are_parsed() -> None:
    chat = Scripted(good())
    result = await ModelEngine(chat, FirstLineEngine()).understand(TURNS, meeting_date=MONDAY)
    assert result.action_items[0].due == date(2026, 12, 11)
    assert [t.start for t in result.topics] == [12.0, 150.0]


async def test_an_invalid_answer_is_asked_again_with_the_error(
    llm: LLMStandIn, http: httpx.AsyncClient
) -> None:
    llm.answer_next("schema_invalid")
    engine, fallback = engine_for(llm, http)
    result = await engine.understand(TURNS, words=40)
    assert result.engine == "model" and not fallback.calls
    first, second = llm.completions()
    assert second["messages"][:2] == first["messages"]
    assert second["messages"][2] == {
        "role": "assistant",
        "content": json.dumps({"title": 42, "unexpected": True}),
    }
    reask = second["messages"][3]
    assert reask["role"] == "user"
    assert "title: Input should be a valid string" in reask["content"]
    assert "summary: Field required" in reask["content"]
    assert "unexpected: Extra inputs are not permitted" in reask["content"]


async def test_a_bad_date_and_a_long_summary_are_asked_again() -> None:
    chat = Scripted(
        good(action_items=[{"text": "x", "owner": None, "due": "next Friday"}]),
        good(summary="word " * 500),
        good(),
    )
    result = await ModelEngine(chat, FirstLineEngine()).understand(TURNS, words=40)
    assert result.engine == "model"
    assert "'next Friday' is not a date as YYYY-MM-DD" in chat.requests[1][0][-1]["content"]
    assert "500 words, but at most 40" in chat.requests[2][0][-1]["content"]


async def test_a_fenced_answer_is_accepted() -> None:
    chat = Scripted(f"```json\n{good()}\n```")
    result = await ModelEngine(chat, FirstLineEngine()).understand(TURNS)
    assert result.engine == "model" and len(chat.requests) == 1


async def test_invalid_forever_falls_back_after_two_reasks(
    llm: LLMStandIn, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    llm.answer_next("invalid_json", 5)
    engine, fallback = engine_for(llm, http)
    result = await engine.understand(TURNS)
    assert len(llm.completions()) == 3
    assert result.engine == "embedded" and result.title.startswith("fallback:")
    assert result.notice == UNUSABLE and fallback.calls == [TURNS]
    assert "still invalid after 2 re-asks" in caplog.text


@pytest.mark.parametrize("failure", ["error", "rate_limited"])
async def test_a_failing_endpoint_falls_back_with_a_notice(
    llm: LLMStandIn, http: httpx.AsyncClient, failure: str, caplog: pytest.LogCaptureFixture
) -> None:
    llm.answer_next(failure)
    engine, fallback = engine_for(llm, http)
    result = await engine.understand(TURNS)
    assert result.engine == "embedded" and result.notice == UNREACHABLE
    assert "could not be reached" in result.notice and len(fallback.calls) == 1
    assert "model engine failed" in caplog.text


async def test_a_timeout_falls_back_with_a_notice(llm: LLMStandIn, http: httpx.AsyncClient) -> None:
    llm.answer_next("slow", delay=1.0)
    engine, _ = engine_for(llm, http, timeout=0.2)
    result = await engine.understand(TURNS)
    assert result.engine == "embedded" and result.notice == UNREACHABLE


async def test_a_refused_request_falls_back_saying_so(
    llm: LLMStandIn, http: httpx.AsyncClient
) -> None:
    llm.model = "another-model"  # the endpoint answers 404 to ours
    engine, _ = engine_for(llm, http)
    result = await engine.understand(TURNS)
    assert result.notice == REFUSED


async def test_a_long_transcript_is_split_understood_in_parts_and_merged(
    llm: LLMStandIn, http: httpx.AsyncClient
) -> None:
    # A context of 1024 tokens holds about 2450 characters of transcript; the stand-in refuses
    # any request past it, so one unsplit request would fail.
    llm.context_tokens = 2048
    turns = [
        Turn(
            speaker=("Ada", "Grace", "Alan")[i % 3],
            text=f"Item {i}: we reviewed the quarterly figures for region {i} in detail. "
            + ("I'll send the region report. " if i % 12 == 0 else "")
            + "There is much to say about churn, pricing and support load this quarter.",
            start=i * 30.0,
        )
        for i in range(60)
    ]
    engine, fallback = engine_for(llm, http, context_tokens=1024)
    result = await engine.understand(turns, words=60)
    assert result.engine == "model" and not fallback.calls
    bodies = llm.completions()
    names = [b["response_format"]["json_schema"]["name"] for b in bodies]
    parts = len(split_turns(turns, engine.max_chars))
    assert parts >= 3
    assert names == ["meeting_understanding"] * parts + ["meeting_merge"]
    assert f"part 1 of {parts}" in bodies[0]["messages"][0]["content"]
    # Every turn went to the model exactly once, in order, split on turn boundaries.
    sent = [line for b in bodies[:-1] for line in b["messages"][1]["content"].splitlines()]
    assert sent == [transcript_line(t) for t in turns]
    merge = bodies[-1]["messages"][1]["content"]
    assert merge.startswith(f"Part 1 of {parts}\nTitle: ")
    assert len(result.summary.split()) <= 60
    # The same commitment (or topic) found in several parts is kept once, where it first came.
    assert result.action_items == [ActionItem(text="Send the region report.", owner="Ada")]
    titles = [t.title for t in result.topics]
    assert len(titles) == len(set(titles)) and result.topics[0].start == 0.0


async def test_a_huge_single_turn_is_cut_on_spaces() -> None:
    turn = Turn(speaker="Ada", text="word " * 2000, start=5)
    parts = split_turns([turn], 1000)
    assert len(parts) > 5 and all(len(transcript_line(p[0])) < 1000 for p in parts)
    assert sum(len(p[0].text.split()) for p in parts) == 2000


async def test_no_words_go_to_the_fallback_without_calling_the_model() -> None:
    chat = Scripted()
    fallback = FirstLineEngine()
    result = await ModelEngine(chat, fallback).understand([Turn(speaker="A", text=" ")])
    assert result.engine == "embedded" and result.notice is None
    assert not chat.requests and len(fallback.calls) == 1


async def test_build_engine_picks_the_model_only_when_configured(
    llm: LLMStandIn, http: httpx.AsyncClient
) -> None:
    fallback = FirstLineEngine()
    assert build_engine(LLMSettings(url=None, model=None), http, None, fallback) is fallback
    engine = build_engine(
        LLMSettings(url=llm.api_url, model=SANDBOX_MODEL, context_tokens=4096), http, None, fallback
    )
    assert isinstance(engine, ModelEngine) and engine.name == "model"
    assert engine.chat.context_tokens == 4096
    result = await engine.understand(TURNS)
    assert result.engine == "model"
    assert llm.calls_to(COMPLETIONS)


async def test_the_fallback_is_logged_without_a_traceback_for_known_failures(
    llm: LLMStandIn, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    llm.answer_next("error")
    engine, _ = engine_for(llm, http)
    await engine.understand(TURNS)
    [record] = [r for r in caplog.records if "model engine failed" in r.getMessage()]
    assert not record.exc_info and "ServerError" in record.getMessage()


async def test_too_many_parts_for_one_merge_are_merged_in_rounds(
    llm: LLMStandIn, http: httpx.AsyncClient
) -> None:
    turns = [
        Turn(
            speaker=("Ada", "Grace")[i % 2],
            text=f"Point {i}: the supplier contract for warehouse {i} needs a careful second "
            "reading before anyone signs it, because the penalties changed again.",
            start=i * 20.0,
        )
        for i in range(80)
    ]
    engine, _ = engine_for(llm, http, context_tokens=600)
    result = await engine.understand(turns, words=60)
    assert result.engine == "model"
    bodies = llm.completions()
    merges = [b for b in bodies if b["response_format"]["json_schema"]["name"] == "meeting_merge"]
    parts = len(split_turns(turns, engine.max_chars))
    assert len(bodies) == parts + len(merges) and len(merges) >= 3
    # Every merge request fits what the model reads; the last one merges the rounds before it.
    for body in merges:
        assert len(body["messages"][1]["content"]) <= engine.max_chars + 1200
    assert merges[-1]["messages"][1]["content"].startswith("Part 1 of ")
    assert bodies[-1] is merges[-1]
