"""Answers to a question from the passages search found: ranked, extracted, or written by a model.

``rank`` orders passages best first; ``answer`` is the embedded engine's extractive answer (the
sentences that answer, the answering one first, with their speakers); ``answer_with_model`` has a
chat model write the answer from numbered passages only, citing them. Both say ``found=False``
rather than guess when nothing in the passages is about the question.

The ranking, and why (measured in docs/BENCHMARKS.md, "Ask: retrieval and answers"):

- BM25 on stems, with stop words and the question's frame out: "what did the group discuss
  about the budget" asks about *budget*, and a passage must not win on "discuss".
- The speaker named in the question ("what did the project manager say about …") counts: a
  passage weighs more the more of it that speaker said. Speaker labels are not content words.
- Neighbourhood: talk about one thing spans several passages, so a passage's score is helped by
  its neighbours' in the same meeting (by ``start`` when known, else the order given).

Tried and left out, because they did not help on the benchmark's meetings: a bonus for covering
more of the question's weight, and one for question words close together (BM25 already adds up
the rare words a passage holds; both moved recall by a question or two, either way).
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from understanding.retrieval import (
    Query,
    parse_question,
    sentences,
    terms,
    tidy,
    utterances,
)
from understanding.types import Answer, ChatModel, Passage

#: BM25's term-frequency saturation and length normalisation (the usual values).
K1 = 1.2
B = 0.75
#: Extra weight for a passage all said by the speaker the question names.
SPEAKER = 1.0
#: Share of each neighbour's score a passage receives.
NEIGHBOUR = 0.3
#: An answer needs a passage matching this share of the question's (idf-weighted) words, and
#: this share of the question's words said somewhere in the passages. Measured on QMSum
#: (docs/BENCHMARKS.md): the pair keeps most answerable questions and turns away most questions
#: asked of another corpus's meeting; either alone trades one for the other much worse.
FOUND_SHARE = 0.2
FOUND_COVERAGE = 0.5
#: What a sentence that asks a question is worth, as part of an answer.
QUESTIONED = 0.5
#: The extractive answer's length, in words.
ANSWER_WORDS = 100
NOT_FOUND = "I couldn't find anything about that in the meetings I can search."


@dataclass
class _Scored:
    passage: Passage
    score: float
    #: Share of the question's weight that the passage matches (0..1).
    share: float
    #: Share of the passage's words said by a speaker the question names (0..1).
    spoken: float
    #: Share of the question's words (unweighted by idf) said in any of the passages (0..1).
    coverage: float = 1.0


def _group_key(passage: Passage) -> str | None:
    return passage.meeting_title


def _speakers(passages: Sequence[Passage]) -> set[str]:
    found: set[str] = set()
    for passage in passages:
        for speaker, _ in utterances(passage.text, passage.speaker):
            if speaker:
                found.add(speaker)
    return found


def _score(query: Query, passages: Sequence[Passage]) -> list[_Scored]:
    """Every passage's score for ``query``, in the order given."""
    docs: list[list[str]] = []
    spoken: list[float] = []
    for passage in passages:
        tokens: list[str] = []
        named = total = 0
        for speaker, text in utterances(passage.text, passage.speaker):
            said = terms(text)
            tokens += said
            total += len(text.split())
            if speaker in query.speakers:
                named += len(text.split())
        docs.append(tokens)
        spoken.append(named / total if total else 0.0)
    count = len(docs)
    average = sum(len(d) for d in docs) / count if count else 0.0
    frequency: Counter[str] = Counter()
    for doc in docs:
        frequency.update(set(doc) & query.weights.keys())
    idf = {
        term: math.log(1 + (count - frequency[term] + 0.5) / (frequency[term] + 0.5))
        for term in query.weights
    }
    mass = sum(query.weights[t] * idf[t] for t in query.weights) or 1.0
    present = sum(w for t, w in query.weights.items() if frequency[t])
    coverage = present / sum(query.weights.values()) if query.weights else 1.0
    scored: list[_Scored] = []
    for passage, doc, share_spoken in zip(passages, docs, spoken, strict=True):
        counts = Counter(doc)
        norm = K1 * (1 - B + B * len(doc) / average) if average else K1
        bm25 = matched = 0.0
        for term, weight in query.weights.items():
            tf = counts.get(term, 0)
            if tf:
                bm25 += weight * idf[term] * tf * (K1 + 1) / (tf + norm)
                matched += weight * idf[term]
        share = matched / mass
        score = bm25
        if query.speakers:
            # With nothing else to go on, who spoke is the whole score.
            score = score * (1 + SPEAKER * share_spoken) if query.weights else share_spoken
        scored.append(_Scored(passage, score, share, share_spoken, coverage))
    return _smooth(scored)


def _smooth(scored: list[_Scored]) -> list[_Scored]:
    """Each passage helped by its neighbours in the same meeting (by start, else given order)."""
    groups: dict[str | None, list[int]] = defaultdict(list)
    for index, item in enumerate(scored):
        groups[_group_key(item.passage)].append(index)
    raw = [item.score for item in scored]
    for indices in groups.values():
        if all(scored[i].passage.start is not None for i in indices):
            indices.sort(key=lambda i: (scored[i].passage.start or 0.0, i))
        for position, index in enumerate(indices):
            around = [
                raw[indices[p]] for p in (position - 1, position + 1) if 0 <= p < len(indices)
            ]
            scored[index].score = raw[index] + NEIGHBOUR * sum(around)
    return scored


def _ranked(question: str, passages: Sequence[Passage]) -> tuple[Query, list[_Scored]]:
    query = parse_question(question, _speakers(passages))
    if query.empty or not passages:
        return query, []
    scored = _score(query, passages)
    order = sorted(range(len(scored)), key=lambda i: (-scored[i].score, i))
    return query, [scored[i] for i in order]


def rank(question: str, passages: list[Passage]) -> list[Passage]:
    """The passages best first, each with its score for this question (ties keep their order)."""
    _, scored = _ranked(question, passages)
    if not scored:
        return list(passages)
    return [item.passage.model_copy(update={"score": item.score}) for item in scored]


def _found(query: Query, best: _Scored | None) -> bool:
    """Whether the best passage is about the question at all."""
    if best is None or best.score <= 0:
        return False
    if query.weights:
        return best.share >= FOUND_SHARE and best.coverage >= FOUND_COVERAGE
    return best.spoken > 0


def _sentences(query: Query, top: Sequence[_Scored]) -> list[tuple[float, int, str, str]]:
    """Candidate sentences of the top passages: (score, order, speaker, sentence)."""
    candidates: list[tuple[float, int, str, str]] = []
    order = 0
    for rank_index, item in enumerate(top):
        for speaker, text in utterances(item.passage.text, item.passage.speaker):
            for said in sentences(text):
                order += 1
                sentence = tidy(said)
                size = len(sentence.split())
                if size < 4:
                    continue
                stems = set(terms(sentence))
                if not stems:
                    continue
                # The question's words it holds, not drowned in a long sentence; a little for
                # a sentence long enough to say something; the named speaker's; the best
                # passages' sentences before the others'.
                hit = sum(query.weights.get(t, 0.0) for t in stems)
                score = hit / math.sqrt(len(stems)) + 0.15 * min(size, 25) / 25
                if speaker in query.speakers:
                    score += 0.5
                if sentence.endswith("?"):
                    # Asking about it is not answering it: a question restates its words.
                    score *= QUESTIONED
                score /= 1 + 0.25 * rank_index
                candidates.append((score, order, speaker or "", sentence))
    return candidates


def _extract(query: Query, top: Sequence[_Scored], words: int) -> str:
    """The best sentences within ``words``: the answering one first, then in spoken order."""
    candidates = _sentences(query, top)
    if not candidates:
        return " ".join(top[0].passage.text.split()[:words])
    best_first = sorted(candidates, key=lambda c: (-c[0], c[1]))
    chosen: list[tuple[float, int, str, str]] = []
    used = 0
    for candidate in best_first:
        size = len(candidate[3].split())
        if chosen and used + size > words:
            continue
        chosen.append(candidate)
        used += size
        if used >= words * 0.8:
            break
    head, rest = chosen[0], sorted(chosen[1:], key=lambda c: c[1])
    lines: list[str] = []
    previous = None
    for _, _, speaker, sentence in [head, *rest]:
        if speaker and speaker != previous:
            lines.append(f"{speaker}: {sentence}")
        elif lines:
            lines[-1] += f" {sentence}"
        else:
            lines.append(sentence)
        previous = speaker
    text = "\n".join(lines)
    most = int(words * 1.2)  # one sentence alone may run long: cut it, and say so
    return text if len(text.split()) <= most else " ".join(text.split(" ")[:most]) + " …"


def answer(question: str, passages: list[Passage], *, limit: int = 3) -> Answer:
    """The embedded engine's answer: the sentences of the best ``limit`` passages that answer."""
    query, scored = _ranked(question, passages)
    best = scored[0] if scored else None
    if not _found(query, best):
        return Answer(text=NOT_FOUND, citations=[], found=False)
    top = [item for item in scored[: max(1, limit)] if item.score > 0]
    text = _extract(query, top, ANSWER_WORDS)
    return Answer(text=text, citations=[item.passage.ref for item in top], found=True)


# --- with a chat model -------------------------------------------------------------------------

#: Passages the model reads, at most; fewer when the model's context is small.
MODEL_PASSAGES = 8
#: The instructions' and the answer's share of the model's context, in tokens.
MODEL_RESERVE = 1200
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "answer": {"type": "string"},
        "citations": {"type": "array", "items": {"type": "integer"}},
        "found": {"type": "boolean"},
    },
    "required": ["answer", "citations", "found"],
    "additionalProperties": False,
}
INSTRUCTIONS = (
    "You answer questions about meetings using ONLY the numbered passages given. "
    "Write a short answer (at most 120 words) in plain sentences, saying who said what. "
    "Cite the passages you used by their numbers in `citations`, most important first. "
    "If the passages do not answer the question, set `found` to false, say so in `answer` "
    "and give no citations. Never use knowledge from outside the passages."
)


class _ModelReply(BaseModel):
    answer: str
    citations: list[int]
    found: bool


class _Invalid(Exception):
    """The model's reply broke the contract; the message says how, for the re-ask."""


def _tokens(text: str) -> int:
    """A cheap over-estimate of a text's tokens (English runs about 1.3 tokens a word)."""
    return int(len(text.split()) * 1.5) + 8


def _prompt_passages(passages: Sequence[Passage], budget: int) -> list[Passage]:
    chosen: list[Passage] = []
    for passage in passages[:MODEL_PASSAGES]:
        cost = _tokens(passage.text)
        if chosen and cost > budget:
            break
        chosen.append(passage)
        budget -= cost
    return chosen


def _render(question: str, passages: Sequence[Passage]) -> str:
    blocks = []
    for number, passage in enumerate(passages, 1):
        where = passage.meeting_title or "a meeting"
        blocks.append(f"[{number}] ({where})\n{passage.text}")
    return "Passages:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question}"


def _check(raw: str, count: int) -> _ModelReply:
    try:
        reply = _ModelReply.model_validate(json.loads(raw))
    except (ValueError, ValidationError) as exc:
        name = exc.__class__.__name__
        raise _Invalid(f"The reply was not valid JSON for the schema ({name}).") from exc
    outside = [n for n in reply.citations if not 1 <= n <= count]
    if outside:
        raise _Invalid(f"Citations {outside} are not passage numbers; cite only 1 to {count}.")
    if reply.found and not reply.citations:
        raise _Invalid("An answer that was found must cite the passages it rests on.")
    if reply.found and not reply.answer.strip():
        raise _Invalid("The answer is empty.")
    return reply


async def answer_with_model(chat: ChatModel, question: str, passages: list[Passage]) -> Answer:
    """The model's answer from the best passages only, citing them (``engine="model"``).

    The reply is checked (JSON of the schema, citations among the passages given, a found
    answer cites something); an invalid reply is asked again once, with what was wrong. A
    second invalid reply gives the embedded engine's answer instead (``engine="embedded"``).
    Transport errors from ``chat`` propagate: the caller decides whether to retry.
    """
    query, scored = _ranked(question, passages)
    if not _found(query, scored[0] if scored else None):
        return Answer(text=NOT_FOUND, citations=[], found=False, engine="model")
    ranked = [item.passage for item in scored if item.score > 0]
    shown = _prompt_passages(ranked, max(chat.context_tokens - MODEL_RESERVE, 0))
    messages = [
        {"role": "system", "content": INSTRUCTIONS},
        {"role": "user", "content": _render(question, shown)},
    ]
    for attempt in range(2):
        raw = await chat.complete_json(messages, name="meeting_answer", schema=SCHEMA)
        try:
            reply = _check(raw, len(shown))
        except _Invalid as problem:
            if attempt:
                break
            messages += [
                {"role": "assistant", "content": raw},
                {"role": "user", "content": f"{problem} Answer again, following the schema."},
            ]
            continue
        if not reply.found:
            return Answer(text=reply.answer.strip() or NOT_FOUND, found=False, engine="model")
        refs = list(dict.fromkeys(shown[n - 1].ref for n in reply.citations))
        return Answer(text=reply.answer.strip(), citations=refs, found=True, engine="model")
    return answer(question, passages)
