"""Benchmark telemetry ingestion: one day of hourly JSON Lines files into bronze.

    .venv/bin/python benchmarks/bench_telemetry.py --scale 10 [--days 1]

Scale 10 ≈ 5,000 devices at one reading a minute ≈ 7.2 M readings a day. Fresh temporary lake,
embedded engine; prints wall time and rows/s per stage, and peak RSS. A script, not a timed test.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Stages


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="ibrain-bench-"))
    os.environ["IBRAIN_LAKE_ROOT"] = str(base / "lake")
    from catalog.tables import LakeTables
    from ingest.bronze import load
    from ingest.ledger import Delivery, IngestLedger
    from simulators import simulate

    stages = Stages()
    sim = stages.run(
        "simulate hourly files",
        lambda s: len(s.files["ent_telemetry"]),
        lambda: simulate(
            base / "inbox",
            args.scale,
            args.seed,
            "2025-01:2025-01",
            sources=("ent_telemetry",),
            telemetry_days=args.days,
        ),
    )
    paths = sim.files["ent_telemetry"]
    size = sum(p.stat().st_size for p in paths)
    tables = LakeTables()
    stages.run(
        "land + ledger",
        lambda r: len(r.landed),
        lambda: IngestLedger(tables).land([Delivery.from_path("ent_telemetry", p) for p in paths]),
    )
    report = stages.run(
        "bronze load (parse, stage, commit)", lambda r: r.rows_read, lambda: load(tables, "ent_telemetry")
    )
    stages.print(
        f"scale {args.scale}: {sim.manifest['devices']:,} devices × {args.days} day(s), "
        f"{len(paths)} files, {size / 1e6:,.0f} MB, {report.rows_read:,} readings "
        f"({report.rows_bronze:,} to bronze, {report.rows_quarantined:,} quarantined)"
    )


if __name__ == "__main__":
    main()
