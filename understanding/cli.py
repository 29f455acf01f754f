"""What `debrief summarize [--engine embedded|model] [--words N] FILE...` does: one JSON line
per file, in order. bot/cli.py parses the arguments and calls :func:`summarize_files`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from understanding.embedded import understand
from understanding.transcripts import TranscriptError, load_transcript

#: What a summary may not be shorter than: a title-length line is not a summary.
MIN_WORDS = 10


def summarize_files(
    files: Sequence[str | Path],
    *,
    engine: str = "embedded",
    words: int = 110,
    llm_url: str | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Print each file's understanding as one JSON object a line, in order, and return 0; or
    return 2 on bad input, saying why on ``err`` and printing nothing on ``out``, so that a
    script gets every line or none."""
    out = out or sys.stdout
    err = err or sys.stderr
    if words < MIN_WORDS:
        print(f"debrief summarize: --words must be at least {MIN_WORDS}, not {words}", file=err)
        return 2
    if engine == "model":
        if not llm_url:
            print("debrief summarize: no model configured: set DEBRIEF_LLM_URL", file=err)
            return 2
        # The model engine and its HTTP client come with the model branch; until then say so.
        print("debrief summarize: the model engine is not available in this build", file=err)
        return 2
    if engine != "embedded":
        print(f"debrief summarize: no engine {engine!r}: embedded or model", file=err)
        return 2
    transcripts = []
    bad = False
    for file in files:
        try:
            transcripts.append(load_transcript(Path(file)))
        except TranscriptError as exc:
            print(f"debrief summarize: {file}: {exc}", file=err)
            bad = True
    if bad:
        return 2
    for turns in transcripts:
        result = understand(turns, words=words)
        print(json.dumps(result.public(), ensure_ascii=False), file=out, flush=True)
    return 0
