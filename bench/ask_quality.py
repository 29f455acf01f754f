"""Ask: retrieval and answers on real meetings (QMSum validation), next to BM25 in the same run.

Each meeting's turns are cut into passages exactly as search stores them for `/debrief ask`
(``handlers.search.passages.passages_of``). For every specific question, the passages of its
meeting are ranked by ``understanding.ask.rank`` and by BM25 (rank-bm25's ``BM25Okapi`` on
lower-cased words); a passage hits when its turns overlap the question's gold span. recall@k is
the share of questions with a hit among the first k. The answer (``understanding.ask.answer``)
is scored with ROUGE-1/2/L F1 (rouge-score, stemmed) against the reference answer, next to
BM25's best passage cut to the same number of words (the anchor; 100 words when ours finds
nothing). Each question is also asked of a meeting from another corpus, where nothing answers
it, to count how often the engine answers anyway rather than saying it found nothing. Reads
``--qmsum DIR`` (default ``../shared/eval/qmsum/val`` beside the repository); when it is not
there the section says so. Needs the ``bench`` extra (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import understanding.ask
import understanding.retrieval
from bench.harness import ROOT
from bench.report import Section, run_one, table
from bot.meetings import Meeting, Utterance
from handlers.search.passages import passages_of
from understanding.ask import ANSWER_WORDS, answer, rank
from understanding.types import Passage, Turn

NAME = "ask_quality"
DEFAULT_QMSUM = ROOT.parent / "shared" / "eval" / "qmsum" / "val"
#: The corpus's annotations ({vocalsound}, {disfmarker}, {gap}, …): not speech.
MARKER = re.compile(r"\{[^{}]*\}")
QUICK_MEETINGS = 4
_BM25_WORD = re.compile(r"\w+")


def load_turns(path: Path) -> list[Turn]:
    """A QMSum meeting's turns, the corpus markers dropped (indices kept: empty turns stay)."""
    data = json.loads(path.read_text())
    return [
        Turn(speaker=t["speaker"], text=" ".join(MARKER.sub(" ", t["content"]).split()))
        for t in data["meeting_transcripts"]
    ]


def stored_passages(path: Path) -> list[tuple[Passage, tuple[int, int]]]:
    """The meeting's passages exactly as search stores them for `/debrief ask`
    (``handlers.search.passages.passages_of``), each with the range of turns it holds (a
    turn's start is its index here, so a passage's turns are read back from the starts)."""
    turns = load_turns(path)
    meeting = Meeting(
        provider="qmsum",
        meeting_id=path.stem,
        title="",
        transcript=[
            Utterance(speaker=t.speaker, text=t.text, start_seconds=float(i))
            for i, t in enumerate(turns)
        ],
    )
    cut = [
        (speaker, start, text) for speaker, start, text in passages_of(meeting) if start is not None
    ]
    firsts = [int(start) for _, start, _ in cut]
    out = []
    for i, (speaker, start, text) in enumerate(cut):
        following = firsts[i + 1] if i + 1 < len(cut) else len(turns)
        span = (firsts[i], max(firsts[i], following - 1))
        out.append(
            (
                Passage(
                    ref=str(i), text=text, speaker=speaker, start=start, meeting_title=path.stem
                ),
                span,
            )
        )
    return out


def family(name: str) -> str:
    """Which corpus a QMSum meeting comes from."""
    if name.startswith(("ES", "IS", "TS")):
        return "AMI (product design)"
    if name.startswith("B"):
        return "ICSI (research)"
    return "parliament"


@dataclass
class Tally:
    """One ranker's hits and answers over the questions."""

    hits: dict[int, int] = field(default_factory=lambda: {1: 0, 3: 0, 5: 0})
    rouge: dict[str, float] = field(default_factory=lambda: {"rouge1": 0, "rouge2": 0, "rougeL": 0})
    seconds: float = 0.0
    questions: int = 0
    #: Answered (found) on its own meeting; answered when asked of another corpus's meeting.
    found: int = 0
    found_elsewhere: int = 0

    def add_hits(self, first_hit: int | None) -> None:
        self.questions += 1
        for k in self.hits:
            if first_hit is not None and first_hit < k:
                self.hits[k] += 1

    def add_rouge(self, scores: dict[str, Any]) -> None:
        for key in self.rouge:
            self.rouge[key] += scores[key].fmeasure

    def recall(self, k: int) -> float:
        return self.hits[k] / self.questions if self.questions else 0.0

    def mean(self, key: str) -> float:
        return self.rouge[key] / self.questions if self.questions else 0.0


def first_hit(ranked: Sequence[int], spans: list[tuple[int, int]], cuts: list[tuple[int, int]]):
    """The rank (0-based) of the first passage whose turns overlap a gold span, or None."""
    for position, index in enumerate(ranked):
        start, end = cuts[index]
        if any(start <= hi and lo <= end for lo, hi in spans):
            return position
    return None


def evaluate(files: Sequence[Path]) -> tuple[dict[str, Tally], dict[str, dict[str, Tally]]]:
    """Tallies for "ask" and "bm25", overall and per corpus."""
    from rank_bm25 import BM25Okapi
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    overall = {"ask": Tally(), "bm25": Tally()}
    by_family: dict[str, dict[str, Tally]] = {}
    meetings = {path: stored_passages(path) for path in files}
    stored = {path: [p for p, _ in cut] for path, cut in meetings.items()}
    for path in files:
        data = json.loads(path.read_text())
        passages = stored[path]
        # The same questions asked of other corpora's meetings: nothing there answers them.
        elsewhere = [stored[p] for p in files if family(p.stem) != family(path.stem)]
        spans_of = [span for _, span in meetings[path]]
        bm25 = BM25Okapi([_BM25_WORD.findall(p.text.lower()) for p in passages])
        fam = by_family.setdefault(family(path.stem), {"ask": Tally(), "bm25": Tally()})
        for number, item in enumerate(data["specific_query_list"]):
            question, reference = item["query"], item["answer"]
            unrelated = (
                elsewhere[(number * 7 + len(path.stem)) % len(elsewhere)] if elsewhere else []
            )
            wrongly = bool(unrelated) and answer(question, unrelated).found
            spans = [(int(a), int(b)) for a, b in item["relevant_text_span"]]

            clock = time.perf_counter()
            ours = [int(p.ref) for p in rank(question, passages)]
            reply = answer(question, passages)
            ours_seconds = time.perf_counter() - clock

            clock = time.perf_counter()
            scores = bm25.get_scores(_BM25_WORD.findall(question.lower()))
            theirs = sorted(range(len(passages)), key=lambda i: (-scores[i], i))
            bm25_seconds = time.perf_counter() - clock
            # The anchor gets the answer's length; a full answer's when ours says "not found".
            length = len(reply.text.split()) if reply.found else ANSWER_WORDS
            anchor = " ".join(passages[theirs[0]].text.split()[:length])

            for tallies in (overall, fam):
                tallies["ask"].add_hits(first_hit(ours, spans, spans_of))
                tallies["bm25"].add_hits(first_hit(theirs, spans, spans_of))
                tallies["ask"].add_rouge(scorer.score(reference, reply.text))
                tallies["bm25"].add_rouge(scorer.score(reference, anchor))
                tallies["ask"].seconds += ours_seconds
                tallies["ask"].found += reply.found
                tallies["ask"].found_elsewhere += wrongly
                tallies["bm25"].seconds += bm25_seconds
    return overall, by_family


def rows(tallies: dict[str, Tally]) -> list[list[object]]:
    names = {"ask": "understanding.ask", "bm25": "BM25 (rank-bm25), anchor"}
    out: list[list[object]] = []
    for key in ("ask", "bm25"):
        t = tallies[key]
        out.append(
            [
                names[key],
                t.questions,
                f"{t.recall(1):.3f}",
                f"{t.recall(3):.3f}",
                f"{t.recall(5):.3f}",
                f"{100 * t.mean('rouge1'):.1f}",
                f"{100 * t.mean('rouge2'):.1f}",
                f"{100 * t.mean('rougeL'):.1f}",
                f"{1000 * t.seconds / max(t.questions, 1):.1f}",
            ]
        )
    return out


HEADER = [
    "ranker",
    "questions",
    "recall@1",
    "recall@3",
    "recall@5",
    "ROUGE-1",
    "ROUGE-2",
    "ROUGE-L",
    "ms / question",
]


#: Each of the ranker's choices left out in turn (same meetings, same run): what each is worth.
ABLATIONS: dict[str, list[tuple[Any, str, Any]]] = {
    "without the question-frame stop words": [
        (understanding.retrieval, "FRAME_WORDS", frozenset()),
    ],
    "without stemming": [(understanding.retrieval, "stem", lambda word: word)],
    "without the named speaker": [(understanding.ask, "SPEAKER", 0.0)],
    "without neighbour smoothing": [(understanding.ask, "NEIGHBOUR", 0.0)],
}


@contextlib.contextmanager
def left_out(changes: list[tuple[Any, str, Any]]) -> Any:
    saved = [(module, name, getattr(module, name)) for module, name, _ in changes]
    try:
        for module, name, value in changes:
            setattr(module, name, value)
        yield
    finally:
        for module, name, value in saved:
            setattr(module, name, value)


def ablations(files: Sequence[Path]) -> str:
    out: list[list[object]] = []
    for label, changes in ABLATIONS.items():
        with left_out(changes):
            overall, _ = evaluate(files)
        row = rows(overall)[0]
        out.append([label, *row[1:]])
    return table(["understanding.ask", *HEADER[1:]], out)


def section(folder: Path, quick: bool) -> Section:
    title = "Ask: retrieval and answers on QMSum meetings"
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not files:
        return Section(NAME, title, f"Not measured: no QMSum meetings at `{folder}`.")
    if quick:
        files = files[:QUICK_MEETINGS]
    overall, by_family = evaluate(files)
    lines = [
        f"{len(files)} QMSum validation meetings (`{folder.name}/`), "
        f"{overall['ask'].questions} specific questions; passages of about 100 words cut on turn "
        "boundaries (`understanding.passages.split_turns`). recall@k: share of questions whose "
        "gold span overlaps one of the first k passages of the meeting. ROUGE: F1 (rouge-score, "
        "stemmed) of the answer against the reference answer; for BM25, its best passage cut to "
        "the answer's length in words (the anchor; 100 words when ours found nothing). Time: "
        "ranking and answering, per question.",
        "",
        table(HEADER, rows(overall)),
        "",
        f"Answered at all (`found`): {overall['ask'].found} of {overall['ask'].questions} "
        f"questions on their own meeting; {overall['ask'].found_elsewhere} of "
        f"{overall['ask'].questions} when each is asked of a meeting from another corpus "
        "(where nothing answers it: the rest say so rather than guess).",
        "",
        "By corpus (the same run):",
        "",
        table(
            ["corpus", *HEADER],
            [[fam, *row] for fam, tallies in sorted(by_family.items()) for row in rows(tallies)],
        ),
    ]
    if not quick:
        lines += [
            "",
            "Each of the ranker's choices left out in turn (the same meetings; the full ranker "
            "is the first table's first row):",
            "",
            ablations(files),
        ]
    return Section(NAME, title, "\n".join(lines))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m bench.{NAME}", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few meetings, to check it works")
    parser.add_argument("--no-write", action="store_true", help="print only; leave the doc")
    parser.add_argument("--qmsum", type=Path, default=DEFAULT_QMSUM, help="QMSum meetings")
    args = parser.parse_args(argv)
    if not args.qmsum.is_dir():
        print(f"no QMSum meetings at {args.qmsum}: nothing to measure", file=sys.stderr)

    async def go(quick: bool) -> Section:
        return section(args.qmsum, quick)

    print(run_one(NAME, go, quick=args.quick, write=not args.no_write))
    return 0


async def run(quick: bool) -> Section:
    """``python -m bench``'s entry: the default QMSum folder."""
    return section(DEFAULT_QMSUM, quick)


if __name__ == "__main__":
    sys.exit(main())
