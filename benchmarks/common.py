"""Shared pieces of the benchmark scripts: timed stages and the report they print."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def peak_rss_mb() -> float:
    """Peak RSS of this process, which hosts the embedded engine (dbt runs in a child)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Stages:
    results: list[tuple[str, float, int]] = field(default_factory=list)

    def run(self, name: str, rows_of: Callable[[Any], int], fn: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        out = fn()
        self.results.append((name, time.perf_counter() - start, rows_of(out)))
        return out

    def print(self, title: str) -> None:
        print(f"\n{title}")
        print(f"{'stage':<34} {'seconds':>8} {'rows':>12} {'rows/s':>10}")
        for name, seconds, rows in self.results:
            rate = rows / seconds if seconds else 0
            print(f"{name:<34} {seconds:>8.2f} {rows:>12,} {rate:>10,.0f}")
        print(f"{'total':<34} {sum(s for _, s, _ in self.results):>8.2f}")
        print(f"peak RSS of this process (Python + embedded engine): {peak_rss_mb():,.0f} MB")
