"""Run jobs through the Dagster instance (so the runs appear in the UI) — used by the CLI."""

import contextlib
import io
import os
from dataclasses import dataclass, field

import dagster as dg

from ibrain.lake import Lake
from ibrain.settings import Settings, get_settings

DAGSTER_YAML = """# Written by ibrain on first use. Local SQLite storage under this folder.
telemetry:
  enabled: false
"""


def ensure_dagster_home(settings: Settings) -> None:
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(home)


@dataclass
class CheckOutcome:
    asset: str
    check: str
    passed: bool
    severity: str


@dataclass
class RunOutcome:
    job: str
    run_id: str
    success: bool
    materialized: list[str] = field(default_factory=list)
    checks: list[CheckOutcome] = field(default_factory=list)
    failed_steps: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _job_factory(job_name: str):
    from orchestration import definitions

    return {
        "ibrain_pipeline": definitions.ibrain_pipeline,
        "ingest_monthly": definitions.ingest_monthly_job,
        "ingest_daily": definitions.ingest_daily_job,
        "delta_maintenance": definitions.delta_maintenance_job,
    }[job_name]


def run_job(
    job_name: str,
    tags: dict[str, str] | None = None,
    verbose: bool = False,
    asset_selection: list[dg.AssetKey] | None = None,
) -> RunOutcome:
    """Execute a job in this process, recorded in the instance at DAGSTER_HOME.

    Quiet unless ``verbose``: the console shows warnings and errors only and dbt's own output
    is kept out of the terminal (every line stays in the run's logs in the UI).
    """
    ensure_dagster_home(get_settings())
    log_level = "DEBUG" if verbose else "WARNING"
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    quiet = contextlib.nullcontext() if verbose else contextlib.redirect_stdout(io.StringIO())
    with dg.DagsterInstance.get() as instance, quiet:
        result = dg.execute_job(
            dg.reconstructable(_job_factory(job_name)),
            instance=instance,
            tags=tags or {},
            run_config=run_config,
            asset_selection=asset_selection,
        )
        outcome = RunOutcome(job=job_name, run_id=result.run_id, success=result.success)
        outcome.materialized = sorted(
            e.asset_key.to_user_string()
            for e in result.get_asset_materialization_events()
            if e.asset_key is not None
        )
        outcome.checks = [
            CheckOutcome(e.asset_key.to_user_string(), e.check_name, e.passed, e.severity.value)
            for e in result.get_asset_check_evaluations()
        ]
        outcome.failed_steps = sorted(result.get_failed_step_keys())
        outcome.errors = [
            e.step_failure_data.error.message.strip()
            for e in result.get_step_failure_events()
            if e.step_failure_data and e.step_failure_data.error
        ]
    return outcome


def run_ingest(
    sources: list[str] | None = None, verbose: bool = False, extra_periods: dict[str, list[str]] | None = None
) -> list[RunOutcome]:
    """One ingest run per partitioning over the periods with inbox files or pending deliveries."""
    from orchestration.jobs import ingest_run_requests, pending_work

    work = pending_work(Lake(get_settings()))
    for source, periods in (extra_periods or {}).items():
        work[source] = sorted(set(work.get(source, [])) | set(periods))
    if sources is not None:
        work = {k: v for k, v in work.items() if k in sources}
    outcomes = []
    for request in ingest_run_requests(work):
        tags = {**request.tags, "ibrain/trigger": "cli"}
        outcomes.append(run_job(request.job_name, tags, verbose, list(request.asset_selection)))
    return outcomes


def run_pipeline(verbose: bool = False, tags: dict[str, str] | None = None) -> RunOutcome:
    """Everything downstream of bronze, the monthly models over every month with data."""
    from orchestration.jobs import PIPELINE_JOB_NAME, pipeline_tags

    all_tags = {**pipeline_tags(Lake(get_settings())), "ibrain/trigger": "cli", **(tags or {})}
    return run_job(PIPELINE_JOB_NAME, all_tags, verbose)


def run_backfill(source_name: str, start: str, end: str, verbose: bool = False) -> RunOutcome:
    """Replay ``start``..``end`` of one source from landing (no API call for past periods)."""
    from ingest.sources import get_source
    from orchestration.assets.ingest import REPLAY_TAG
    from orchestration.jobs import INGEST_JOB_NAMES

    source = get_source(source_name)
    for period in (start, end):
        if not source.is_period(period):
            raise ValueError(f"{period!r} is not a {source.spec.grain} period of {source_name}")
    keys = [dg.AssetKey(source.bronze_contract.asset_key), dg.AssetKey(source.quarantine_contract.asset_key)]
    tags = {
        "dagster/asset_partition_range_start": start,
        "dagster/asset_partition_range_end": end,
        REPLAY_TAG: "true",
        "ibrain/trigger": "cli",
    }
    return run_job(INGEST_JOB_NAMES[source.spec.grain], tags, verbose, keys)
