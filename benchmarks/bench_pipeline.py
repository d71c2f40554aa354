"""Benchmark the monthly-statistics slice stage by stage at a stated scale factor.

    .venv/bin/python benchmarks/bench_pipeline.py --scale 10 [--months 2024-01:2025-01]

Fresh temporary lake, embedded engine; prints wall time and rows/s per stage, and peak RSS.
A script, not a timed test.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Stages


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--months", default="2024-01:2025-01")
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="ibrain-bench-"))
    os.environ["IBRAIN_LAKE_ROOT"] = str(base / "lake")
    from ibrain.tables import LakeTables
    from ingest.bronze import load
    from ingest.ledger import Delivery, IngestLedger
    from ingest.reference import load_reference
    from ingest.simulator import simulate
    from ingest.simulator.defects import Defects
    from transforms.silver import enterprise_month_stats

    stages = Stages()
    sim = stages.run(
        "simulate (files + manifest)",
        lambda s: len(s.files["gov_stats_monthly"]),
        lambda: simulate(
            base / "inbox",
            args.scale,
            args.seed,
            args.months,
            Defects(corrupt_file=0),
            ("gov_stats_monthly",),
        ),
    )
    paths = sim.files["gov_stats_monthly"]
    tables = LakeTables()
    stages.run("load reference", lambda r: sum(v["rows"] for v in r.values()), lambda: load_reference(tables))
    stages.run(
        "land + ledger",
        lambda r: len(r.landed),
        lambda: IngestLedger(tables).land([Delivery.from_path("gov_stats_monthly", p) for p in paths]),
    )
    report = stages.run("bronze load", lambda r: r.rows_read, lambda: load(tables, "gov_stats_monthly"))
    silver = stages.run("silver build", lambda r: r.rows_in, lambda: enterprise_month_stats.build(tables))
    launcher = Path(sys.executable).with_name("ibrain-dbt")
    stages.run(
        "dbt build (3 models, 10 tests)",
        lambda _: silver.rows_silver,
        lambda: subprocess.run([str(launcher), "build", "--quiet"], check=True),
    )
    stages.print(
        f"scale {args.scale}: {sim.manifest['enterprises']:,} enterprises, {len(paths):,} files, "
        f"{report.rows_read:,} lines read, {silver.rows_silver:,} silver rows"
    )


if __name__ == "__main__":
    main()
