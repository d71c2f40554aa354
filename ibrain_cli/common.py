"""What several command groups share: where generated pages go, the run report, the log file."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ibrain.settings import SettingsError, get_settings
from ibrain_cli.console import Stage, capturing, echo, fail, is_verbose, log_path, log_to_file

if TYPE_CHECKING:
    from orchestration.run import RunOutcome, RunProgress

F = TypeVar("F", bound=Callable[..., Any])


def logged(announce: bool = False) -> Callable[[F], F]:
    """Run the command with engine and library output in a log file (unless ``ibrain -v``).

    ``announce``: print the log's path at the end also when the command succeeds (commands that
    run the pipeline); it is always printed on failure.
    """

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if is_verbose():
                return fn(*args, **kwargs)
            with log_to_file(log_path(get_settings().dagster_home), announce=announce):
                try:
                    return fn(*args, **kwargs)
                finally:  # the engine logs its shutdown: into the file too, not onto the terminal
                    spark = sys.modules.get("ibrain.spark")  # not imported: no engine was started
                    if spark is not None:
                        spark.stop_embedded_server()

        return wrapper  # type: ignore[return-value]

    return decorate


def engine_output() -> bool:
    """Whether Dagster and dbt may write everything they say (``verbose`` of orchestration.run):
    yes with ``-v`` (to the terminal) and while a log file takes it; no otherwise."""
    return is_verbose() or capturing()


def beside_lake(name: str) -> Path:
    """A local folder for generated pages: beside a local lake (var/<name> for the default lake),
    beside DAGSTER_HOME for a lake on S3."""
    settings = get_settings()
    base = settings.dagster_home.parent if settings.is_s3 else Path(settings.lake_root).parent
    return base / name


def catalog_dir() -> Path:
    return beside_lake("catalog")


def quality_dir() -> Path:
    return beside_lake("quality")


def report(outcomes: list[RunOutcome]) -> bool:
    """One line per run; then each check that failed. A WARN rule below its threshold is
    reported but does not stop anything; an ERROR rule failing blocks what is downstream."""
    ok = True
    for outcome in outcomes:
        errors = [c for c in outcome.checks if not c.passed and c.severity == "ERROR"]
        warnings = [c for c in outcome.checks if not c.passed and c.severity != "ERROR"]
        status = "SUCCESS" if outcome.success else "FAILURE"
        echo(
            f"{outcome.job} run {outcome.run_id}: {status}; {len(outcome.materialized)} assets materialised; "
            f"checks {len(outcome.checks) - len(errors) - len(warnings)} passed, "
            f"{len(warnings)} below threshold (WARN), {len(errors)} failed (ERROR)"
        )
        for c in errors:
            echo(f"  FAILED [ERROR] {c.asset} :: {c.check}", fg="red")
        for c in warnings:
            echo(f"  below threshold [WARN] {c.asset} :: {c.check}", fg="yellow")
        for error in outcome.errors:
            echo(f"  {error}", fg="red")
        ok = ok and outcome.success
    if not ok:
        where = "the log file named below" if capturing() else "re-run with `ibrain -v`"
        echo(f"details: the run's logs in the Dagster UI (make dev), or {where}")
    return ok


class RunsOnStage:
    """Shows the progress of a stage's Dagster runs (one after another) on the stage: with
    ``unit="runs"`` the runs finished out of the runs the call starts (ingest), otherwise the
    steps done out of the steps of the runs started so far; and the step running now."""

    def __init__(self, stage: Stage) -> None:
        self.stage = stage
        self.runs: dict[str, RunProgress] = {}

    def __call__(self, progress: RunProgress) -> None:
        self.runs[progress.run_id] = progress
        runs = self.runs.values()
        if self.stage.unit == "runs":
            done, total = sum(r.finished for r in runs), max(r.runs for r in runs)
        else:
            done, total = sum(r.steps_done for r in runs), sum(r.steps_total for r in runs)
        assets = sum(r.materialized for r in runs)
        if progress.finished or not progress.running:
            count = len(self.runs)
            detail = f"{count} run{'s' if count != 1 else ''}, {assets} materialisations"
        else:  # a dbt step runs for minutes: its materialisations show that it moves
            more = f" (+{len(progress.running) - 1})" if len(progress.running) > 1 else ""
            detail = f"{progress.job}: {progress.running[0]}{more}; {assets} materialisations"
        self.stage.update(done, total, detail)


def registry_today(source: str | None = None) -> dict[str, list[str]]:
    """The registry's partition for today when its API is configured (the run then pulls it)."""
    from ingest.connectors.registry import RegistryApiConfig
    from ingest.sources import get_source

    if source not in (None, "gov_registry"):
        return {}
    try:
        configured = RegistryApiConfig.from_env() is not None
    except SettingsError as exc:
        fail(str(exc))
    return {"gov_registry": [get_source("gov_registry").current_period()]} if configured else {}
