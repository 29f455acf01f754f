"""A local stand-in for an OpenAI-compatible chat-completions server (Ollama, vLLM, OpenAI …).

``POST /v1/chat/completions`` checks what a strict structured-outputs request must carry (model,
messages, ``response_format`` of type ``json_schema`` with ``strict: true`` and a closed schema),
refuses a prompt longer than its context, and answers with JSON valid for the requested schema,
made deterministically from the transcript in the prompt: no model, no weights. ``GET /v1/models``
lists its one model. Error bodies are OpenAI's: ``{"error": {"message", "type", "code"}}``.

Tests and the sandbox page steer it through ``/_sandbox/llm/…``: ``POST next`` makes the next
answers ``invalid_json``, ``schema_invalid``, ``error`` (500), ``rate_limited`` (429) or ``slow``;
``GET state`` shows the calls; ``POST reset`` forgets the steering.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from collections import Counter, deque
from typing import Any

from aiohttp import web

from sandbox.lock import SandboxLock
from sandbox.plugin import Setup, StandInPlugin
from sandbox.server import StandIn

SANDBOX_MODEL = "sandbox-llm"
COMPLETIONS = "/v1/chat/completions"
#: What the stand-in's answers can be told to be, besides right.
ANSWERS = ("invalid_json", "schema_invalid", "error", "rate_limited", "slow")

_LINE = re.compile(
    r"^(?:\[(?P<clock>\d+:\d{2}(?::\d{2})?)\]\s*)?(?P<speaker>[^:\[\]]{1,80}):\s+(?P<text>.+)$"
)
_WORDS_BUDGET = re.compile(r"(?:summary: )?at most (\d+) words")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{2,}")
_COMMITMENT = re.compile(r"\b(?:I'll|I will|I'm going to|I can)\s+(.+)", re.IGNORECASE)
_DECISION = re.compile(
    r"\b(?:we decided|we've decided|we agreed|agreed|let's go with|we'll go with|decision)\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_STOPWORDS = """
    the and for that this with you your are was were have has had but not they them then than
    there their what when where which who will would could should can about into onto just also
    our ours out over some such very really yeah okay sure think know like well going get got
    let let's i'll we'll it's that's don't its from been being more most other any all one two
    yes right thing things maybe need needs want does did doing done make made good great lot
    part meeting summary title these those here how why now today tomorrow week"""
STOPWORDS = frozenset(_STOPWORDS.split())


def _error(status: int, message: str, kind: str = "invalid_request_error") -> web.Response:
    return web.json_response(
        {"error": {"message": message, "type": kind, "param": None, "code": None}}, status=status
    )


class Line:
    """A transcript line read back from a prompt."""

    def __init__(self, clock: str | None, speaker: str, text: str) -> None:
        self.clock = clock
        self.speaker = speaker.strip()
        self.text = text.strip()


def read_transcript(text: str) -> list[Line]:
    """The ``[mm:ss] Speaker: text`` lines of a prompt."""
    turns = []
    for line in text.splitlines():
        match = _LINE.match(line.strip())
        if match:
            turns.append(Line(match["clock"], match["speaker"], match["text"]))
    return turns


def content_words(text: str) -> list[str]:
    """The words of ``text`` that say what it is about, lower-cased."""
    return [w.lower() for w in _WORD.findall(text) if w.lower() not in STOPWORDS]


def title_from(texts: list[str], count: int = 3) -> str:
    """A title of the most frequent content words (ties in order of first use)."""
    counts = Counter(word for text in texts for word in content_words(text))
    ranked = sorted(counts, key=lambda w: -counts[w])[:count]
    return " ".join(w.capitalize() for w in ranked) or "Meeting"


def first_sentence(text: str) -> str:
    sentence = _SENTENCE.split(text.strip(), maxsplit=1)[0].strip()
    return sentence if sentence.endswith((".", "!", "?")) else f"{sentence}."


def summary_from(turns: list[Line], words: int) -> str:
    """The first sentences of the longest turns, in the order they were said, within ``words``."""
    ranked = sorted(range(len(turns)), key=lambda i: -len(turns[i].text))
    chosen: list[int] = []
    used = 0
    for index in ranked:
        sentence = f"{turns[index].speaker}: {first_sentence(turns[index].text)}"
        size = len(sentence.split())
        if chosen and used + size > words:
            continue
        chosen.append(index)
        used += size
    text = " ".join(f"{turns[i].speaker}: {first_sentence(turns[i].text)}" for i in sorted(chosen))
    return " ".join(text.split()[:words]) or "Nothing was said."


class LLMStandIn(StandIn):
    """An OpenAI-compatible chat-completions server on loopback.

    Args:
        model: the one model it serves; requests naming another get a 404 as OpenAI answers.
        api_key: when set, requests must carry ``Authorization: Bearer <api_key>``.
        context_tokens: prompts estimated (4 characters a token) above this are refused with
            OpenAI's ``context_length_exceeded``.
        lock: the sandbox lock (shared in a World).
    """

    name = "llm"

    def __init__(
        self,
        *,
        model: str = SANDBOX_MODEL,
        api_key: str | None = None,
        context_tokens: int = 8192,
        lock: SandboxLock | None = None,
    ) -> None:
        self.model = model
        self.api_key = api_key
        self.context_tokens = context_tokens
        #: The next answers' kinds, consumed one per completion (``ANSWERS``).
        self.next_answers: deque[tuple[str, float]] = deque()
        self.slow_seconds = 2.0
        self.served = 0
        super().__init__(lock=lock)

    @property
    def api_url(self) -> str:
        """The base URL clients are given (DEBRIEF_LLM_URL)."""
        return f"{self.url}/v1"

    def setup_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post(COMPLETIONS, self._completions)
        router.add_get("/v1/models", self._models)
        router.add_post("/_sandbox/llm/next", self._control_next)
        router.add_get("/_sandbox/llm/state", self._control_state)
        router.add_post("/_sandbox/llm/reset", self._control_reset)

    # ---- steering

    def answer_next(self, kind: str, times: int = 1, *, delay: float | None = None) -> None:
        """Make the next ``times`` completions ``kind`` (one of :data:`ANSWERS`), after those
        already steered; ``delay`` is how long a ``slow`` one is held."""
        if kind not in ANSWERS:
            raise ValueError(f"unknown answer {kind!r}: one of {', '.join(ANSWERS)}")
        held = self.slow_seconds if delay is None else delay
        self.next_answers.extend([(kind, held)] * times)

    def reset(self) -> None:
        """Forget every steering and injected fault (not the recorded calls)."""
        self.next_answers.clear()
        self.faults.clear()

    def completions(self) -> list[dict[str, Any]]:
        """The bodies of the completion requests received, oldest first."""
        return [c.json for c in self.calls_to(COMPLETIONS, "POST")]

    async def _control_next(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            kind = str(body["answer"])
            times = int(body.get("times", 1))
            delay = body.get("delay")
            if times < 1 or times > 100:
                raise ValueError("times must be 1 to 100")
            self.answer_next(kind, times, delay=float(delay) if delay is not None else None)
        except (ValueError, KeyError, TypeError) as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=400)
        return web.json_response({"ok": True, **self._state()})

    async def _control_state(self, request: web.Request) -> web.Response:
        return web.json_response(self._state())

    async def _control_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"ok": True, **self._state()})

    def _state(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "api_url": self.api_url,
            "calls": len(self.completions()),
            "served": self.served,
            "next": [kind for kind, _ in self.next_answers],
            "faults": [{"status": f.status, "times": f.times} for f in self.faults],
        }

    # ---- the API

    def _authorised(self, request: web.Request) -> bool:
        if not self.api_key:
            return True
        return request.headers.get("Authorization", "") == f"Bearer {self.api_key}"

    async def _models(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(401, "Incorrect API key provided.", "invalid_api_key")
        return web.json_response(
            {
                "object": "list",
                "data": [{"id": self.model, "object": "model", "owned_by": "sandbox"}],
            }
        )

    async def _completions(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(401, "Incorrect API key provided.", "invalid_api_key")
        try:
            body = json.loads(await request.read())
        except ValueError:
            return _error(400, "The request body is not valid JSON.")
        problem = request_problem(body)
        if problem:
            return _error(400, problem)
        if body["model"] != self.model:
            return _error(404, f"The model `{body['model']}` does not exist.", "model_not_found")
        prompt_chars = sum(len(m["content"]) for m in body["messages"])
        prompt_chars += len(json.dumps(body["response_format"]))
        if prompt_chars // 4 > self.context_tokens:
            return _error(
                400,
                f"This model's maximum context length is {self.context_tokens} tokens; "
                f"your messages are about {prompt_chars // 4}.",
            )
        schema = body["response_format"]["json_schema"]["schema"]
        kind, held = self.next_answers.popleft() if self.next_answers else ("valid", 0.0)
        if kind == "error":
            return web.json_response(_server_error(), status=500)
        if kind == "rate_limited":
            return web.json_response(
                {"error": {"message": "Rate limit reached", "type": "requests"}},
                status=429,
                headers={"Retry-After": "1"},
            )
        if kind == "slow":
            await asyncio.sleep(held)
        if kind == "invalid_json":
            content = '{"title": "Half an answer", "summary": '
        elif kind == "schema_invalid":
            content = json.dumps({"title": 42, "unexpected": True})
        else:
            content = json.dumps(answer_for(schema, body["messages"]))
        self.served += 1
        return web.json_response(_completion(self.model, self.served, content, prompt_chars))


def _server_error() -> dict[str, Any]:
    return {"error": {"message": "The server had an error.", "type": "server_error"}}


def _completion(model: str, serial: int, content: str, prompt_chars: int) -> dict[str, Any]:
    prompt_tokens = prompt_chars // 4
    completion_tokens = len(content) // 4
    return {
        "id": f"chatcmpl-sandbox-{serial}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def request_problem(body: Any) -> str | None:
    """What a strict structured-outputs request lacks, as OpenAI would say it; None if nothing."""
    if not isinstance(body, dict):
        return "The request body must be a JSON object."
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "you must provide a model parameter"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "'messages' must be a non-empty array"
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in (
            "system",
            "user",
            "assistant",
            "developer",
        ):
            return f"messages[{index}].role must be system, user or assistant"
        if not isinstance(message.get("content"), str):
            return f"messages[{index}].content must be a string"
    response_format = body.get("response_format")
    if not isinstance(response_format, dict) or response_format.get("type") != "json_schema":
        return (
            "response_format.type must be 'json_schema' (this stand-in serves structured outputs)"
        )
    spec = response_format.get("json_schema")
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or not spec["name"]:
        return "response_format.json_schema.name is required"
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", spec["name"]):
        return "response_format.json_schema.name must be a-z, A-Z, 0-9, _ or -, at most 64"
    if spec.get("strict") is not True:
        return "response_format.json_schema.strict must be true"
    schema = spec.get("schema")
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return "response_format.json_schema.schema must be an object schema"
    return schema_problem(schema, "schema")


def schema_problem(node: Any, where: str) -> str | None:
    """Where a schema breaks strict mode's rules (closed objects, every property required)."""
    if not isinstance(node, dict):
        return None
    if "$ref" in node or "default" in node:
        return f"Invalid schema: {where} uses $ref or default, which this stand-in refuses"
    kinds = node.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "object" in kinds:
        properties = node.get("properties")
        if not isinstance(properties, dict):
            return f"Invalid schema: {where} is an object without properties"
        if node.get("additionalProperties") is not False:
            return f"Invalid schema: 'additionalProperties' is required to be false at {where}"
        if sorted(node.get("required") or []) != sorted(properties):
            return f"Invalid schema: every property of {where} must be in 'required'"
        for name, child in properties.items():
            if problem := schema_problem(child, f"{where}.{name}"):
                return problem
    if "array" in kinds:
        return schema_problem(node.get("items"), f"{where}[]")
    for option in node.get("anyOf") or []:
        if problem := schema_problem(option, where):
            return problem
    return None


def answer_for(schema: dict[str, Any], messages: list[dict[str, str]]) -> Any:
    """A valid answer to ``schema``, made from the transcript (or merge parts) in ``messages``."""
    system = "\n".join(m["content"] for m in messages if m["role"] == "system")
    user = next((m["content"] for m in messages if m["role"] == "user"), "")
    # The summary's budget ("summary: at most 110 words"), else the first one stated.
    budgets = sorted(_WORDS_BUDGET.finditer(system), key=lambda m: not m.group(0).startswith("s"))
    words = int(budgets[0].group(1)) if budgets else 60
    parts = re.findall(r"^Summary: (.+)$", user, re.MULTILINE)
    # A merge request carries the parts' summaries, not transcript lines.
    turns = [] if parts else read_transcript(user)
    facts = _facts(turns, parts, words, user)
    return _fill(schema, facts, "")


def _facts(turns: list[Line], parts: list[str], words: int, user: str) -> dict[str, Any]:
    texts = [t.text for t in turns] or parts or [user]
    if parts and not turns:
        summary = " ".join(" ".join(first_sentence(p) for p in parts).split()[:words])
    elif turns:
        summary = summary_from(turns, words)
    else:
        summary = " ".join(user.split()[:words]) or "Nothing was said."
    items = []
    for turn in turns:
        for sentence in _SENTENCE.split(turn.text):
            match = _COMMITMENT.search(sentence)
            if match:
                task = match.group(1).strip().rstrip(".!?")
                items.append({"text": task[:1].upper() + task[1:] + ".", "owner": turn.speaker})
    decisions = [
        first_sentence(s)
        for turn in turns
        for s in _SENTENCE.split(turn.text)
        if _DECISION.search(s)
    ]
    topics = []
    if turns:
        thirds = max(1, len(turns) // 3 + (len(turns) % 3 > 0))
        for start in range(0, len(turns), thirds):
            chunk = turns[start : start + thirds]
            topics.append(
                {"title": title_from([t.text for t in chunk], 2), "start": chunk[0].clock}
            )
    return {
        "title": title_from(texts),
        "summary": summary,
        "decisions": decisions,
        "action_items": items,
        "topics": topics,
        "text": summary,
    }


def _fill(schema: dict[str, Any], facts: dict[str, Any], name: str) -> Any:
    """A value for ``schema`` (named ``name`` in its parent), from ``facts`` where they fit."""
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "object" in kinds:
        out = {}
        for key, child in (schema.get("properties") or {}).items():
            out[key] = _fill(child, facts, key)
        return out
    if "array" in kinds:
        items = schema.get("items") or {}
        known = facts.get(name)
        if not isinstance(known, list):
            return []
        item_kinds = items.get("type")
        if item_kinds == "object" or "object" in (item_kinds or []):
            return [_fill(items, {**facts, **entry}, "") for entry in known]
        return [str(value) for value in known]
    value = facts.get(name)
    if "string" in kinds:
        if isinstance(value, str):
            return value
        if "null" in kinds:
            return None
        return ""
    if "null" in kinds:
        return None
    if "boolean" in kinds:
        return True
    if "integer" in kinds or "number" in kinds:
        return 0
    return None


class LLMPlugin(StandInPlugin[LLMStandIn]):
    """The model endpoint's stand-in in a World: it always runs (the page can show it), and
    the app is pointed at it only when the world understands meetings with the model engine
    (``Setup.model``); otherwise the embedded engine, Debrief's default, does."""

    name = "llm"
    title = "Model endpoint"
    state_path = "llm/state"

    def __init__(self, server: LLMStandIn, *, use: bool) -> None:
        super().__init__(server)
        self.use = use

    @classmethod
    def create(cls, setup: Setup, **options: Any) -> LLMPlugin:
        api_key = "sk-sandbox-" + secrets.token_hex(12)
        return cls(LLMStandIn(api_key=api_key, lock=setup.lock, **options), use=setup.model)

    def settings(self) -> dict[str, Any]:
        if not self.use:
            return {}
        # The model engine's endpoint (its own settings section, by environment name).
        return {
            "DEBRIEF_LLM_URL": self.server.api_url,
            "DEBRIEF_LLM_MODEL": self.server.model,
            "DEBRIEF_LLM_API_KEY": self.server.api_key,
        }
