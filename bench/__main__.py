"""`python -m bench [--quick] [--no-write] [name ...]`: every benchmark (or the named ones), one
after the other, each rewriting its section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.report import run_one

#: These first, in the order of the document; then any other module of the package that has a
#: ``run(quick)`` (benchmarks others added), by name.
FIRST = ("ack", "ingest", "e2e", "budgets", "memory")
NOT_BENCHMARKS = frozenset({"harness", "report", "bare", "__main__"})


def benchmarks() -> list[str]:
    found = {
        info.name
        for info in pkgutil.iter_modules([str(Path(__file__).parent)])
        if info.name not in NOT_BENCHMARKS
    }
    return [n for n in FIRST if n in found] + sorted(found - set(FIRST))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    names = benchmarks()
    parser.add_argument("names", nargs="*", metavar="name", help=", ".join(names))
    parser.add_argument("--quick", action="store_true", help="short runs, to check they work")
    parser.add_argument("--no-write", action="store_true", help="print only; leave the doc")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(names))
    if unknown:
        parser.error(f"no benchmark {', '.join(unknown)}; choose from {', '.join(names)}")
    for name in args.names or names:
        module = importlib.import_module(f"bench.{name}")
        print(run_one(name, module.run, quick=args.quick, write=not args.no_write), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
