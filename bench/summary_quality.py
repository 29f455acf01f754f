"""Summary quality on QMSum's validation meetings: the embedded engine against unsupervised
anchors at the same length, with ROUGE-1/2/Lsum F1 (rouge-score, stemmed), and its speed and
memory with the anchors' speed measured in the same run.

Systems, each given the same cleaned sentences (understanding.text) and the same word budget:
- ``embedded``: understanding.embedded.understand, its summary as written (speakers named);
- ``first-N``: the first N words of the cleaned transcript;
- ``LexRank``, ``TextRank``, ``LSA``: sumy's, sentences taken in their rank order while they fit;
- ``oracle``: greedy extractive oracle, the sentences that raise ROUGE-1 + ROUGE-2 against the
  reference most, while they fit: the ceiling of any extractive system, not a system.

The meetings are read from ``--data`` (default ../shared/eval/qmsum/val beside the repository);
when that folder is missing the benchmark says so and writes nothing.
`python -m bench.summary_quality [--quick] [--no-write] [--data DIR] [--words N]`.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import statistics
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.harness import ROOT
from bench.report import Section, run_one, table
from understanding.embedded import understand
from understanding.summary import prepare, summarize
from understanding.text import sentences
from understanding.types import Turn

DEFAULT_DATA = ROOT.parent / "shared" / "eval" / "qmsum" / "val"
WORDS = 110
QUICK_MEETINGS = 5
#: An hour-long meeting, in words: the unit the speed budget (300 ms) is given in.
HOUR_WORDS = 9500
ROUGE = ("rouge1", "rouge2", "rougeLsum")


class Tokenizer:
    """sumy's tokenizer (nltk's punkt data cannot be downloaded here) on our own splitter, so
    the anchors see exactly the engine's sentences."""

    language = "english"

    def to_sentences(self, text: str) -> tuple[str, ...]:
        return tuple(sentences(text))

    def to_words(self, sentence: str) -> tuple[str, ...]:
        return tuple(
            w.strip(".,;:?!\"'()") for w in sentence.split() if any(c.isalnum() for c in w)
        )


def load(path: Path) -> tuple[list[Turn], str]:
    """A QMSum meeting's turns and its reference summary ("Summarize the whole meeting.")."""
    data = json.loads(path.read_text())
    turns = [Turn(speaker=t["speaker"], text=t["content"]) for t in data["meeting_transcripts"]]
    return turns, data["general_query_list"][0]["answer"]


def fit(ranked: Sequence[str], order: dict[str, int], words: int) -> str:
    """Sentences in rank order while they fit in ``words``, then printed in meeting order."""
    chosen, used = [], 0
    for sentence in ranked:
        n = len(sentence.split())
        if used + n <= words:
            chosen.append(sentence)
            used += n
    return " ".join(sorted(chosen, key=order.__getitem__))


def sumy_ranker(kind: str) -> Callable[[list[str], int], str]:
    from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
    from sumy.nlp.stemmers import Stemmer
    from sumy.summarizers.lex_rank import LexRankSummarizer
    from sumy.summarizers.lsa import LsaSummarizer
    from sumy.summarizers.text_rank import TextRankSummarizer
    from sumy.utils import get_stop_words

    summarizer: Any = {
        "LexRank": LexRankSummarizer,
        "TextRank": TextRankSummarizer,
        "LSA": LsaSummarizer,
    }[kind](Stemmer("english"))
    summarizer.stop_words = get_stop_words("english")
    tokenizer = Tokenizer()

    def summarize(texts: list[str], words: int) -> str:
        document = ObjectDocumentModel([Paragraph([Sentence(text, tokenizer) for text in texts])])
        order = {text: i for i, text in reversed(list(enumerate(texts)))}
        ranked: list[str] = []

        def take(infos: Sequence[Any]) -> Sequence[Any]:
            # sumy hands the sentences best first: remember that order, fit them ourselves.
            ranked.extend(str(info.sentence) for info in infos)
            return infos

        summarizer(document, take)
        return fit(ranked, order, words)

    return summarize


def first_words(texts: list[str], words: int) -> str:
    return " ".join(" ".join(texts).split()[:words])


def oracle(texts: list[str], words: int, reference: str) -> str:
    """Greedy: add the sentence that most raises ROUGE-1 + ROUGE-2 F1, while it fits."""
    from rouge_score.tokenizers import DefaultTokenizer

    tokenize = DefaultTokenizer(use_stemmer=True).tokenize
    ref = tokenize(reference)
    ref1, ref2 = Counter(ref), Counter(itertools.pairwise(ref))
    tokens = [tokenize(t) for t in texts]
    chosen: list[int] = []
    have1: Counter[Any] = Counter()
    have2: Counter[Any] = Counter()
    used, best_score = 0, 0.0

    def f1(have: Counter[Any], ref_counts: Counter[Any]) -> float:
        overlap = sum((have & ref_counts).values())
        if not overlap:
            return 0.0
        p, r = overlap / sum(have.values()), overlap / sum(ref_counts.values())
        return 2 * p * r / (p + r)

    while True:
        pick, pick_score = None, best_score
        for i, toks in enumerate(tokens):
            n = len(texts[i].split())
            if i in chosen or used + n > words or not toks:
                continue
            # The set's bigrams: a sentence's own, not across sentences.
            c1 = have1 + Counter(toks)
            c2 = have2 + Counter(itertools.pairwise(toks))
            score = f1(c1, ref1) + f1(c2, ref2)
            if score > pick_score:
                pick, pick_score = i, score
        if pick is None:
            break
        chosen.append(pick)
        used += len(texts[pick].split())
        have1.update(tokens[pick])
        have2.update(itertools.pairwise(tokens[pick]))
        best_score = pick_score
    return " ".join(texts[i] for i in sorted(chosen))


def lines(summary: str) -> str:
    """One sentence a line: how ROUGE-Lsum reads a summary."""
    return "\n".join(sentences(summary))


def run_meetings(
    paths: list[Path], words: int
) -> tuple[dict[str, dict[str, list[float]]], dict[str, list[float]], list[int]]:
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(list(ROUGE), use_stemmer=True)
    rankers = {kind: sumy_ranker(kind) for kind in ("LexRank", "TextRank", "LSA")}
    systems = ["embedded", "embedded, no opening", "first-N", *rankers, "oracle"]
    scores: dict[str, dict[str, list[float]]] = {s: {m: [] for m in ROUGE} for s in systems}
    seconds: dict[str, list[float]] = {s: [] for s in ["embedded", *rankers]}
    peaks: list[int] = []
    for path in paths:
        turns, reference = load(path)
        units = prepare(turns)
        texts = [unit.text for unit in units]
        outputs: dict[str, str] = {}
        gc.collect()
        # CPU time of this process: what "one core" costs, whatever else the machine runs.
        clock = time.process_time()
        outputs["embedded"] = understand(turns, words=words).summary
        seconds["embedded"].append(time.process_time() - clock)
        # The same selection without the sentence naming the subject, to show what it adds.
        outputs["embedded, no opening"] = summarize(units, words)
        tracemalloc.start()
        understand(turns, words=words)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        outputs["first-N"] = first_words(texts, words)
        for kind, rank in rankers.items():
            clock = time.process_time()
            outputs[kind] = rank(texts, words)
            seconds[kind].append(time.process_time() - clock)
        outputs["oracle"] = oracle(texts, words, reference)
        for system, summary in outputs.items():
            assert len(summary.split()) <= words, (system, path.name)
            result = scorer.score(lines(reference), lines(summary))
            for metric in ROUGE:
                scores[system][metric].append(100 * result[metric].fmeasure)
    return scores, seconds, peaks


def make_run(data: Path, words: int) -> Callable[[bool], Any]:
    found = sorted(data.glob("*.json")) if data.is_dir() else []

    async def run(quick: bool) -> Section:
        paths = found
        if not paths:
            body = f"No meetings at `{data}`: nothing measured (pass `--data DIR`)."
            print(body, file=sys.stderr)
            return Section("summary_quality", "Summary quality (QMSum)", body)
        if quick:
            paths = paths[:QUICK_MEETINGS]
        scores, seconds, peaks = run_meetings(paths, words)
        rows = [
            [system, *(f"{statistics.mean(v[m]):.2f}" for m in ROUGE)]
            for system, v in scores.items()
        ]
        total_words = [sum(len(t.text.split()) for t in load(p)[0]) for p in paths]

        # The budget is per hour-long meeting (~9,500 words): scale each meeting to that length.
        def per_hour(times: list[float]) -> float:
            return max(t / n for t, n in zip(times, total_words, strict=True)) * HOUR_WORDS

        speed = [
            [
                system,
                f"{statistics.median(v) * 1000:.0f}",
                f"{max(v) * 1000:.0f}",
                f"{per_hour(v) * 1000:.0f}",
            ]
            for system, v in seconds.items()
        ]
        body = (
            f"{len(paths)} meetings of QMSum's validation split (AMI, ICSI, parliamentary "
            f"committees; {statistics.mean(total_words):.0f} words on average, "
            f"{max(total_words)} at most), each summarized in at most {words} words and scored "
            'against its human reference ("Summarize the whole meeting.") with rouge-score '
            "(Porter stemming, F1, mean over meetings; Lsum with one sentence a line).\n\n"
            + table(["system", "ROUGE-1", "ROUGE-2", "ROUGE-Lsum"], rows)
            + "\n\nThe oracle is the greedy extractive ceiling (it reads the reference); "
            "the anchors are sumy's LexRank, TextRank and LSA and the first N words, all "
            "on the engine's cleaned sentences. `embedded, no opening` is the engine's "
            'selection without its first sentence ("The meeting was about <subject>.").\n\n'
            "CPU time per meeting on one core (milliseconds of process time, so other load on "
            "the machine does not count; the embedded engine's whole `understand`: cleaning, "
            "summary, title, topics; the anchors' ranking only):\n\n"
            + table(["system", "median ms", "max ms", f"max ms per {HOUR_WORDS} words"], speed)
            + f"\n\nPeak memory of one `understand` (tracemalloc, Python allocations): "
            f"median {statistics.median(peaks) / 2**20:.1f} MiB, max {max(peaks) / 2**20:.1f} MiB."
        )
        return Section("summary_quality", "Summary quality (QMSum)", body)

    return run


run = make_run(DEFAULT_DATA, WORDS)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.summary_quality")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_MEETINGS} meetings only")
    parser.add_argument("--no-write", action="store_true", help="print only; leave the doc")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="QMSum val folder")
    parser.add_argument("--words", type=int, default=WORDS, help="summary length budget")
    args = parser.parse_args(argv)
    text = run_one(
        "summary_quality",
        make_run(args.data, args.words),
        quick=args.quick,
        write=not args.no_write,
    )
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
