"""Benchmark the monthly-statistics slice stage by stage at a stated scale factor.

    .venv/bin/python benchmarks/bench_pipeline.py --scale 1 [--months 2024-01:2025-01]

Runs on a fresh temporary lake (or IBRAIN_LAKE_ROOT if --lake is given) with the embedded engine
and prints wall time and rows/s per stage, and peak RSS. A script, not a timed test.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def peak_rss_mb() -> float:
    """Peak RSS of this process, which hosts the embedded engine (dbt runs in a child)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--months", default="2024-01:2025-01")
    parser.add_argument("--lake", help="lake root (default: a new temporary folder)")
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="ibrain-bench-"))
    os.environ["IBRAIN_LAKE_ROOT"] = args.lake or str(base / "lake")
    from ibrain.tables import LakeTables
    from ingest.bronze import load_pending
    from ingest.ledger import Delivery, IngestLedger
    from ingest.reference import load_reference
    from ingest.simulator.gov_stats_monthly import month_range, write_files
    from ingest.simulator.population import population
    from transforms.silver import enterprise_month_stats

    results: list[tuple[str, float, int]] = []

    def stage(name: str, rows_of, fn):
        start = time.perf_counter()
        out = fn()
        seconds = time.perf_counter() - start
        results.append((name, seconds, rows_of(out)))
        return out

    enterprises = stage("simulate population", len, lambda: population(args.scale, args.seed))
    months = month_range(args.months)
    paths = stage(
        "write source files", len, lambda: write_files(enterprises, months, base / "inbox", args.seed)
    )
    tables = LakeTables()
    stage("load reference", lambda r: sum(v["rows"] for v in r.values()), lambda: load_reference(tables))
    landed = stage(
        "land + ledger",
        lambda r: len(r.landed),
        lambda: IngestLedger(tables).land([Delivery.from_path("gov_stats_monthly", p) for p in paths]),
    )
    assert len(landed.landed) == len(paths)
    report = stage("bronze load", lambda r: r.rows_read, lambda: load_pending(tables, "gov_stats_monthly"))
    silver = stage("silver build", lambda r: r.rows_in, lambda: enterprise_month_stats.build(tables))
    launcher = Path(sys.executable).with_name("ibrain-dbt")
    stage(
        "dbt build (3 models, 10 tests)",
        lambda _: silver.rows_silver,
        lambda: subprocess.run([str(launcher), "build", "--quiet"], check=True),
    )

    print(
        f"\nscale {args.scale}: {len(enterprises):,} enterprises × {len(months)} months, "
        f"{len(paths):,} files, {report.rows_read:,} lines read, {silver.rows_silver:,} silver rows"
    )
    print(f"{'stage':<34} {'seconds':>8} {'rows':>10} {'rows/s':>10}")
    for name, seconds, rows in results:
        print(f"{name:<34} {seconds:>8.2f} {rows:>10,} {rows / seconds if seconds else 0:>10,.0f}")
    total = sum(s for _, s, _ in results)
    print(f"{'total':<34} {total:>8.2f}")
    print(f"peak RSS of this process (Python + embedded engine): {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
