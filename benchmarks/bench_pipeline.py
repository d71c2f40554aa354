"""Benchmark the real pipeline: what a user runs, through Dagster, with every quality check.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_pipeline.py --scale 10 [--telemetry-days 1]
        [--months 2024-01:2025-01] [--json out.json] [--compare old.json] [--demo]

On a fresh temporary lake (demo mode, an identified data engineer): the simulator drops every
source's files in the inbox (no corrupt file) and serves the registry over HTTP on loopback — not
timed — then three phases, each one `ibrain run` in a subprocess, timed from its start to its
exit (from landed files to the last check):

- ``first``: everything on the fresh lake;
- ``rerun``: the same again with nothing new (what it re-checks: the registry API pull, the inbox,
  every quality check of the run's periods; the MERGEs commit nothing);
- ``correction``: one city's statistics for the first month re-delivered with other values (a
  correction), which must refresh gold, themes, topics, indicators, the next month's MoM and the
  next year's YoY.

``--demo`` instead times one `ibrain demo` (simulation and landing included) with the same table.

Per phase: a table of the Dagster steps read back from the instance's event log — bronze per
source, silver per entity, dbt per group — split into the step's own work and its quality checks
(the time after its last materialisation, or for dbt after dbt's last event: the checks,
expectations and records), rows and rows/s where the step reports rows; "outside steps" is the
wall time minus the steps (process start, definitions, Dagster's run bookkeeping). Memory: the
peak of the summed RSS of the CLI process and all its descendants, sampled every 0.2 s (a lower
bound), and the cgroup's peak where cgroup v2 exposes it (everything in the cgroup).

A script, not a timed test.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(Path(__file__).resolve().parent), str(ROOT)]
from common import TreeMemory, own_cgroup_peak_bytes  # noqa: E402

ROW_KEYS = ("rows_read", "rows_in")  # bronze and silver report the rows they read


def lake_env(base: Path) -> dict[str, str]:
    """A demo-mode lake of its own under ``base`` with an identified data engineer (issue 13)."""
    from tests.support.identity import engineer_env

    env = {
        "IBRAIN_ENV": "demo",
        "IBRAIN_LAKE_ROOT": str(base / "lake"),
        "IBRAIN_INBOX": str(base / "inbox"),
        "DAGSTER_HOME": str(base / "dagster"),
    }
    return engineer_env(env, login="bench")


def correct_one_city(path: Path, out_dir: Path) -> Path:
    """A correction of a statistics file: every enterprise's revenue (营业收入) × 1.1, as received
    (same encoding, title lines and line endings); lines that do not parse are kept as they are."""
    raw = path.read_bytes()
    encoding = "utf-8" if raw.startswith(b"\xef\xbb\xbf") else "gbk"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        encoding, text = "utf-8", raw.decode("utf-8")
    lines = text.splitlines(keepends=True)
    header = next(i for i, line in enumerate(lines) if "统一社会信用代码" in line)
    column = next(csv.reader([lines[header]])).index("营业收入(万元)")
    out = lines[: header + 1]
    for line in lines[header + 1 :]:
        fields = next(csv.reader([line]), [])
        try:
            fields[column] = f"{float(fields[column]) * 1.1:.2f}"
        except (IndexError, ValueError):
            out.append(line)
            continue
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator=line[len(line.rstrip("\r\n")) :]).writerow(fields)
        out.append(buffer.getvalue())
    target = out_dir / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes("".join(out).encode(encoding))
    return target


def timed_cli(args: list[str], env: dict[str, str], log: Path) -> dict[str, Any]:
    """Run ``ibrain <args>``; wall seconds, exit code and the peak memory of its process tree."""
    ibrain = str(Path(sys.executable).with_name("ibrain"))
    start = time.perf_counter()
    started_at = dt.datetime.now(dt.UTC)
    with log.open("w") as out:
        proc = subprocess.Popen([ibrain, *args], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        memory = TreeMemory(proc.pid)
        memory.start()
        code = proc.wait()
        peak = memory.stop()
    return {
        "wall": time.perf_counter() - start,
        "exit": code,
        "peak_tree_rss_mb": peak / 2**20,
        "started_at": started_at,
        "log": str(log),
    }


def dagster_steps(dagster_home: str, since: dt.datetime) -> list[dict[str, Any]]:
    """Every step of the runs created since ``since``, in order: seconds, its own work, its
    checks, rows (as the step's materialisations report them)."""
    import dagster as dg

    os.environ["DAGSTER_HOME"] = dagster_home
    kinds = {
        dg.DagsterEventType.STEP_START,
        dg.DagsterEventType.STEP_SUCCESS,
        dg.DagsterEventType.STEP_FAILURE,
        dg.DagsterEventType.ASSET_MATERIALIZATION,
        dg.DagsterEventType.ASSET_CHECK_EVALUATION,
    }
    steps: list[dict[str, Any]] = []
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs(dg.RunsFilter(created_after=since - dt.timedelta(seconds=1)), ascending=True)
        for run in runs:
            events: dict[str, list[Any]] = defaultdict(list)
            for entry in instance.all_logs(run.run_id, of_type=kinds):
                if entry.dagster_event and entry.step_key:
                    events[entry.step_key].append(entry)
            for key, entries in events.items():
                times = {e.dagster_event.event_type: e.timestamp for e in entries}
                start = times.get(dg.DagsterEventType.STEP_START)
                end = times.get(dg.DagsterEventType.STEP_SUCCESS, times.get(dg.DagsterEventType.STEP_FAILURE))
                if start is None or end is None:
                    continue
                mats = [
                    e
                    for e in entries
                    if e.dagster_event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
                ]
                checks = [
                    e
                    for e in entries
                    if e.dagster_event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
                ]
                # dbt streams its materialisations and tests; what follows is the quality record
                work_end = max(
                    (e.timestamp for e in (mats + checks if key.startswith("dbt_") else mats)), default=end
                )
                rows = 0
                for e in mats:
                    metadata = e.dagster_event.event_specific_data.materialization.metadata
                    for name in ROW_KEYS:
                        if name in metadata:
                            rows = max(rows, int(metadata[name].value))
                steps.append(
                    {
                        "run": run.job_name,
                        "step": key,
                        "seconds": end - start,
                        "work": work_end - start,
                        "checks": end - work_end,
                        "check_results": len(checks),
                        "rows": rows,
                        "ok": dg.DagsterEventType.STEP_SUCCESS in times,
                    }
                )
    return steps


def measure(name: str, args: list[str], env: dict[str, str], base: Path) -> dict[str, Any]:
    print(f">> {name}: ibrain {' '.join(args)}", flush=True)
    result = timed_cli(args, env, base / f"{name}.log")
    steps = dagster_steps(env["DAGSTER_HOME"], result.pop("started_at"))
    stage_seconds = sum(s["seconds"] for s in steps)
    result |= {"steps": steps, "outside_steps": result["wall"] - stage_seconds}
    print(f"   {result['wall']:.1f} s, exit {result['exit']}", flush=True)
    return result


def group(step: str) -> str:
    for prefix in ("bronze", "silver", "dbt"):
        if step.startswith(prefix):
            return prefix
    return "other"


def print_phase(name: str, phase: dict[str, Any]) -> None:
    print(
        f"\n{name}: wall {phase['wall']:.1f} s, exit {phase['exit']}, peak RSS of the process tree "
        f"{phase['peak_tree_rss_mb']:,.0f} MB"
    )
    print(f"{'step':<42} {'seconds':>8} {'work':>8} {'checks':>8} {'rows':>11} {'rows/s':>9}")
    totals: dict[str, float] = defaultdict(float)
    for s in phase["steps"]:
        rate = f"{s['rows'] / s['work']:,.0f}" if s["rows"] and s["work"] else ""
        rows = f"{s['rows']:,}" if s["rows"] else ""
        flag = "" if s["ok"] else "  FAILED"
        label = (
            f"{s['step']} ({s['run'].removeprefix('ingest_')})"
            if s["run"].startswith("ingest")
            else s["step"]
        )
        times = f"{s['seconds']:>8.1f} {s['work']:>8.1f} {s['checks']:>8.1f}"
        print(f"{label:<42} {times} {rows:>11} {rate:>9}{flag}")
        totals[group(s["step"])] += s["seconds"]
        totals["quality (checks inside steps)"] += s["checks"]
    for label in ("bronze", "silver", "dbt", "other", "quality (checks inside steps)"):
        print(f"  {'total ' + label:<40} {totals[label]:>8.1f}")
    print(f"  {'outside steps (CLI, Dagster, definitions)':<40} {phase['outside_steps']:>8.1f}")


def _diff_line(label: str, old: float, new: float, digits: int = 1) -> str:
    return f"{label:<48} {old:>8.{digits}f} {new:>8.{digits}f} {new - old:>+8.{digits}f}"


def compare(old: dict[str, Any], new: dict[str, Any]) -> None:
    print("\ncompared with the earlier figures (seconds; new − old):")
    print(f"{'phase / step':<48} {'old':>8} {'new':>8} {'Δ':>8}")
    for name, phase in new["phases"].items():
        before = old.get("phases", {}).get(name)
        if before is None:
            continue
        print(_diff_line(f"{name} wall", before["wall"], phase["wall"]))
        print(
            _diff_line(f"{name} peak tree RSS MB", before["peak_tree_rss_mb"], phase["peak_tree_rss_mb"], 0)
        )
        old_steps = {(s["run"], s["step"]): s["seconds"] for s in before["steps"]}
        for s in phase["steps"]:
            was = old_steps.get((s["run"], s["step"]))
            if was is not None:
                print(_diff_line(f"  {s['step']}", was, s["seconds"]))
        print(_diff_line("  outside steps", before["outside_steps"], phase["outside_steps"]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--months", default="2024-01:2025-01")
    parser.add_argument("--telemetry-days", type=int, default=1)
    parser.add_argument("--page-size", type=int, default=500, help="registry API page size")
    parser.add_argument("--phases", default="first,rerun,correction")
    parser.add_argument("--demo", action="store_true", help="time one `ibrain demo` instead")
    parser.add_argument("--base", type=Path, help="folder for the lake (default: a new temporary one)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--compare", type=Path, help="print the differences with an earlier --json")
    args = parser.parse_args()

    base = args.base or Path(tempfile.mkdtemp(prefix="ibrain-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **lake_env(base)}
    figures: dict[str, Any] = {
        "scale": args.scale,
        "months": args.months,
        "telemetry_days": args.telemetry_days,
        "seed": args.seed,
        "cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "phases": {},
    }
    if args.demo:
        demo = [
            "demo",
            "--scale",
            str(args.scale),
            "--months",
            args.months,
            "--seed",
            str(args.seed),
            "--telemetry-days",
            str(args.telemetry_days),
        ]
        figures["phases"]["demo"] = measure("demo", demo, env, base)
    else:
        from ibrain.lake import Lake
        from ibrain.settings import Settings
        from ingest.inbox import drop_files
        from simulators import registry_api, simulate
        from simulators.defects import Defects

        lake = Lake(Settings.from_env(env))
        print(f">> simulating scale {args.scale}, dropping the files in the inbox (not timed)", flush=True)
        inbox = base / "simulated"
        sim = simulate(
            inbox,
            args.scale,
            args.seed,
            args.months,
            Defects(corrupt_file=0),
            telemetry_days=args.telemetry_days,
        )
        drop_files(lake, sim.files)
        token = secrets.token_urlsafe(24)
        api = registry_api(sim.registry_path, token, dt.datetime.now(dt.UTC))
        env |= {
            "IBRAIN_REGISTRY_API_URL": api.start(),
            "IBRAIN_REGISTRY_API_TOKEN": token,
            "IBRAIN_REGISTRY_PAGE_SIZE": str(args.page_size),
            "IBRAIN_API_BACKOFF_SECONDS": "0.05",
        }
        figures |= {
            "enterprises": sim.manifest["enterprises"],
            "devices": sim.manifest["devices"],
            "files": sum(len(p) for p in sim.files.values()),
            "inbox_mb": sum(p.stat().st_size for ps in sim.files.values() for p in ps) / 1e6,
        }
        try:
            phases = args.phases.split(",")
            for phase in phases:
                if phase == "correction":
                    first_month = args.months.split(":")[0].replace("-", "")
                    original = next(p for p in sim.files["gov_stats_monthly"] if p.stem.endswith(first_month))
                    corrected = correct_one_city(original, base / "corrections")
                    drop_files(lake, {"gov_stats_monthly": [corrected]})
                    figures["corrected_file"] = original.name
                figures["phases"][phase] = measure(phase, ["run"], env, base)
        finally:
            api.stop()
    figures["cgroup_peak_mb"] = (peak / 2**20) if (peak := own_cgroup_peak_bytes()) else None
    print(
        f"\nscale {args.scale}, months {args.months}, {args.telemetry_days} day(s) of telemetry; "
        f"{figures.get('enterprises', '?')} enterprises, {figures.get('devices', '?')} devices, "
        f"{figures.get('files', '?')} files; load average at start {figures['load_average_at_start'][0]:.1f} "
        f"on {figures['cpus']} CPUs; lake {base}"
    )
    for name, phase in figures["phases"].items():
        print_phase(name, phase)
    if figures["cgroup_peak_mb"] is not None:
        print(f"\ncgroup memory peak (everything in the cgroup): {figures['cgroup_peak_mb']:,.0f} MB")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1, default=str))
        print(f"figures written to {args.json}")
    if args.compare:
        compare(json.loads(args.compare.read_text()), figures)


if __name__ == "__main__":
    main()
