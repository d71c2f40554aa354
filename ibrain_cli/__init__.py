"""``ibrain``: the command line, the top layer (docs/architecture.md). One module per command group;
the commands parse arguments, call the library layers and print (ibrain_cli/console.py).

Every command honours IBRAIN_LAKE_ROOT.
"""

from __future__ import annotations

import logging

import click

from ibrain.settings import SettingsError, get_settings
from ibrain_cli import (
    account,
    alerts,
    audit,
    batch,
    brief,
    catalog,
    deliveries,
    ingest,
    keys,
    lake,
    pipeline,
    quality,
    review,
    serve,
    simulate,
)
from ibrain_cli.console import fail, set_verbose


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Show engine and library logs (Dagster events, dbt output) live, not in DAGSTER_HOME/logs.",
)
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Industry Brain lakehouse (产业大脑 产业数据仓).

    Lake root: IBRAIN_LAKE_ROOT (default ./var/lake); engine: SPARK_REMOTE or embedded Sail.
    """
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    set_verbose(verbose)
    ctx.obj = {"verbose": verbose}
    try:
        get_settings()
    except SettingsError as exc:
        fail(str(exc))


for command in (
    simulate.simulate,
    simulate.serve_registry,
    ingest.ingest,
    ingest.backfill,
    pipeline.run,
    pipeline.demo,
    pipeline.summary,
    pipeline.maintain,
    pipeline.dev,
    review.review,
    catalog.catalog,
    quality.quality_report,
    brief.brief,
    alerts.alerts,
    batch.batch,
    lake.lake,
    keys.keys,
    audit.audit,
    account.account,
    account.login,
    account.logout,
    account.whoami,
    deliveries.deliveries,
    deliveries.serve_platform,
    serve.serve,
):
    main.add_command(command)

__all__ = ["main"]
