"""Run jobs through the Dagster instance (so the runs appear in the UI) — used by the CLI."""

import contextlib
import io
import os
from dataclasses import dataclass, field

import dagster as dg

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
    run_id: str
    success: bool
    materialized: list[str] = field(default_factory=list)
    checks: list[CheckOutcome] = field(default_factory=list)
    failed_steps: list[str] = field(default_factory=list)
    skipped_steps: list[str] = field(default_factory=list)


def run_job(job_name: str, tags: dict[str, str] | None = None, verbose: bool = False) -> RunOutcome:
    """Execute a job in this process, recorded in the instance at DAGSTER_HOME.

    Quiet unless ``verbose``: the console shows warnings and errors only and dbt's own output
    is kept out of the terminal (every line stays in the run's logs in the UI).
    """
    settings = get_settings()
    ensure_dagster_home(settings)
    from orchestration import definitions

    target = {
        "ibrain_pipeline": definitions.ibrain_pipeline,
        "delta_maintenance": definitions.delta_maintenance_job,
    }[job_name]
    log_level = "DEBUG" if verbose else "WARNING"
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    quiet = contextlib.nullcontext() if verbose else contextlib.redirect_stdout(io.StringIO())
    with dg.DagsterInstance.get() as instance, quiet:
        result = dg.execute_job(
            dg.reconstructable(target), instance=instance, tags=tags or {}, run_config=run_config
        )
        outcome = RunOutcome(run_id=result.run_id, success=result.success)
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
        outcome.skipped_steps = sorted(e.step_key for e in result.get_step_skipped_events() if e.step_key)
    return outcome
