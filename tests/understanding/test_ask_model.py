"""understanding.ask.answer_with_model through a tiny ChatModel that replies from a script."""

from __future__ import annotations

import json
from typing import Any

from understanding.ask import NOT_FOUND, SCHEMA, answer, answer_with_model
from understanding.types import Passage


class ScriptedChat:
    """A ChatModel that records what it was sent and replies with the next scripted text."""

    def __init__(self, *replies: str, context_tokens: int = 8000) -> None:
        self.replies = list(replies)
        self.context_tokens = context_tokens
        self.calls: list[dict[str, Any]] = []

    async def complete_json(
        self, messages: list[dict[str, str]], *, name: str, schema: dict[str, Any]
    ) -> str:
        self.calls.append({"messages": [dict(m) for m in messages], "name": name, "schema": schema})
        return self.replies.pop(0)


def reply(text: str, citations: list[int], found: bool = True) -> str:
    return json.dumps({"answer": text, "citations": citations, "found": found})


PASSAGES = [
    Passage(ref="m1#0", text="Ada: Lunch is at noon on Fridays.", meeting_title="Standup", start=0),
    Passage(
        ref="m1#1",
        text="Grace: The budget for the launch is ten thousand euros.\nAda: Agreed.",
        meeting_title="Standup",
        start=60,
    ),
    Passage(
        ref="m2#4",
        text="Alan: Marketing asked to raise the launch budget next quarter.",
        meeting_title="Planning",
        start=300,
    ),
]
QUESTION = "What is the launch budget?"


async def test_the_model_answers_from_numbered_passages_and_its_citations_become_refs() -> None:
    chat = ScriptedChat(reply("Grace said the launch budget is ten thousand euros.", [1, 2]))
    result = await answer_with_model(chat, QUESTION, PASSAGES)
    assert result.found and result.engine == "model"
    assert result.text == "Grace said the launch budget is ten thousand euros."
    [call] = chat.calls
    assert call["name"] == "meeting_answer" and call["schema"] == SCHEMA
    prompt = call["messages"][-1]["content"]
    # Best first: the two budget passages are [1] and [2]; lunch comes last or not at all.
    assert prompt.index("[1] (Standup)\nGrace: The budget") < prompt.index("[2] (Planning)")
    assert prompt.rstrip().endswith(f"Question: {QUESTION}")
    assert result.citations == ["m1#1", "m2#4"]


async def test_citations_outside_the_passages_are_refused_and_asked_again_once() -> None:
    chat = ScriptedChat(
        reply("The budget is ten thousand euros.", [1, 9]),
        reply("The budget is ten thousand euros.", [1]),
    )
    result = await answer_with_model(chat, QUESTION, PASSAGES)
    assert result.citations == ["m1#1"] and result.engine == "model"
    second = chat.calls[1]["messages"]
    assert second[-2] == {
        "role": "assistant",
        "content": reply("The budget is ten thousand euros.", [1, 9]),
    }
    assert "[9]" in second[-1]["content"] and second[-1]["role"] == "user"


async def test_a_reply_that_is_not_the_schema_is_asked_again() -> None:
    chat = ScriptedChat("Sure! The budget is 10k.", reply("It is ten thousand euros.", [1]))
    result = await answer_with_model(chat, QUESTION, PASSAGES)
    assert result.text == "It is ten thousand euros." and len(chat.calls) == 2


async def test_a_found_answer_without_citations_is_invalid() -> None:
    chat = ScriptedChat(reply("Ten thousand euros.", []), reply("Ten thousand euros.", [1]))
    result = await answer_with_model(chat, QUESTION, PASSAGES)
    assert result.citations == ["m1#1"] and len(chat.calls) == 2


async def test_two_invalid_replies_give_the_embedded_answer() -> None:
    chat = ScriptedChat("nope", json.dumps({"answer": "x"}))
    result = await answer_with_model(chat, QUESTION, PASSAGES)
    assert result == answer(QUESTION, PASSAGES)
    assert result.engine == "embedded" and len(chat.calls) == 2


async def test_the_model_may_say_the_passages_do_not_answer() -> None:
    chat = ScriptedChat(reply("The passages do not say.", [], found=False))
    result = await answer_with_model(chat, "What is the launch budget's currency code?", PASSAGES)
    assert not result.found and result.citations == [] and result.engine == "model"


async def test_nothing_relevant_means_no_call_and_no_guess() -> None:
    chat = ScriptedChat()
    result = await answer_with_model(chat, "Who won the football on Sunday?", PASSAGES)
    assert not result.found and result.text == NOT_FOUND and chat.calls == []
    assert not (await answer_with_model(chat, QUESTION, [])).found


async def test_a_small_context_gets_fewer_passages() -> None:
    chat = ScriptedChat(reply("Ten thousand euros.", [1]), context_tokens=1200 + 30)
    await answer_with_model(chat, QUESTION, PASSAGES)
    prompt = chat.calls[0]["messages"][-1]["content"]
    assert "[1]" in prompt and "[2]" not in prompt
