"""What `debrief summarize [--engine embedded|model] [--words N] FILE...` does: one JSON line
per file, in order. bot/cli.py parses the arguments and calls :func:`summarize_files`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from understanding.transcripts import TranscriptError, load_transcript
from understanding.types import Engine

#: What a summary may not be shorter than: a title-length line is not a summary.
MIN_WORDS = 10


async def summarize_files(
    files: Sequence[str | Path],
    *,
    engine: Engine,
    words: int = 110,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Print each file's understanding by ``engine`` as one JSON object a line, in order, and
    return 0; or return 2 on bad input, saying why on ``err`` and printing nothing on ``out``,
    so that a script gets every line or none. When the model engine fell back to the embedded
    one, the JSON line is the embedded engine's and ``err`` says why."""
    out = out or sys.stdout
    err = err or sys.stderr
    if words < MIN_WORDS:
        print(f"debrief summarize: --words must be at least {MIN_WORDS}, not {words}", file=err)
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
    for file, turns in zip(files, transcripts, strict=True):
        result = await engine.understand(turns, words=words)
        if result.notice:
            print(f"debrief summarize: {file}: {result.notice}", file=err)
        print(json.dumps(result.public(), ensure_ascii=False), file=out, flush=True)
    return 0
