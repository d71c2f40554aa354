"""``ibrain ingest`` and ``ibrain backfill``: one source into bronze, through the Dagster instance."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ibrain_cli.auth import actor_tags, operation
from ibrain_cli.common import RunsOnStage, engine_output, logged, registry_today, report
from ibrain_cli.console import echo, fail, stage
from security.actor import Actor


@click.command()
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
@logged(announce=True)
def ingest(source: str, paths: tuple[Path, ...], unit: str | None, period: str | None) -> None:
    """Ingest SOURCE into bronze now, through the Dagster instance.

    With --path: land the files (ledger), then load them. Without: load what is pending for
    SOURCE (its inbox under landing/_inbox/SOURCE and the ledger). Exit 1 if a file is unreadable.
    Runs as the logged-in user (role data_engineer), audited as ops.ingest.
    """
    params = {"source": source, "paths": [str(p) for p in paths], "unit": unit, "period": period}
    with operation("ops.ingest", f"source:{source}", params) as actor:
        _ingest(source, paths, unit, period, actor)


def _ingest(source: str, paths: tuple[Path, ...], unit: str | None, period: str | None, actor: Actor) -> None:
    from catalog.tables import LakeTables
    from ingest.ledger import LandingError, land_files
    from ingest.sources import UnknownSourceError, get_source
    from orchestration.run import run_ingest

    try:
        get_source(source)
        if paths:
            result = land_files(LakeTables(), {source: paths}, reporting_unit=unit, period=period)
            echo(f"landed {len(result.landed)}; {len(result.unchanged)} unchanged (no-op)")
    except (LandingError, UnknownSourceError) as exc:
        fail(str(exc))
    extra = registry_today(source)
    with stage("ingest", unit="runs") as shown:
        outcomes = run_ingest([source], engine_output(), extra, RunsOnStage(shown), actor_tags(actor))
        shown.check(all(o.success for o in outcomes))
    if not outcomes:
        echo(f"nothing pending for {source}")
    sys.exit(0 if report(outcomes) else 1)


@click.command()
@click.argument("source")
@click.option("--from", "start", required=True, help="First period (YYYY-MM or YYYY-MM-DD).")
@click.option("--to", "end", help="Last period [default: --from].")
@logged(announce=True)
def backfill(source: str, start: str, end: str | None) -> None:
    """Rebuild SOURCE's bronze for a range of periods from landing (as a UI backfill does): the
    same deliveries give the same rows; no API is called. Runs as the logged-in user (role
    data_engineer), audited as ops.backfill."""
    from ingest.sources import UnknownSourceError
    from orchestration.run import run_backfill

    params = {"source": source, "from": start, "to": end or start}
    with operation("ops.backfill", f"source:{source}", params) as actor:
        try:
            with stage("backfill", unit="steps") as shown:
                outcome = run_backfill(
                    source, start, end or start, engine_output(), RunsOnStage(shown), actor_tags(actor)
                )
                shown.check(outcome.success)
        except (UnknownSourceError, ValueError) as exc:
            fail(str(exc))
        sys.exit(0 if report([outcome]) else 1)
