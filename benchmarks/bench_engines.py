"""The project's own PySpark code of the heaviest silver stages, on Parquet, through the embedded
engine (Sail over Spark Connect) and through Apache Spark local (classic pyspark, ``local[2]``).

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_engines.py --scale 1 [--telemetry-days 1]
    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_engines.py --lake /tmp/perf/b1/lake

Stages (each the project's code: transforms/silver/framework.evaluate with the entity's prepare,
rules, enterprise resolution and dedupe; the same call the pipeline makes):

- ``telemetry``: bronze.ent_telemetry → typed, resolved, de-duplicated readings (and rejects);
- ``intervals``: those readings → device state intervals (transforms/silver/device_state_interval);
- ``statistics``: bronze.gov_stats_monthly → standardised monthly statistics.

The inputs (bronze tables, reference tables, the enterprise master) are exported once to Parquet
from a lake — ``--lake``, or a fresh one built here from simulated files (bronze and the enterprise
master only). Each engine runs in a process of its own (a Spark Connect client and a classic
session cannot share one interpreter), twice in one session: cold (first run, session start not
included; it is printed apart) and warm. Both engines' outputs must hold the same rows (compared
as sorted Arrow tables, leaving out only the time a row was quarantined). A script, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(Path(__file__).resolve().parent), str(ROOT)]

INPUTS = [
    ("bronze", "ent_telemetry"),
    ("bronze", "gov_stats_monthly"),
    ("silver", "ref_region"),
    ("silver", "ref_industry"),
    ("silver", "enterprise"),
    ("silver", "enterprise_match_review"),
]
STAGES = ("telemetry", "intervals", "statistics")
VOLATILE = {"quarantined_at"}  # the time a row was quarantined: current_timestamp()


# ---------------------------------------------------------------- preparing the inputs (Sail)


def build_lake(base: Path, scale: float, seed: int, months: str, days: int) -> None:
    """Just what the stages read: reference tables, bronze of the two sources and the registry,
    the enterprise master — called directly, no Dagster, no checks."""
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
    from transforms.silver import enterprise, registry
    from transforms.silver.framework import build

    sources = ("ent_telemetry", "gov_stats_monthly", "gov_registry")
    sim = simulate(base / "inbox", scale, seed, months, Defects(corrupt_file=0), sources, days)
    tables = LakeTables()
    load_reference(tables)
    arrivals = sim.arrivals()
    IngestLedger(tables).land(
        [Delivery.from_path(s, p, arrived_at=arrivals[p.name]) for s, ps in sim.files.items() for p in ps]
    )
    api = registry_api(sim.registry_path, "bench", dt.datetime.now(dt.UTC))
    api.start()
    try:
        config = RegistryApiConfig(
            api.url, "bench", page_size=500, retry=HttpRetryPolicy(backoff_seconds=0.01)
        )
        pull(tables, config, "2026-01-01")
    finally:
        api.stop()
    for source in sources:
        load(tables, source)
    build(tables, registry())
    enterprise.build(tables)


def export_inputs(lake: Path, data: Path) -> dict[str, int]:
    """The inputs as Parquet under ``data`` (rows per table)."""
    os.environ["IBRAIN_LAKE_ROOT"] = str(lake)
    from catalog import get_contract
    from catalog.tables import LakeTables

    tables = LakeTables()
    rows = {}
    for layer, table in INPUTS:
        contract = get_contract(layer, table)
        tables.ensure(contract)  # the review table may not exist yet: empty, with its schema
        df = tables.read(layer, table)
        df.write.mode("overwrite").parquet(str(data / f"{layer}.{table}"))
        rows[f"{layer}.{table}"] = df.count()
    return rows


# ---------------------------------------------------------------- one engine (its own process)


class ParquetTables:
    """What Refs needs of LakeTables, over the exported Parquet files."""

    def __init__(self, spark: Any, data: Path) -> None:
        self.spark, self.data = spark, data

    def read(self, layer: str, table: str) -> Any:
        return self.spark.read.parquet(str(self.data / f"{layer}.{table}"))

    def exists(self, contract: Any) -> bool:
        return (self.data / f"{contract.layer}.{contract.table}").exists()


class ParquetStaging:
    """catalog.staging.SparkStaging's contract (persist = write Parquet, read it back), in a folder."""

    def __init__(self, spark: Any, folder: Path) -> None:
        self.spark, self.folder, self.count = spark, folder, 0

    def persist(self, df: Any) -> Any:
        self.count += 1
        path = str(self.folder / f"step-{self.count:02d}")
        df.write.mode("overwrite").parquet(path)
        return self.spark.read.parquet(path)


def session(engine: str) -> Any:
    if engine == "sail":
        from ibrain.spark import spark_session

        return spark_session(attach=False)
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master("local[2]")
        .config("spark.api.mode", "classic")
        .appName("ibrain-bench")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", os.environ.get("BENCH_SPARK_MEMORY", "3g"))
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )


def run_stage(stage: str, spark: Any, data: Path, out: Path) -> int:
    """One stage, its outputs written under ``out``; rows written."""
    from pyspark.sql import functions as F

    from transforms.silver import device_state_interval as intervals
    from transforms.silver.entities import enterprise_month_stats, telemetry_reading
    from transforms.silver.framework import common_columns, evaluate, to_quarantine
    from transforms.silver.refs import Refs

    tables = ParquetTables(spark, data)
    if stage == "intervals":
        readings = spark.read.parquet(str(out.parent / "telemetry" / "silver"))
        result = intervals.intervals(readings)
        result.write.mode("overwrite").parquet(str(out / "silver"))
        return spark.read.parquet(str(out / "silver")).count()
    entity = telemetry_reading.entity() if stage == "telemetry" else enterprise_month_stats.entity()
    bronze = tables.read("bronze", entity.bronze.table)
    if entity.bronze_filter:
        bronze = bronze.filter(entity.bronze_filter)
    refs = Refs(tables)  # type: ignore[arg-type]
    checked = evaluate(entity, bronze, refs, ParquetStaging(spark, out / "staging"))
    silver = checked.filter(F.col("rule_id").isNull()).select(*entity.columns(), *common_columns())
    silver.write.mode("overwrite").parquet(str(out / "silver"))
    rejected = to_quarantine(entity, checked.filter(F.col("rule_id").isNotNull()))
    rejected.write.mode("overwrite").parquet(str(out / "quarantine"))
    return (
        spark.read.parquet(str(out / "silver")).count() + spark.read.parquet(str(out / "quarantine")).count()
    )


def worker(engine: str, data: Path, out: Path, repeats: int) -> None:
    """Time each stage ``repeats`` times in one session; print the figures as JSON."""
    start = time.perf_counter()
    spark = session(engine)
    spark.range(1).count()
    figures: dict[str, Any] = {"session_start": time.perf_counter() - start, "stages": {}}
    for stage in STAGES:
        times = []
        for attempt in range(repeats):
            folder = out / engine / f"run{attempt}" / stage
            begin = time.perf_counter()
            rows = run_stage(stage, spark, data, folder)
            times.append(time.perf_counter() - begin)
        figures["stages"][stage] = {"seconds": times, "rows": rows}
    print("FIGURES " + json.dumps(figures))


# ---------------------------------------------------------------- comparing and reporting


def same_rows(left: Path, right: Path) -> tuple[bool, str]:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    def table(path: Path):
        t = pq.read_table(path)
        t = t.drop_columns([c for c in t.column_names if c in VOLATILE])
        t = t.select(sorted(t.column_names))
        return t.sort_by(
            [
                (c, "ascending")
                for c in t.column_names
                if not str(t.schema.field(c).type).startswith(("list", "struct", "map"))
            ]
        )

    a, b = table(left), table(right)
    if a.num_rows != b.num_rows:
        return False, f"{a.num_rows} vs {b.num_rows} rows"
    if a.column_names != b.column_names:
        return False, f"columns differ: {set(a.column_names) ^ set(b.column_names)}"
    for name in a.column_names:
        x, y = a[name], b[name]
        if x.type != y.type:
            y = y.cast(x.type)
        if not pc.all(pc.equal(x, y).fill_null(True)).as_py() or x.null_count != y.null_count:
            return False, f"column {name} differs"
    return True, f"{a.num_rows:,} rows"


def cold(figures: dict[str, Any], stage: str) -> float:
    return figures["stages"][stage]["seconds"][0]


def warm(figures: dict[str, Any], stage: str) -> float:
    """The best of the runs after the first (NaN with one run)."""
    return min(figures["stages"][stage]["seconds"][1:] or [float("nan")])


def run_worker(engine: str, data: Path, out: Path, repeats: int) -> dict[str, Any] | str:
    env = dict(os.environ)
    # a Spark Connect session made here sets SPARK_CONNECT_MODE_ENABLED, which would make the
    # classic worker ask for a Connect server too
    for name in ("SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED"):
        env.pop(name, None)
    env["PYTHONPATH"] = str(ROOT)
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        engine,
        "--data",
        str(data),
        "--out",
        str(out),
        "--repeats",
        str(repeats),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("FIGURES "):
            return json.loads(line.removeprefix("FIGURES "))
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-15:]
    return "\n".join(tail) or f"exit {proc.returncode}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--months", default="2024-01:2025-01")
    parser.add_argument("--telemetry-days", type=int, default=1)
    parser.add_argument("--lake", type=Path, help="read the inputs from this lake instead of building one")
    parser.add_argument("--repeats", type=int, default=2, help="runs per stage in one session (cold, warm…)")
    parser.add_argument("--engines", default="sail,spark")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.data, args.out, args.repeats)
        return

    base = Path(tempfile.mkdtemp(prefix="ibrain-engines-"))
    lake = args.lake
    if lake is None:
        print(f">> building a lake at scale {args.scale} (bronze, reference, enterprise master)", flush=True)
        build_lake(base, args.scale, args.seed, args.months, args.telemetry_days)
        lake = base / "lake"
    data, out = base / "data", base / "out"
    inputs = export_inputs(lake, data)
    print(">> inputs: " + ", ".join(f"{k} {v:,}" for k, v in inputs.items()), flush=True)
    from ibrain.spark import stop_embedded_server

    stop_embedded_server()
    results: dict[str, Any] = {}
    for engine in args.engines.split(","):
        print(f">> {engine}", flush=True)
        results[engine] = run_worker(engine, data, out, args.repeats)
    print(
        f"\n{'engine':<8} {'session start':>13}  "
        + "  ".join(f"{s + ' cold':>16} {'warm':>7}" for s in STAGES)
    )
    for engine, figures in results.items():
        if isinstance(figures, str):
            print(f"{engine:<8} could not run:\n{figures}")
            continue
        cells = [f"{cold(figures, s):>16.2f} {warm(figures, s):>7.2f}" for s in STAGES]
        print(f"{engine:<8} {figures['session_start']:>13.2f}  " + "  ".join(cells))
    ok = [e for e, f in results.items() if not isinstance(f, str)]
    if len(ok) == 2:
        sail, spark = (results[e] for e in ok)
        print("\nratio (Spark local ÷ Sail; above 1: Sail faster), rows compared:")
        for stage in STAGES:
            verdicts = []
            for part in ("silver",) if stage == "intervals" else ("silver", "quarantine"):
                same, what = same_rows(
                    out / ok[0] / "run0" / stage / part, out / ok[1] / "run0" / stage / part
                )
                verdicts.append(f"{part}: {'same' if same else 'DIFFERENT'} ({what})")
            ratio_cold = cold(spark, stage) / cold(sail, stage)
            ratio_warm = warm(spark, stage) / warm(sail, stage)
            print(f"  {stage:<11} cold {ratio_cold:5.2f}×  warm {ratio_warm:5.2f}×  " + "; ".join(verdicts))
    if args.json:
        args.json.write_text(json.dumps({"inputs": inputs, "engines": results}, indent=1))
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
