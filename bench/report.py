"""What every benchmark shares: its command line, the machine it ran on, and rewriting its own
section of docs/BENCHMARKS.md (between ``<!-- bench:<name> -->`` markers) with its figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.harness import ROOT, percentile

DOC = ROOT / "docs" / "BENCHMARKS.md"
HEADER = """# Benchmarks

Each section is rewritten by its benchmark (`python -m bench` runs them all,
`python -m bench.<name>` one; `--quick` is a short run that checks the benchmark works, not a
measurement to quote). Every section says the command, the machine and the date it was measured
with. Run them on an idle machine: the stand-ins and the load generator share it with the app.
"""


@dataclass(frozen=True)
class Section:
    """One benchmark's part of the document: a title and its figures (markdown)."""

    name: str
    title: str
    body: str


def machine() -> str:
    """Cores, memory, CPU, Python and load: what the figures depend on."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    memory = "?"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        match = re.search(r"MemTotal:\s+(\d+) kB", meminfo.read_text())
        if match:
            memory = f"{int(match[1]) / 1024**2:.1f} GiB"
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        match = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        if match:
            cpu = match[1].strip()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (
        f"nproc {cores}, {memory} RAM, {cpu}, Python {platform.python_version()} "
        f"({platform.system()} {platform.release()}), load average {load} at the start"
    )


def milliseconds(values: Sequence[float]) -> str:
    """``p50 / p99 / max`` of seconds, in milliseconds."""
    if not values:
        return "n/a"
    return (
        f"{percentile(values, 50) * 1000:.1f} / {percentile(values, 99) * 1000:.1f} / "
        f"{max(values) * 1000:.1f}"
    )


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def render(section: Section, command: str, host: str, started: datetime, seconds: float) -> str:
    """The section as it stands in the document, with how to reproduce it."""
    return (
        f"<!-- bench:{section.name} -->\n## {section.title}\n\n"
        f"Measured {started:%Y-%m-%d %H:%M} UTC in {seconds:.0f} s with `{command}` "
        f"on {host}.\n\n{section.body.strip()}\n<!-- /bench:{section.name} -->\n"
    )


def write_section(text: str, name: str, path: Path = DOC) -> None:
    """Replace the section ``name`` in the document (append it when it is not there yet)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = path.read_text() if path.exists() else HEADER
    pattern = re.compile(
        rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->\n?", re.S
    )
    if pattern.search(document):
        document = pattern.sub(lambda _: text, document, count=1)
    else:
        document = document.rstrip("\n") + "\n\n" + text
    path.write_text(document)


Runner = Callable[[bool], Coroutine[Any, Any, Section]]


def main(name: str, run: Runner, argv: Sequence[str] | None = None) -> int:
    """Command line of one benchmark: run it, print its section, and write it to the document."""
    parser = argparse.ArgumentParser(prog=f"python -m bench.{name}")
    parser.add_argument("--quick", action="store_true", help="a short run, to check it works")
    parser.add_argument("--no-write", action="store_true", help="print only; leave the doc")
    args = parser.parse_args(argv)
    text = run_one(name, run, quick=args.quick, write=not args.no_write)
    print(text)
    return 0


def run_one(name: str, run: Runner, *, quick: bool, write: bool) -> str:
    """Run one benchmark; its section, also written to the document when ``write``."""
    host = machine()  # before the run: the load average is the machine's, not ours
    command = f"python -m bench.{name}" + (" --quick" if quick else "")
    started, clock = datetime.now(UTC), time.perf_counter()
    section = asyncio.run(run(quick))
    text = render(section, command, host, started, time.perf_counter() - clock)
    if write:
        write_section(text, section.name)
    return text
