"""Benchmark the whole pipeline stage by stage at a stated scale factor: every source from
landing through bronze and silver (master, facts, telemetry, state intervals) to dbt.

    .venv/bin/python benchmarks/bench_pipeline.py --scale 10 [--months 2024-01:2025-01] [--telemetry-days 1]

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
    parser.add_argument("--telemetry-days", type=int, default=1)
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="ibrain-bench-"))
    os.environ["IBRAIN_LAKE_ROOT"] = str(base / "lake")
    import datetime as dt

    from catalog.tables import LakeTables
    from ibrain.retry import HttpRetryPolicy
    from ingest.bronze import load
    from ingest.connectors.registry import RegistryApiConfig, pull
    from ingest.ledger import Delivery, IngestLedger
    from ingest.reference import load_reference
    from simulators import registry_api, simulate
    from simulators.defects import Defects
    from transforms.silver import device_state_interval, enterprise, facts, registry
    from transforms.silver.framework import build

    stages = Stages()
    sim = stages.run(
        "simulate all sources",
        lambda s: sum(len(p) for p in s.files.values()),
        lambda: simulate(
            base / "inbox",
            args.scale,
            args.seed,
            args.months,
            Defects(corrupt_file=0),
            telemetry_days=args.telemetry_days,
        ),
    )
    tables = LakeTables()
    stages.run("load reference", lambda r: sum(v["rows"] for v in r.values()), lambda: load_reference(tables))
    arrivals = sim.arrivals()
    stages.run(
        "land + ledger",
        lambda r: len(r.landed),
        lambda: IngestLedger(tables).land(
            [Delivery.from_path(s, p, arrived_at=arrivals[p.name]) for s, ps in sim.files.items() for p in ps]
        ),
    )
    api = registry_api(sim.registry_path, "bench", dt.datetime.now(dt.UTC))
    api.start()
    config = RegistryApiConfig(api.url, "bench", page_size=500, retry=HttpRetryPolicy(backoff_seconds=0.01))
    stages.run("registry API pull", lambda r: r.records, lambda: pull(tables, config, "2026-01-01"))
    api.stop()
    rows_in: dict[str, int] = {}
    for source in [*sim.files, "gov_registry"]:
        report = stages.run(f"bronze {source}", lambda r: r.rows_read, lambda s=source: load(tables, s))
        rows_in[source] = report.rows_bronze
    stages.run("silver registry_record", lambda r: r.rows_in, lambda: build(tables, registry()))
    stages.run("silver enterprise (SCD2)", lambda r: r.versions, lambda: enterprise.build(tables))
    for entity in facts():
        stages.run(f"silver {entity.name}", lambda r: r.rows_in, lambda e=entity: build(tables, e))
    stages.run(
        "silver device_state_interval",
        lambda days: tables.read("silver", "telemetry_reading").count(),
        lambda: device_state_interval.build(tables),
    )
    launcher = Path(sys.executable).with_name("ibrain-dbt")
    dbt_dir = Path(__file__).resolve().parents[1] / "transforms" / "dbt"
    facts = lambda _: tables.read("silver", "enterprise_month_stats").count()  # noqa: E731
    last = args.months.split(":")[-1]
    for label, extra in (
        ("dbt build, every warehouse model + tests (first run)", []),
        ("dbt build again, nothing changed (MERGEs commit nothing)", []),
        (
            f"dbt build, monthly models for {last} only",
            ["--select", "tag:monthly", "--vars", f'{{"periods": ["{last}"]}}'],
        ),
    ):
        stages.run(
            label,
            facts,
            lambda extra=extra: subprocess.run(
                # as the pipeline builds (orchestration.assets.dbt.BUILD): without the dbt unit tests
                [str(launcher), "build", "--quiet", "--exclude-resource-type", "unit_test", *extra],
                check=True,
                cwd=dbt_dir,
            ),
        )
    stages.print(
        f"scale {args.scale}: {sim.manifest['enterprises']:,} enterprises, {sim.manifest['devices']:,} "
        f"devices, {len(sim.manifest['deliveries']):,} files, {sum(rows_in.values()):,} bronze rows"
    )


if __name__ == "__main__":
    main()
