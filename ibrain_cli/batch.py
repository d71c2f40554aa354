"""``ibrain batch withdraw``: take a bad delivery batch out of the lake."""

from __future__ import annotations

import sys

import click

from ibrain_cli.auth import actor_tags, operation
from ibrain_cli.common import RunsOnStage, engine_output, logged, report
from ibrain_cli.console import echo, fail, stage
from security.actor import Actor


@click.group()
def batch() -> None:
    """Delivery batches of the ingest ledger (audit.ingest_ledger)."""


@batch.command("withdraw")
@click.argument("batch_id")
@click.option("--reason", required=True, help="Why the batch is withdrawn (recorded in the ledger).")
@logged(announce=True)
def batch_withdraw(batch_id: str, reason: str) -> None:
    """Withdraw a bad delivery batch: Delta DELETE of its rows from bronze, silver and their
    quarantine (older table versions keep them), the ledger row marked withdrawn with who, when
    and why; then its source's bronze checks for that period and the pipeline run again, so gold,
    themes, topics and the quality tables follow. The same content is not loaded again; a
    corrected delivery for the same unit and period is. Exit 1 if the id is unknown.

    Runs as the logged-in user (role data_engineer), who is recorded as having withdrawn it."""
    with operation("ops.withdraw", f"batch:{batch_id}", {"batch_id": batch_id, "reason": reason}) as actor:
        _withdraw(batch_id, reason, actor)


def _withdraw(batch_id: str, reason: str, actor: Actor) -> None:
    from catalog.tables import LakeTables
    from operations.withdraw import WithdrawError, withdraw
    from orchestration.run import run_pipeline, run_source_check

    try:
        with stage("withdraw"):
            result = withdraw(LakeTables(), batch_id, reason, actor.principal)
    except WithdrawError as exc:
        fail(str(exc))
    echo(
        f"withdrew batch {result.batch_id} ({result.source}, unit {result.reporting_unit}, period "
        f"{result.period}; was {result.status_before}) by {result.withdrawn_by}: {result.reason}"
    )
    for table, rows in result.removed.items():
        echo(f"  {table}: {rows} rows deleted")
    for table, periods in result.rebuilt.items():
        echo(f"  {table}: rebuilt {', '.join(periods)} (a kept duplicate came from this batch)")
    if not result.rows_removed:
        echo("no rows of this batch were in the lake: nothing to re-materialise")
        return
    echo(f"{result.rows_removed} rows deleted; they stay in each table's Delta history")
    tags = {"ibrain/trigger": "cli", "ibrain/withdrawn": result.batch_id, **actor_tags(actor)}
    with stage("re-check", unit="steps") as shown:
        recheck = run_source_check(result.source, result.period, tags, engine_output(), RunsOnStage(shown))
        shown.check(recheck.success)
    try:
        with stage("pipeline", unit="steps") as shown:
            pipeline = run_pipeline(engine_output(), tags=tags, on_progress=RunsOnStage(shown))
            shown.check(pipeline.success)
    except ValueError as exc:
        fail(str(exc))
    sys.exit(0 if report([recheck, pipeline]) else 1)
