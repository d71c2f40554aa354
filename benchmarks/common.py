"""Shared pieces of the benchmark scripts: timed stages, the report they print, and the memory of
a whole process tree (the CLI, its dbt children and anything they start)."""

from __future__ import annotations

import os
import resource
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PAGE = os.sysconf("SC_PAGE_SIZE")


def peak_rss_mb() -> float:
    """Peak RSS of this process, which hosts the embedded engine (dbt runs in a child)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:  # the process ended while we looked
            continue
        # the command name (field 2) may hold spaces and parentheses: split after its last ')'
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def tree_rss_bytes(root: int) -> int:
    """Sum of the resident set sizes of ``root`` and all its descendants, now."""
    children = _children_map()
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
    return total


class TreeMemory(threading.Thread):
    """Samples :func:`tree_rss_bytes` of a process every ``interval`` seconds until stopped; keeps
    the peak. Sampling can miss a spike shorter than the interval: it is a lower bound."""

    def __init__(self, root: int, interval: float = 0.2) -> None:
        super().__init__(name="tree-memory", daemon=True)
        self.root, self.interval, self.peak = root, interval, 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.peak = max(self.peak, tree_rss_bytes(self.root))
            self._halt.wait(self.interval)

    def stop(self) -> int:
        self._halt.set()
        self.join()
        return self.peak


def own_cgroup_peak_bytes() -> int | None:
    """The memory peak of this process's cgroup (v2 ``memory.peak``), or None where it is not
    readable. It counts everything in the cgroup — on a shared machine more than the benchmark."""
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            if line.startswith("0::"):
                return int(Path("/sys/fs/cgroup", line[3:].lstrip("/"), "memory.peak").read_text())
    except (OSError, ValueError):
        return None
    return None


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
