"""The model-endpoint stand-in over real loopback HTTP: it refuses what strict structured outputs
forbid, answers valid JSON for the schema asked, and can be steered to fail."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jsonschema
import pytest

from sandbox.llm import SANDBOX_MODEL, LLMStandIn, answer_for, read_transcript
from understanding.model import MEETING_SCHEMA, MERGE_SCHEMA

TRANSCRIPT = """\
[00:00] Ada: Welcome everyone, today we look at the pricing launch and the onboarding budget.
[00:12] Grace: The pricing launch slipped because the billing migration is not finished yet.
[01:05] Alan: We agreed to ship pricing on the first of February after the migration.
[01:40] Grace: I'll finish the billing migration by Friday.
[02:30] Ada: Onboarding budget next: marketing wants more for the onboarding videos.
[03:10] Alan: I will draft the onboarding budget proposal for finance."""


def body(schema: dict[str, Any] = MEETING_SCHEMA, **changes: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "model": SANDBOX_MODEL,
        "messages": [
            {"role": "system", "content": "title: at most 3 words; summary: at most 40 words."},
            {"role": "user", "content": TRANSCRIPT},
        ],
        "temperature": 0,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "meeting_understanding", "schema": schema, "strict": True},
        },
    }
    request.update(changes)
    return request


@pytest.fixture
async def llm() -> AsyncIterator[LLMStandIn]:
    standin = LLMStandIn(api_key="sk-sandbox")
    async with standin:
        yield standin


@pytest.fixture
async def client(llm: LLMStandIn) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": "Bearer sk-sandbox", **llm.lock.headers()}
    async with httpx.AsyncClient(base_url=llm.url, headers=headers) as http:
        yield http


def content(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return json.loads(response.json()["choices"][0]["message"]["content"])


async def test_answers_valid_json_for_the_schema_from_the_transcript(
    client: httpx.AsyncClient,
) -> None:
    answer = content(await client.post("/v1/chat/completions", json=body()))
    jsonschema.validate(answer, MEETING_SCHEMA)
    assert "Pricing" in answer["title"] and "Onboarding" in answer["title"]
    assert 20 < len(answer["summary"].split()) <= 40  # the summary's budget, not the title's
    assert answer["action_items"] == [
        {"text": "Finish the billing migration by Friday.", "owner": "Grace", "due": None},
        {"text": "Draft the onboarding budget proposal for finance.", "owner": "Alan", "due": None},
    ]
    assert answer["decisions"] == [
        "We agreed to ship pricing on the first of February after the migration."
    ]
    assert [t["start"] for t in answer["topics"]] == ["00:00", "01:05", "02:30"]


async def test_merge_requests_are_answered_from_the_parts(client: httpx.AsyncClient) -> None:
    parts = "Part 1 of 2\nTitle: A\nSummary: Pricing slipped. More.\n\nPart 2 of 2\nTitle: B\n"
    parts += "Summary: Budget grew. Again."
    request = body(MERGE_SCHEMA)
    request["messages"][1]["content"] = parts
    answer = content(await client.post("/v1/chat/completions", json=request))
    jsonschema.validate(answer, MERGE_SCHEMA)
    assert answer["summary"] == "Pricing slipped. Budget grew."


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"model": ""}, "model parameter"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "role"),
        ({"response_format": {"type": "json_object"}}, "json_schema"),
        ({"response_format": {"type": "json_schema", "json_schema": {"name": "x"}}}, "strict"),
        (
            {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {
                        "name": "x",
                        "strict": True,
                        "schema": {"type": "object", "properties": {"a": {"type": "string"}}},
                    },
                }
            },
            "additionalProperties",
        ),
        (
            {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {
                        "name": "x",
                        "strict": True,
                        "schema": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": [],
                            "properties": {"a": {"type": "string"}},
                        },
                    },
                }
            },
            "required",
        ),
    ],
)
async def test_refuses_requests_strict_outputs_forbid(
    client: httpx.AsyncClient, change: dict[str, Any], reason: str
) -> None:
    response = await client.post("/v1/chat/completions", json=body(**change))
    assert response.status_code == 400
    assert reason in response.json()["error"]["message"]


async def test_refuses_a_wrong_key_an_unknown_model_and_a_prompt_past_its_context(
    llm: LLMStandIn, client: httpx.AsyncClient
) -> None:
    wrong = await client.post(
        "/v1/chat/completions", json=body(), headers={"Authorization": "Bearer nope"}
    )
    assert wrong.status_code == 401
    unknown = await client.post("/v1/chat/completions", json=body(model="gpt-9"))
    assert unknown.status_code == 404
    llm.context_tokens = 100
    long = await client.post("/v1/chat/completions", json=body())
    assert long.status_code == 400
    assert "maximum context length is 100 tokens" in long.json()["error"]["message"]


async def test_models_lists_its_model(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/models")
    assert [m["id"] for m in response.json()["data"]] == [SANDBOX_MODEL]


async def test_control_endpoints_steer_the_next_answers(
    llm: LLMStandIn, client: httpx.AsyncClient
) -> None:
    for kind in ("invalid_json", "schema_invalid", "error", "rate_limited"):
        steered = await client.post("/_sandbox/llm/next", json={"answer": kind})
        assert steered.json()["ok"] is True
    first = await client.post("/v1/chat/completions", json=body())
    with pytest.raises(ValueError):
        json.loads(first.json()["choices"][0]["message"]["content"])
    second = json.loads(
        (await client.post("/v1/chat/completions", json=body())).json()["choices"][0]["message"][
            "content"
        ]
    )
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(second, MEETING_SCHEMA)
    assert (await client.post("/v1/chat/completions", json=body())).status_code == 500
    limited = await client.post("/v1/chat/completions", json=body())
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    jsonschema.validate(
        content(await client.post("/v1/chat/completions", json=body())), MEETING_SCHEMA
    )
    state = (await client.get("/_sandbox/llm/state")).json()
    assert state["calls"] == 5 and state["served"] == 3


async def test_control_endpoints_refuse_nonsense_and_reset(
    llm: LLMStandIn, client: httpx.AsyncClient
) -> None:
    bad = await client.post("/_sandbox/llm/next", json={"answer": "poetry"})
    assert bad.status_code == 400 and "unknown answer" in bad.json()["error"]
    await client.post("/_sandbox/llm/next", json={"answer": "error", "times": 3})
    await client.post("/_sandbox/llm/next", json={"answer": "invalid_json"})
    reset = await client.post("/_sandbox/llm/reset", json={})
    assert reset.json()["next"] == []
    content(await client.post("/v1/chat/completions", json=body()))


async def test_slow_answers_are_held(llm: LLMStandIn, client: httpx.AsyncClient) -> None:
    llm.answer_next("slow", delay=0.5)
    with pytest.raises(httpx.ReadTimeout):
        await client.post("/v1/chat/completions", json=body(), timeout=0.1)


def test_transcript_lines_are_read_back() -> None:
    lines = read_transcript("[01:02] Ada Lovelace: hello there\nnoise\nGrace: hi: you")
    assert [(t.clock, t.speaker, t.text) for t in lines] == [
        ("01:02", "Ada Lovelace", "hello there"),
        (None, "Grace", "hi: you"),
    ]


def test_an_unknown_schema_is_still_answered_validly() -> None:
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["text", "citations", "found", "score"],
        "properties": {
            "text": {"type": "string"},
            "citations": {"type": "array", "items": {"type": "string"}},
            "found": {"type": "boolean"},
            "score": {"type": ["number", "null"]},
        },
    }
    answer = answer_for(schema, [{"role": "user", "content": TRANSCRIPT}])
    jsonschema.validate(answer, schema)
    assert answer["text"]
