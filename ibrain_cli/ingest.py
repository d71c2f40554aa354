"""``ibrain ingest`` and ``ibrain backfill``: one source into bronze, through the Dagster instance."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ibrain_cli.auth import actor_tags, operation
from ibrain_cli.common import RunsOnStage, engine_output, logged, registry_today, report
from ibrain_cli.console import echo, fail, stage
from security.actor import Actor

ACCEPT_SHRINK = click.option(
    "--accept-shrink",
    is_flag=True,
    help="Load the corrections held because they shrink their unit-period more than the contract allows.",
)


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
@ACCEPT_SHRINK
@logged(announce=True)
def ingest(
    source: str, paths: tuple[Path, ...], unit: str | None, period: str | None, accept_shrink: bool
) -> None:
    """Ingest SOURCE into bronze now, through the Dagster instance.

    With --path: land the files (ledger), then load them. Without: load what is pending for
    SOURCE (its inbox under landing/_inbox/SOURCE and the ledger). Exit 1 if a file is rejected
    (every rejected file is named); corrections held for shrinking their data are listed.
    Runs as the logged-in user (role data_engineer), audited as ops.ingest.
    """
    params = {
        "source": source,
        "paths": [str(p) for p in paths],
        "unit": unit,
        "period": period,
        "accept_shrink": accept_shrink,
    }
    with operation("ops.ingest", f"source:{source}", params) as actor:
        _ingest(source, paths, unit, period, accept_shrink, actor)


def _ingest(
    source: str,
    paths: tuple[Path, ...],
    unit: str | None,
    period: str | None,
    accept_shrink: bool,
    actor: Actor,
) -> None:
    from catalog.tables import LakeTables
    from ingest.ledger import LandingError, land_files
    from ingest.sources import UnknownSourceError, get_source
    from orchestration.assets.ingest import partition_range
    from orchestration.run import run_ingest

    rejected: list[str] = []
    try:
        found = get_source(source)
        if paths:
            result = land_files(
                LakeTables(),
                {source: paths},
                reporting_unit=unit,
                period=period,
                periods=partition_range(found),
            )
            echo(
                f"landed {len(result.landed)}; {len(result.unchanged)} unchanged (no-op)"
                + (f"; {len(result.rejected)} rejected" if result.rejected else "")
            )
            rejected = list(result.rejected.values())
    except (LandingError, UnknownSourceError) as exc:
        fail(str(exc))
    for reason in rejected:
        echo(f"  rejected: {reason}", fg="red")
    extra = registry_today(source)
    with stage("ingest", unit="runs") as shown:
        outcomes = run_ingest(
            [source],
            engine_output(),
            extra,
            RunsOnStage(shown),
            actor_tags(actor),
            accept_shrink=accept_shrink,
        )
        shown.check(all(o.success for o in outcomes))
    if not outcomes:
        echo(f"nothing pending for {source}")
    ok = report(outcomes) and not rejected
    report_inbox_and_held()
    sys.exit(0 if ok else 1)


def report_inbox_and_held() -> None:
    """After ingest runs: corrections waiting for --accept-shrink, and what the inboxes hold that
    is not collected (subfolders, hidden files), one line each."""
    from ibrain.lake import Lake
    from ingest.bronze import held_corrections
    from ingest.inbox import inbox_notices

    lake = Lake()
    for batch, reason in sorted(held_corrections(lake).items()):
        echo(f"  pending {batch}: {reason}", fg="yellow")
    for notice in inbox_notices(lake):
        echo(f"  inbox: {notice}", fg="yellow")


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
