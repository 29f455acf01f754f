"""A small Prometheus text exposition: counters and histograms with labels, no global registry."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Awaitable, Callable

LabelKey = tuple[tuple[str, str], ...]

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _labels(key: LabelKey, extra: str = "") -> str:
    parts = [f'{k}="{v}"' for k, v in key]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


class Metrics:
    """Counters and latency histograms for /metrics; gauges are read when scraped."""

    def __init__(self) -> None:
        self._counters: dict[str, dict[LabelKey, float]] = defaultdict(lambda: defaultdict(float))
        self._hist: dict[str, dict[LabelKey, list[float]]] = defaultdict(dict)
        self._help: dict[str, str] = {}
        self._gauges: list[Callable[[], Awaitable[dict[str, dict[LabelKey, float]]]]] = []

    def inc(self, name: str, amount: float = 1.0, help: str = "", **labels: str) -> None:
        if help:
            self._help[name] = help
        self._counters[name][tuple(sorted(labels.items()))] += amount

    def observe(self, name: str, seconds: float, help: str = "", **labels: str) -> None:
        if help:
            self._help[name] = help
        key = tuple(sorted(labels.items()))
        series = self._hist[name].setdefault(key, [0.0] * (len(_BUCKETS) + 2))
        series[bisect.bisect_left(_BUCKETS, seconds)] += 1
        series[-1] += seconds

    def gauge_source(
        self, source: Callable[[], Awaitable[dict[str, dict[LabelKey, float]]]]
    ) -> None:
        """Register a coroutine that returns gauge values when /metrics is scraped."""
        self._gauges.append(source)

    async def render(self) -> str:
        lines: list[str] = []
        for name, series in sorted(self._counters.items()):
            lines += [f"# HELP {name} {self._help.get(name) or name}", f"# TYPE {name} counter"]
            lines += [f"{name}{_labels(k)} {v:g}" for k, v in sorted(series.items())]
        for name, hist in sorted(self._hist.items()):
            lines += [f"# HELP {name} {self._help.get(name) or name}", f"# TYPE {name} histogram"]
            for key, counts in sorted(hist.items()):
                running = 0.0
                for bound, count in zip(_BUCKETS, counts, strict=False):
                    running += count
                    le = f'le="{bound}"'
                    lines.append(f"{name}_bucket{_labels(key, le)} {running:g}")
                running += counts[len(_BUCKETS)]
                inf = 'le="+Inf"'
                lines.append(f"{name}_bucket{_labels(key, inf)} {running:g}")
                lines.append(f"{name}_count{_labels(key)} {running:g}")
                lines.append(f"{name}_sum{_labels(key)} {counts[-1]:.6f}")
        for source in self._gauges:
            for name, series in sorted((await source()).items()):
                lines.append(f"# TYPE {name} gauge")
                lines += [f"{name}{_labels(k)} {v:g}" for k, v in sorted(series.items())]
        return "\n".join(lines) + "\n"
