"""``ibrain``: the commands a person types. Every command honours IBRAIN_LAKE_ROOT."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from ibrain.settings import REPO_ROOT, SettingsError, get_settings

DEFAULT_MONTHS = "2024-01:2025-01"  # 13 months, so year-on-year growth exists


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


@main.command()
@click.option(
    "--scale", default=0.1, show_default=True, type=float, help="Scale factor: 1 ≈ 2,000 enterprises."
)
@click.option("--seed", default=42, show_default=True, type=int, help="Random seed (same seed, same files).")
@click.option("--months", default=DEFAULT_MONTHS, show_default=True, help="YYYY-MM:YYYY-MM, inclusive.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder the source files are written to [default: IBRAIN_INBOX or ./var/inbox].",
)
@click.option(
    "--land/--no-land",
    default=False,
    show_default=True,
    help="Also land the files in the lake and register them in the ingest ledger.",
)
@click.option(
    "--defect",
    "defects",
    multiple=True,
    metavar="NAME=RATE",
    help="Override an injected defect rate, e.g. invalid_uscc=0.3 (see README).",
)
def simulate(
    scale: float, seed: int, months: str, out_dir: Path, land: bool, defects: tuple[str, ...]
) -> None:
    """Simulate source deliveries (monthly statistics files, one per city and month)."""
    out_dir = out_dir or get_settings().inbox
    paths = _simulate(scale, seed, months, out_dir, _parse_defects(defects))
    click.echo(f"wrote {len(paths)} files to {out_dir}")
    if land:
        _land("gov_stats_monthly", paths, None, None)


def _parse_defects(items: tuple[str, ...]):
    from dataclasses import fields, replace

    from ingest.simulator.gov_stats_monthly import Defects

    known = {f.name for f in fields(Defects)}
    overrides = {}
    for item in items:
        name, _, rate = item.partition("=")
        if name not in known:
            _fail(f"--defect {item}: unknown defect {name!r}; known: {', '.join(sorted(known))}")
        try:
            value = float(rate)
        except ValueError:
            _fail(f"--defect {item}: rate must be a number between 0 and 1")
        if not 0 <= value <= 1:
            _fail(f"--defect {item}: rate must be between 0 and 1")
        overrides[name] = value
    return replace(Defects(), **overrides)


def _simulate(scale: float, seed: int, months: str, out_dir: Path, defects=None) -> list[Path]:
    from ingest.simulator import gov_stats_monthly
    from ingest.simulator.population import population

    try:
        month_list = gov_stats_monthly.month_range(months)
    except ValueError as exc:
        _fail(str(exc))
    enterprises = population(scale, seed)
    out = out_dir / "gov_stats_monthly"
    return gov_stats_monthly.write_files(enterprises, month_list, out, seed, defects)


def _land(source: str, paths: list[Path], unit: str | None, period: str | None) -> None:
    from ibrain.tables import LakeTables
    from ingest.ledger import Delivery, IngestLedger, LandingError
    from ingest.sources import UnknownSourceError

    tables = LakeTables()
    tables.lake.ensure_bucket()
    try:
        result = IngestLedger(tables).land([Delivery.from_path(source, p, unit, period) for p in paths])
    except (LandingError, UnknownSourceError) as exc:
        _fail(str(exc))
    click.echo(
        f"landed {len(result.landed)} new deliveries; {len(result.unchanged)} unchanged "
        "(same content as already landed)"
    )


@main.command()
@click.argument("source")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--unit", help="Reporting unit code, when the file name does not say it.")
@click.option("--period", help="Reporting period YYYY-MM, when the file name does not say it.")
def ingest(source: str, files: tuple[Path, ...], unit: str | None, period: str | None) -> None:
    """Land FILES delivered by SOURCE and register them as pending in the ingest ledger.

    Run `ibrain run` (or let the sensor do it) to load them into bronze and onwards.
    """
    _land(source, list(files), unit, period)


@main.command()
def run() -> None:
    """Run the pipeline through the Dagster instance: load what the ledger says is pending,
    then materialise everything downstream. The run shows in the Dagster UI."""
    outcome = _run_pipeline()
    sys.exit(0 if outcome.success else 1)


def _run_pipeline():
    from orchestration.run import run_job

    outcome = run_job("ibrain_pipeline", tags={"ibrain/trigger": "cli"}, verbose=_verbose())
    click.echo(
        f"run {outcome.run_id}: {'SUCCESS' if outcome.success else 'FAILURE'}; "
        f"{len(outcome.materialized)} assets materialised"
    )
    failed_checks = [c for c in outcome.checks if not c.passed]
    click.echo(f"checks: {len(outcome.checks) - len(failed_checks)} passed, {len(failed_checks)} failed")
    for c in failed_checks:
        click.secho(f"  FAILED [{c.severity}] {c.asset} :: {c.check}", fg="red")
    for step in outcome.failed_steps:
        click.secho(f"  failed step: {step}", fg="red")
    if not outcome.success:
        click.echo("details: the run's logs in the Dagster UI (make dev), or re-run with `ibrain -v`")
    return outcome


@main.command()
@click.option(
    "--scale", default=0.1, show_default=True, type=float, help="Scale factor (1 ≈ 2,000 enterprises)."
)
@click.option("--seed", default=42, show_default=True, type=int)
@click.option("--months", default=DEFAULT_MONTHS, show_default=True)
def demo(scale: float, seed: int, months: str) -> None:
    """Simulate a small data set into the lake, run everything, and say where to look.

    Safe to repeat on the same lake: unchanged deliveries are no-ops and every asset is
    idempotent, so row counts do not change.
    """
    settings = get_settings()
    click.echo(f"lake root: {settings.lake_root}")
    paths = _simulate(scale, seed, months, settings.inbox)
    click.echo(f"simulated {len(paths)} source files into {settings.inbox}")
    _land("gov_stats_monthly", paths, None, None)
    outcome = _run_pipeline()
    _print_summary()
    click.echo(
        "\nNext: `make dev` (or `ibrain dev`) and open http://127.0.0.1:3000 — the run above is "
        "in Runs; the asset graph shows every layer.\n"
        "Query the tables from Python: `from ibrain.spark import spark_session; "
        "spark_session().table('gold.fct_enterprise_month').show()` (see notebooks/)."
    )
    sys.exit(0 if outcome.success else 1)


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
    click.echo(f"run {outcome.run_id}: {'SUCCESS' if outcome.success else 'FAILURE'}")
    sys.exit(0 if outcome.success else 1)


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
def catalog() -> None:
    """The data catalog (contracts under catalog/contracts)."""


@catalog.command("dbt-yaml")
@click.option("--check", is_flag=True, help="Only check that the generated file is current.")
def catalog_dbt_yaml(check: bool) -> None:
    """(Re)generate transforms/dbt/models/_catalog.yml from the contracts."""
    from catalog.dbt_yaml import GENERATED_PATH, is_current, write

    if check:
        if not is_current():
            _fail(f"{GENERATED_PATH} is stale: run `ibrain catalog dbt-yaml`")
        click.echo(f"{GENERATED_PATH} is current")
        return
    click.echo(f"wrote {write()}")


if __name__ == "__main__":
    main()
