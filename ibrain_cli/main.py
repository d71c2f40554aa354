"""``ibrain``: the commands a person types. Every command honours IBRAIN_LAKE_ROOT."""

from __future__ import annotations

import logging
import os
import secrets
import sys
from pathlib import Path

import click

from ibrain.settings import REPO_ROOT, SettingsError, get_settings

DEFAULT_MONTHS = "2024-01:2025-01"  # 13 months, so year-on-year growth exists
DEMO_SCALE = 0.1


def _fail(message: str) -> None:
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Show progress: Dagster events and dbt output.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Industry Brain lakehouse (产业大脑 产业数据仓).

    Lake root: IBRAIN_LAKE_ROOT (default ./var/lake); engine: SPARK_REMOTE or embedded Sail.
    """
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = {"verbose": verbose}
    try:
        get_settings()
    except SettingsError as exc:
        _fail(str(exc))


def _verbose() -> bool:
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx else None
    return bool(root and root.obj and root.obj.get("verbose"))


# -- simulate ---------------------------------------------------------------------------------------
def _parse_defects(items: tuple[str, ...]):
    from dataclasses import replace

    from simulators import Defects

    known = Defects.names()
    overrides = {}
    for item in items:
        name, _, rate = item.partition("=")
        if name not in known:
            _fail(f"--defect {item}: unknown defect {name!r}; known: {', '.join(known)}")
        try:
            value = float(rate)
        except ValueError:
            _fail(f"--defect {item}: rate must be a number between 0 and 1")
        if not 0 <= value <= 1:
            _fail(f"--defect {item}: rate must be between 0 and 1")
        overrides[name] = value
    return replace(Defects(), **overrides)


def _simulate(scale: float, seed: int, months: str, out_dir: Path, defects, sources, telemetry_days: int):
    from simulators import simulate

    try:
        return simulate(out_dir, scale, seed, months, defects, sources, telemetry_days)
    except ValueError as exc:
        _fail(str(exc))


def _land_simulation(simulation) -> None:
    from catalog.tables import LakeTables
    from ingest.ledger import Delivery, IngestLedger

    tables = LakeTables()
    tables.lake.ensure_bucket()
    arrivals = simulation.arrivals()
    deliveries = [
        Delivery.from_path(source, p, arrived_at=arrivals[p.name])
        for source, paths in simulation.files.items()
        for p in paths
    ]
    result = IngestLedger(tables).land(deliveries)
    click.echo(
        f"landed {len(result.landed)} new deliveries; {len(result.unchanged)} unchanged "
        "(same content as already landed)"
    )


def _to_inbox(simulation) -> None:
    from ibrain.lake import Lake

    lake = Lake()
    lake.ensure_bucket()
    count = 0
    for source, paths in simulation.files.items():
        for path in paths:
            lake.write_bytes(lake.uri("landing", "_inbox", source, path.name), path.read_bytes())
            count += 1
    click.echo(f"copied {count} files to {lake.uri('landing', '_inbox')}/<source>/")


SIM_OPTIONS = [
    click.option(
        "--scale",
        default=DEMO_SCALE,
        show_default=True,
        type=float,
        help="Scale factor: 1 ≈ 2,000 enterprises and 500 devices.",
    ),
    click.option("--seed", default=42, show_default=True, type=int, help="Same seed, same files."),
    click.option("--months", default=DEFAULT_MONTHS, show_default=True, help="YYYY-MM:YYYY-MM, inclusive."),
    click.option(
        "--telemetry-days",
        default=7,
        show_default=True,
        type=int,
        help="Days of telemetry, ending on the last day of --months.",
    ),
    click.option(
        "--defect",
        "defects",
        multiple=True,
        metavar="NAME=RATE",
        help="Override an injected defect rate, e.g. invalid_uscc=0.3 (see README).",
    ),
]


def sim_options(fn):
    for option in reversed(SIM_OPTIONS):
        fn = option(fn)
    return fn


@main.command()
@sim_options
@click.option("--source", "sources", multiple=True, help="Only these sources (default: all eight).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder for the files [default: IBRAIN_INBOX or ./var/inbox].",
)
@click.option(
    "--land",
    is_flag=True,
    help="Land the files in the lake (ledger: pending) with their simulated arrival times.",
)
@click.option(
    "--to-inbox",
    is_flag=True,
    help="Copy the files into the lake's drop zone instead, for the sensor / `ibrain ingest` to collect.",
)
def simulate(
    scale: float,
    seed: int,
    months: str,
    telemetry_days: int,
    defects: tuple[str, ...],
    sources: tuple[str, ...],
    out_dir: Path | None,
    land: bool,
    to_inbox: bool,
) -> None:
    """Simulate the source systems: every source in its native form, with injected defects.

    Writes a manifest (manifest.json) of every defect injected and every file's arrival time.
    The registry is served by `ibrain serve-registry` (an HTTP API) from its data set.
    """
    from simulators import ALL_SOURCES

    out_dir = out_dir or get_settings().inbox
    simulation = _simulate(
        scale, seed, months, out_dir, _parse_defects(defects), sources or ALL_SOURCES, telemetry_days
    )
    counts = ", ".join(f"{s} {len(p)}" for s, p in simulation.files.items())
    click.echo(f"wrote {counts} files to {out_dir}; manifest {simulation.manifest_path}")
    if land:
        _land_simulation(simulation)
    elif to_inbox:
        _to_inbox(simulation)


@main.command("serve-registry")
@click.option(
    "--data",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Registry data set [default: <inbox>/gov_registry/registry.json from `ibrain simulate`].",
)
@click.option("--port", default=8765, show_default=True, type=int)
@click.option("--error-rate", default=0.2, show_default=True, type=float, help="Share of 429/503 answers.")
def serve_registry(data: Path | None, port: int, error_rate: float) -> None:
    """Serve the simulated 市场监管 registry API on 127.0.0.1 (bearer token; Ctrl-C stops it).

    The token is IBRAIN_REGISTRY_API_TOKEN, or a new random one that is printed.
    """
    import datetime as dt
    import time

    from simulators import registry_api

    data = data or get_settings().inbox / "gov_registry" / "registry.json"
    if not data.exists():
        _fail(f"{data} not found: run `ibrain simulate` first")
    token = os.environ.get("IBRAIN_REGISTRY_API_TOKEN") or secrets.token_urlsafe(24)
    api = registry_api(data, token, dt.datetime.now(dt.UTC), error_rate)
    url = api.start(port)
    click.echo(
        f"registry API on {url}\n  export IBRAIN_REGISTRY_API_URL={url}\n"
        f"  export IBRAIN_REGISTRY_API_TOKEN={token}"
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        api.stop()


# -- ingest / run ----------------------------------------------------------------------------------
def _report(outcomes) -> bool:
    """One line per run; then each check that failed. A WARN rule below its threshold is
    reported but does not stop anything; an ERROR rule failing blocks what is downstream."""
    ok = True
    for outcome in outcomes:
        errors = [c for c in outcome.checks if not c.passed and c.severity == "ERROR"]
        warnings = [c for c in outcome.checks if not c.passed and c.severity != "ERROR"]
        status = "SUCCESS" if outcome.success else "FAILURE"
        click.echo(
            f"{outcome.job} run {outcome.run_id}: {status}; {len(outcome.materialized)} assets materialised; "
            f"checks {len(outcome.checks) - len(errors) - len(warnings)} passed, "
            f"{len(warnings)} below threshold (WARN), {len(errors)} failed (ERROR)"
        )
        for c in errors:
            click.secho(f"  FAILED [ERROR] {c.asset} :: {c.check}", fg="red")
        for c in warnings:
            click.secho(f"  below threshold [WARN] {c.asset} :: {c.check}", fg="yellow")
        for error in outcome.errors:
            click.secho(f"  {error}", fg="red")
        ok = ok and outcome.success
    if not ok:
        click.echo("details: the run's logs in the Dagster UI (make dev), or re-run with `ibrain -v`")
    return ok


@main.command()
@click.argument("source")
@click.option(
    "--path",
    "paths",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Land this file now (repeatable); without --path, process everything pending.",
)
@click.option("--unit", help="Reporting unit, when the file name does not say it.")
@click.option("--period", help="Period (YYYY-MM or YYYY-MM-DD), when the file name does not say it.")
def ingest(source: str, paths: tuple[Path, ...], unit: str | None, period: str | None) -> None:
    """Ingest SOURCE into bronze now, through the Dagster instance.

    With --path: land the files (ledger), then load them. Without: load what is pending for
    SOURCE (its inbox under landing/_inbox/SOURCE and the ledger). Exit 1 if a file is unreadable.
    """
    from catalog.tables import LakeTables
    from ingest.ledger import Delivery, IngestLedger, LandingError
    from ingest.sources import UnknownSourceError, get_source
    from orchestration.run import run_ingest

    try:
        get_source(source)
        if paths:
            tables = LakeTables()
            tables.lake.ensure_bucket()
            result = IngestLedger(tables).land([Delivery.from_path(source, p, unit, period) for p in paths])
            click.echo(f"landed {len(result.landed)}; {len(result.unchanged)} unchanged (no-op)")
    except (LandingError, UnknownSourceError) as exc:
        _fail(str(exc))
    outcomes = run_ingest([source], verbose=_verbose(), extra_periods=_registry_today(source))
    if not outcomes:
        click.echo(f"nothing pending for {source}")
    sys.exit(0 if _report(outcomes) else 1)


@main.command()
@click.argument("source")
@click.option("--from", "start", required=True, help="First period (YYYY-MM or YYYY-MM-DD).")
@click.option("--to", "end", help="Last period [default: --from].")
def backfill(source: str, start: str, end: str | None) -> None:
    """Rebuild SOURCE's bronze for a range of periods from landing (as a UI backfill does): the
    same deliveries give the same rows; no API is called."""
    from ingest.sources import UnknownSourceError
    from orchestration.run import run_backfill

    try:
        outcome = run_backfill(source, start, end or start, _verbose())
    except (UnknownSourceError, ValueError) as exc:
        _fail(str(exc))
    sys.exit(0 if _report([outcome]) else 1)


def _registry_today(source: str | None = None) -> dict[str, list[str]]:
    """The registry's partition for today when its API is configured (the run then pulls it)."""
    from ingest.connectors.registry import RegistryApiConfig
    from ingest.sources import get_source

    if source not in (None, "gov_registry"):
        return {}
    try:
        configured = RegistryApiConfig.from_env() is not None
    except SettingsError as exc:
        _fail(str(exc))
    return {"gov_registry": [get_source("gov_registry").current_period()]} if configured else {}


def _run_all() -> bool:
    from orchestration.run import run_ingest, run_pipeline

    verbose = _verbose()
    ok = _report(run_ingest(verbose=verbose, extra_periods=_registry_today()))
    try:
        pipeline = run_pipeline(verbose)
    except ValueError as exc:
        _fail(str(exc))
    return _report([pipeline]) and ok


@main.command()
def run() -> None:
    """Run everything through the Dagster instance (runs show in the UI): ingest what is pending
    (inboxes, ledger, the registry API if configured), then materialise everything downstream."""
    sys.exit(0 if _run_all() else 1)


@main.command()
@sim_options
def demo(scale: float, seed: int, months: str, telemetry_days: int, defects: tuple[str, ...]) -> None:
    """Simulate every source into the lake, pull the simulated registry API, run everything, and
    say where to look.

    Safe to repeat on the same lake: unchanged deliveries are no-ops and every asset is
    idempotent, so row counts do not change.
    """
    import datetime as dt

    from simulators import ALL_SOURCES, registry_api

    settings = get_settings()
    click.echo(f"lake root: {settings.lake_root}")
    # The demo injects every defect but corrupt files, which fail their ingest run by design
    # (`--defect corrupt_file=0.01` shows that too).
    rates = _parse_defects(("corrupt_file=0", *defects))
    simulation = _simulate(scale, seed, months, settings.inbox, rates, ALL_SOURCES, telemetry_days)
    click.echo(
        f"simulated {sum(len(p) for p in simulation.files.values())} source files into "
        f"{settings.inbox} (defects and arrivals: {simulation.manifest_path})"
    )
    _land_simulation(simulation)
    token = secrets.token_urlsafe(24)
    api = registry_api(simulation.registry_path, token, dt.datetime.now(dt.UTC), rates.api_error_rate, seed)
    os.environ.update({"IBRAIN_REGISTRY_API_URL": api.start(), "IBRAIN_REGISTRY_API_TOKEN": token})
    os.environ.setdefault("IBRAIN_API_BACKOFF_SECONDS", "0.05")
    os.environ.setdefault("IBRAIN_REGISTRY_PAGE_SIZE", "50")
    try:
        ok = _run_all()
    finally:
        api.stop()
        click.echo(f"registry API: {api.requests} requests, {api.errors} answered 429/503 and retried")
    _print_summary()
    click.echo("\ndata map (数据地图) — catalog, grading and lineage:")
    ok = _build_data_map(_catalog_dir()) and ok
    click.echo(
        "\nWarehouses: gold (star schema), theme 主题库 (e.g. theme.economic_operation_month, "
        "theme.enterprise_profile), topic 专题库 (e.g. topic.chain_map_node), indicator 指标库 "
        "(indicator.indicator_value); model and column docs: `make docs`.\n"
        "Next: `make dev` (or `ibrain dev`) and open http://127.0.0.1:3000 — the runs above are "
        "in Runs; the asset graph shows every layer, monthly models by partition.\n"
        "Query the tables from Python: `from ibrain.spark import spark_session; "
        "spark_session().table('theme.economic_operation_month').show()` (see notebooks/)."
    )
    sys.exit(0 if ok else 1)


@main.command()
def summary() -> None:
    """Print every Delta table (layer, rows, Delta version) and the export files."""
    _print_summary()


def _print_summary() -> None:
    from ibrain.lake import Lake
    from ibrain.summary import export_files, format_tables, table_summaries

    lake = Lake()
    rows = table_summaries(lake)
    click.echo("\n" + format_tables(rows))
    exports = export_files(lake)
    click.echo(f"\nexports ({len(exports)} files):")
    for path in exports:
        click.echo(f"  {path}")


@main.command()
def maintain() -> None:
    """Compact, checkpoint and vacuum every Delta table now (the weekly job, run by hand)."""
    from orchestration.run import run_job

    outcome = run_job("delta_maintenance", tags={"ibrain/trigger": "cli"}, verbose=_verbose())
    sys.exit(0 if _report([outcome]) else 1)


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("dagster_args", nargs=-1, type=click.UNPROCESSED)
def dev(dagster_args: tuple[str, ...]) -> None:
    """Start the Dagster UI and daemon (`dagster dev`) on http://127.0.0.1:3000."""
    from orchestration.run import ensure_dagster_home

    ensure_dagster_home(get_settings())
    dagster = Path(sys.executable).with_name("dagster")
    args = [
        str(dagster),
        "dev",
        "-w",
        str(REPO_ROOT / "workspace.yaml"),
        "-h",
        "127.0.0.1",
        "-p",
        "3000",
        *dagster_args,
    ]
    os.chdir(REPO_ROOT)
    os.environ["PATH"] = f"{dagster.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    os.execv(args[0], args)


@main.group()
def review() -> None:
    """Enterprise matches waiting for a person (silver.enterprise_match_review)."""


@review.command("list")
def review_list() -> None:
    """List pending candidates: rows quarantined as unresolved_enterprise and who they may be."""
    from catalog.tables import LakeTables
    from transforms.silver.review import pending

    rows = pending(LakeTables())
    for r in rows:
        candidate = (
            f"{r['candidate_name']} ({r['candidate_uscc']}, confidence {r['confidence']})"
            if r["candidate_enterprise_id"]
            else "no candidate"
        )
        click.echo(
            f"{r['review_id'][:12]}  {r['source_table']} {r['role']}  reported "
            f"{r['reported_name']!r} / {r['reported_uscc']!r} → {candidate}"
        )
    click.echo(f"{len(rows)} pending")


def _decide(review_id: str, decision: str, by: str | None) -> None:
    from catalog.tables import LakeTables
    from transforms.silver.review import ReviewError, decide, pending

    tables = LakeTables()
    matches = [r["review_id"] for r in pending(tables) if r["review_id"].startswith(review_id)]
    if len(matches) != 1:
        _fail(f"{review_id!r} matches {len(matches)} pending reviews; give more of the id")
    try:
        row = decide(tables, matches[0], decision, by or os.environ.get("USER") or "unknown")
    except ReviewError as exc:
        _fail(str(exc))
    click.echo(
        f"{decision}: {row['reported_name']!r} → {row['candidate_name']!r}; "
        "the next `ibrain run` releases the row"
    )


@review.command("confirm")
@click.argument("review_id")
@click.option("--by", help="Who decided [default: $USER].")
def review_confirm(review_id: str, by: str | None) -> None:
    """Confirm a candidate (by the id or its prefix from `ibrain review list`)."""
    _decide(review_id, "confirmed", by)


@review.command("reject")
@click.argument("review_id")
@click.option("--by", help="Who decided [default: $USER].")
def review_reject(review_id: str, by: str | None) -> None:
    """Reject a candidate."""
    _decide(review_id, "rejected", by)


@main.group()
def catalog() -> None:
    """The data catalog (contracts under catalog/contracts)."""


@catalog.command("dbt-yaml")
@click.option("--check", is_flag=True, help="Only check that the generated files are current.")
def catalog_dbt_yaml(check: bool) -> None:
    """(Re)generate the dbt properties files (one per model and seed, and models/_sources.yml)
    from the contracts."""
    from catalog.dbt_yaml import DBT_DIR, problems, render, write

    if check:
        found = problems()
        if found:
            _fail("\n".join([*found, "run `ibrain catalog dbt-yaml`"]))
        click.echo(f"{len(render())} dbt properties files under {DBT_DIR} are current")
        return
    changed = write()
    for path in changed:
        click.echo(f"{'wrote' if path.exists() else 'removed'} {path}")
    click.echo(f"{len(changed)} dbt properties files changed")


OPENLINEAGE_PRODUCER = "urn:industry-brain:ibrain-catalog-build"


def _quality_scores() -> dict:
    """quality.dq_scorecard's latest overall scores, or {} while it does not exist (no engine)."""
    from catalog.datamap import has_scorecard, read_scores
    from ibrain.lake import Lake

    lake = Lake()
    if not has_scorecard(lake):
        return {}
    from catalog.tables import LakeTables

    return read_scores(LakeTables(lake=lake))


@catalog.command("build")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for index.html (the data map) and openlineage/ [default: catalog/ beside a local "
    "lake (var/catalog for the default lake); beside DAGSTER_HOME for a lake on S3].",
)
def catalog_build(out_dir: Path | None) -> None:
    """Build the data map (数据地图): compile the dbt project for column lineage, check grading
    over the lineage (就高从严) and the lake's tables against their contracts, write
    OUT/index.html (one self-contained, searchable page) and the OpenLineage events. Exit 1 after
    writing if a check has findings."""
    if not _build_data_map(out_dir or _catalog_dir()):
        sys.exit(1)


def _beside_lake(name: str) -> Path:
    """A local folder for generated pages: beside a local lake (var/<name> for the default lake),
    beside DAGSTER_HOME for a lake on S3."""
    settings = get_settings()
    base = settings.dagster_home.parent if settings.is_s3 else Path(settings.lake_root).parent
    return base / name


def _catalog_dir() -> Path:
    return _beside_lake("catalog")


def _build_data_map(out_dir: Path) -> bool:
    """The work of `ibrain catalog build`; False when grading or a contract check has findings."""
    import datetime as dt
    import importlib.util
    from collections import Counter

    from catalog.contracts import ContractError, load_catalog
    from catalog.datamap import LAYER_LABELS, datasets, render_datamap
    from catalog.grading import check_grading
    from catalog.lineage import LineageBuilder, LineageError, compile_manifest

    try:
        contracts = load_catalog()
        click.echo("compiling the dbt project for column lineage (ibrain-dbt compile) …")
        lineage = LineageBuilder(_asset_lineage(), compile_manifest()).lineage
    except (ContractError, LineageError) as exc:
        _fail(str(exc))
    findings = check_grading(contracts, lineage)
    for finding in findings:
        click.secho(f"grading: {finding}", fg="red", err=True)
    mismatches = _lake_mismatches(contracts)
    for mismatch in mismatches:
        click.secho(f"contract: {mismatch}", fg="red", err=True)
    scores = _quality_scores()
    now = dt.datetime.now(dt.UTC)
    out_dir.mkdir(parents=True, exist_ok=True)
    index = out_dir / "index.html"
    index.write_text(render_datamap(contracts, lineage, findings, scores, generated_at=now), encoding="utf-8")

    if importlib.util.find_spec("catalog.openlineage_events") is None:
        events_note = "skipped (catalog/openlineage_events.py not found)"
    else:
        from catalog.openlineage_events import OpenLineageError, run_events, write_events

        events = list(run_events(lineage, contracts, get_settings().lake_root, OPENLINEAGE_PRODUCER, now))
        try:
            write_events(events, out_dir / "openlineage")
        except OpenLineageError as exc:
            _fail(f"OpenLineage events not written (the data map is at {index}): {exc}")
        events_note = f"{len(events)} → {out_dir / 'openlineage'}"

    layers = Counter(d.layer for d in datasets(contracts, lineage).values())
    order = [x for x in LAYER_LABELS if x in layers] + sorted(set(layers) - set(LAYER_LABELS))
    click.echo(f"datasets: {sum(layers.values())} ({', '.join(f'{x} {layers[x]}' for x in order)})")
    click.echo(f"quality scores: {len(scores) or 'none yet (quality.dq_scorecard not built)'}")
    click.echo(f"grading findings: {len(findings)}")
    click.echo(f"lake tables not matching their contracts: {len(mismatches)}")
    click.echo(f"OpenLineage events: {events_note}")
    click.echo(f"data map: {index.resolve()}")
    if findings or mismatches:
        click.secho(
            f"{len(findings)} grading findings and {len(mismatches)} contract mismatches (listed above): "
            "fix the contracts (levels, downgrades, columns) or the tables",
            fg="red",
            err=True,
        )
        return False
    return True


def _asset_lineage() -> dict[str, set[str]]:
    from orchestration.definitions import defs
    from orchestration.lineage import asset_table_lineage

    return asset_table_lineage(defs)


def _lake_mismatches(contracts: dict) -> list[str]:
    """The lake's Delta tables against their contracts (none when the lake is still empty)."""
    from catalog.consistency import lake_problems
    from ibrain.lake import Lake

    lake = Lake()
    if not lake.delta_tables():
        return []
    from catalog.tables import LakeTables

    tables = LakeTables(lake=lake)
    return lake_problems(lake, tables.spark, contracts)


def _suggest(name: str, known: list[str]) -> list[str]:
    import difflib

    close = difflib.get_close_matches(name, known, n=5, cutoff=0.75)
    table = name.rsplit(".", 1)[-1]
    by_table = {k.rsplit(".", 1)[-1]: k for k in known}
    close += [by_table[t] for t in difflib.get_close_matches(table, list(by_table), n=3, cutoff=0.75)]
    return list(dict.fromkeys(close))[:5]


@catalog.command("show")
@click.argument("name", metavar="LAYER.TABLE")
def catalog_show(name: str) -> None:
    """Print one data-map entry: names, owner, level, SLA, grain, key, columns (level, masking),
    upstream and downstream tables, and column lineage of dbt models when the project was compiled
    (`ibrain catalog build`)."""
    from catalog.contracts import ContractError, load_catalog
    from catalog.datamap import datasets, format_dataset
    from catalog.lineage import COMPILED_TARGET, Lineage, LineageError, column_lineage

    try:
        contracts = load_catalog()
    except ContractError as exc:
        _fail(str(exc))
    known = sorted(datasets(contracts, Lineage(tables={}), chains=[]))
    if name not in known:
        close = _suggest(name, known)
        layer = name.split(".", 1)[0]
        in_layer = [k.split(".", 1)[1] for k in known if k.startswith(f"{layer}.")]
        if close:
            hint = f"; did you mean {', '.join(close)}?"
        elif in_layer and "." in name:
            hint = f"; {layer} has {', '.join(in_layer)}"
        else:
            hint = " (names are layer.table, e.g. gold.dim_region)"
        _fail(f"no dataset {name!r} in the catalog{hint}")

    lineage = Lineage(tables=_asset_lineage())
    manifest = COMPILED_TARGET / "manifest.json"
    note = None
    if contracts.get(name) is not None and contracts[name].produced_by == "dbt":
        if manifest.exists():
            try:
                lineage.columns = column_lineage(manifest, contracts)
            except LineageError as exc:
                note = f"column lineage unavailable ({exc}); run `ibrain catalog build` to recompile"
        else:
            note = "column lineage: no compiled dbt manifest yet; run `ibrain catalog build`"
    ds = datasets(contracts, lineage)[name]
    click.echo(format_dataset(ds, score=_quality_scores().get(name)))
    if note:
        click.secho(note, fg="yellow")


# -- quality: report and batch withdrawal -----------------------------------------------------------
def _quality_dir() -> Path:
    return _beside_lake("quality")


@main.command("quality-report")
@click.option(
    "--period", help="Month YYYY-MM [default: the latest month in quality.dq_scorecard, up to this one]."
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="HTML file to write [default: quality/quality-report[-PERIOD].html beside a local lake "
    "(var/quality for the default lake); beside DAGSTER_HOME for a lake on S3].",
)
def quality_report(period: str | None, out_path: Path | None) -> None:
    """Write the data-quality report (数据质量报告): one self-contained HTML page with the overall
    and per-dimension scores (GB/T 36344), the monthly trend, datasets × dimensions, the failing
    rules, the open issues and quarantined sample rows; print a short summary and its path."""
    from catalog.tables import LakeTables
    from quality.report import QualityReportError, gather, parse_period, render, summary_lines

    try:
        month = parse_period(period) if period else None
        data = gather(LakeTables(), month)
    except QualityReportError as exc:
        _fail(str(exc))
    name = f"quality-report-{period}.html" if period else "quality-report.html"
    out = out_path or _quality_dir() / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(data), encoding="utf-8")
    for line in summary_lines(data):
        click.echo(line)
    click.echo(f"report: {out.resolve()}")


@main.group()
def batch() -> None:
    """Delivery batches of the ingest ledger (audit.ingest_ledger)."""


def _os_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError) as exc:
        _fail(f"cannot tell the OS user ({exc}): say who withdraws the batch with --by")
    raise AssertionError("unreachable")


@batch.command("withdraw")
@click.argument("batch_id")
@click.option("--reason", required=True, help="Why the batch is withdrawn (recorded in the ledger).")
@click.option("--by", help="Who withdraws it [default: the OS user].")
def batch_withdraw(batch_id: str, reason: str, by: str | None) -> None:
    """Withdraw a bad delivery batch: Delta DELETE of its rows from bronze, silver and their
    quarantine (older table versions keep them), the ledger row marked withdrawn with who, when
    and why; then its source's bronze checks for that period and the pipeline run again, so gold,
    themes, topics and the quality tables follow. The same content is not loaded again; a
    corrected delivery for the same unit and period is. Exit 1 if the id is unknown."""
    from dagster import AssetKey

    from catalog.tables import LakeTables
    from ingest.sources import get_source
    from operations.withdraw import WithdrawError, withdraw
    from orchestration.jobs import INGEST_JOB_NAMES
    from orchestration.run import run_job, run_pipeline

    who = by or _os_user()
    try:
        result = withdraw(LakeTables(), batch_id, reason, who)
    except WithdrawError as exc:
        _fail(str(exc))
    click.echo(
        f"withdrew batch {result.batch_id} ({result.source}, unit {result.reporting_unit}, period "
        f"{result.period}; was {result.status_before}) by {result.withdrawn_by}: {result.reason}"
    )
    for table, rows in result.removed.items():
        click.echo(f"  {table}: {rows} rows deleted")
    for table, periods in result.rebuilt.items():
        click.echo(f"  {table}: rebuilt {', '.join(periods)} (a kept duplicate came from this batch)")
    if not result.rows_removed:
        click.echo("no rows of this batch were in the lake: nothing to re-materialise")
        return
    click.echo(f"{result.rows_removed} rows deleted; they stay in each table's Delta history")
    source = get_source(result.source)
    verbose = _verbose()
    tags = {"ibrain/trigger": "cli", "ibrain/withdrawn": result.batch_id}
    recheck = run_job(
        INGEST_JOB_NAMES[source.spec.grain],
        {
            **tags,
            "dagster/asset_partition_range_start": result.period,
            "dagster/asset_partition_range_end": result.period,
            "ibrain/source": source.name,
        },
        verbose,
        [AssetKey(source.bronze_contract.asset_key), AssetKey(source.quarantine_contract.asset_key)],
    )
    try:
        pipeline = run_pipeline(verbose, tags=tags)
    except ValueError as exc:
        _fail(str(exc))
    sys.exit(0 if _report([recheck, pipeline]) else 1)


if __name__ == "__main__":
    main()
