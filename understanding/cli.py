"""`debrief summarize [--engine embedded|model] [--words N] FILE...`: one JSON line per file.

bot/cli.py only adds these arguments to its parser and calls :func:`summarize_command`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

#: What a summary may not be shorter than: a title-length line is not a summary.
MIN_WORDS = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The subcommand's options, on the parser bot/cli.py made for it."""
    parser.add_argument(
        "--engine",
        choices=("embedded", "model"),
        default="embedded",
        help="embedded (default: no network, no model) or model (needs DEBRIEF_LLM_URL)",
    )
    parser.add_argument(
        "--words", type=_words, default=110, metavar="N", help="summary length (default 110)"
    )
    parser.add_argument(
        "files",
        nargs="+",
        type=Path,
        metavar="FILE",
        help='a transcript: JSON [{"speaker", "text", "start"?}], Attendee\'s, or Speaker: lines',
    )


def _words(value: str) -> int:
    try:
        words = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if words < MIN_WORDS:
        raise argparse.ArgumentTypeError(f"at least {MIN_WORDS} words, not {words}")
    return words


def summarize_command(
    args: argparse.Namespace,
    *,
    llm_url: str | None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Print each file's understanding as one JSON object a line, in order; 2 on a bad file or
    an engine that cannot run (then nothing is printed to ``out``, so scripts see all or none)."""
    from understanding.transcripts import TranscriptError, load_transcript

    if args.engine == "model":
        if not llm_url:
            print("debrief summarize: no model configured: set DEBRIEF_LLM_URL", file=err)
            return 2
        # The model engine and its client come with the model branch; until then say so.
        print("debrief summarize: the model engine is not available in this build", file=err)
        return 2
    transcripts = []
    bad = 0
    for path in args.files:
        try:
            transcripts.append(load_transcript(path))
        except TranscriptError as exc:
            print(f"debrief summarize: {path}: {exc}", file=err)
            bad += 1
    if bad:
        return 2
    from understanding.embedded import understand

    for turns in transcripts:
        result = understand(turns, words=args.words)
        print(json.dumps(result.public(), ensure_ascii=False), file=out, flush=True)
    return 0
