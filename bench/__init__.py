"""Benchmarks of Debrief: `python -m bench` runs them all, `python -m bench.<name>` one.

Each prints its figures and rewrites its own section of docs/BENCHMARKS.md (see
:mod:`bench.report`); ``--quick`` runs a short version to check that it works.
"""
