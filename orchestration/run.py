"""Run jobs through the Dagster instance (so the runs appear in the UI) — used by the CLI.

Crash recovery: the CLI executes runs in its own process, which no daemon watches (Dagster's run
monitoring asks the run launcher whether a run's worker lives; a run executed in-process has none).
So each run records the process executing it in its tags (:data:`PROCESS_TAGS`), and before each
run :func:`fail_runs_of_dead_processes` reports as failed every unfinished run of this host whose
process is gone — a killed ``ibrain run`` leaves no run STARTED once the next command ran. Runs the
daemon launches are watched by run monitoring, enabled in the instance's dagster.yaml.
"""

import contextlib
import dataclasses
import datetime as dt
import io
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import dagster as dg

from ibrain.lake import Lake
from ibrain.process import ProcessIdentity
from ibrain.settings import Settings, get_settings

DAGSTER_YAML = """# Written by ibrain on first use. Local SQLite storage under this folder.
telemetry:
  enabled: false
# Runs launched by the daemon (`ibrain dev`, schedules, sensors) that never start or outrun
# dagster/max_runtime are marked failed (needs the daemon); runs of `ibrain run` are checked by
# the next ibrain command (orchestration/run.py).
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  cancel_timeout_seconds: 180
  poll_interval_seconds: 60
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


@dataclass(frozen=True)
class RunProgress:
    """How far a run has got, for a progress display (run_job's ``on_progress``)."""

    job: str
    run_id: str
    steps_total: int  # steps the run executes (0 until its plan is stored)
    steps_done: int  # succeeded, failed or skipped
    materialized: int  # asset materialisations so far
    running: tuple[str, ...] = ()  # step keys started and not yet done
    finished: bool = False
    run_number: int = 1  # this run's place among the runs of one call (run_ingest starts several)
    runs: int = 1


ProgressFn = Callable[[RunProgress], None]

log = logging.getLogger(__name__)

_DONE = {dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.STEP_SKIPPED}
_FOLLOWED = {*_DONE, dg.DagsterEventType.STEP_START, dg.DagsterEventType.ASSET_MATERIALIZATION}


class _RunFollower(threading.Thread):
    """Reads a run's events from the instance's event log while ``execute_job`` runs it.

    ``execute_job`` returns only when the run is over, and the steps run in child processes that
    write their events to the instance, so the event log is the one place that shows progress live.
    The run is the first one of ``job`` with ``tags`` created since the follower started (the CLI
    runs one job at a time); the final numbers come from the run's result, not from here.
    """

    POLL_SECONDS = 0.5

    def __init__(self, job: str, tags: dict[str, str], on_progress: ProgressFn) -> None:
        super().__init__(name=f"follow-{job}", daemon=True)
        self.job, self.tags, self.on_progress = job, tags, on_progress
        self.since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        self.total = 0  # steps in the run's plan, once found
        self._halt = threading.Event()

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def run(self) -> None:
        try:
            with dg.DagsterInstance.get() as instance:
                self._follow(instance)
        except Exception:  # the display only: the run goes on; the traceback is logged
            log.exception("following the progress of a %s run failed", self.job)

    def _follow(self, instance: dg.DagsterInstance) -> None:
        run_id, cursor = None, None
        done, started, materialized = set(), set(), 0
        while not self._halt.wait(self.POLL_SECONDS):
            if run_id is None:
                runs = instance.get_runs(
                    dg.RunsFilter(job_name=self.job, tags=self.tags, created_after=self.since),
                    limit=1,
                    ascending=True,
                )
                if not runs:
                    continue
                run = runs[0]
                run_id = run.run_id
                if run.execution_plan_snapshot_id:
                    plan = instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id)
                    self.total = len(plan.step_keys_to_execute or plan.steps)
            more = True
            while more:
                page = instance.get_records_for_run(run_id, cursor=cursor, of_type=_FOLLOWED, limit=500)
                cursor, more = page.cursor, page.has_more
                for record in page.records:
                    event = record.event_log_entry.dagster_event
                    if event is None:
                        continue
                    if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
                        materialized += 1
                    elif event.event_type == dg.DagsterEventType.STEP_START:
                        started.add(event.step_key)
                    else:
                        done.add(event.step_key)
            running = tuple(sorted(started - done))
            self.on_progress(RunProgress(self.job, run_id, self.total, len(done), materialized, running))


HOST_TAG, BOOT_TAG, PID_TAG, STARTED_TAG = "ibrain/host", "ibrain/boot_id", "ibrain/pid", "ibrain/pid_started"
PROCESS_TAGS = (HOST_TAG, BOOT_TAG, PID_TAG, STARTED_TAG)
UNFINISHED = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def process_tags(process: ProcessIdentity) -> dict[str, str]:
    """The tags naming the process that executes a run (beware pid reuse: its start time too)."""
    started = "" if process.started is None else str(process.started)
    return {HOST_TAG: process.host, BOOT_TAG: process.boot, PID_TAG: str(process.pid), STARTED_TAG: started}


def tagged_process(tags: dict[str, str]) -> ProcessIdentity | None:
    """The process a run's tags name (None: not a run this module executed)."""
    if not all(tag in tags for tag in PROCESS_TAGS) or not tags[PID_TAG].isdigit():
        return None
    started = tags[STARTED_TAG]
    return ProcessIdentity(
        tags[HOST_TAG], tags[BOOT_TAG], int(tags[PID_TAG]), int(started) if started.isdigit() else None
    )


def fail_runs_of_dead_processes(instance: dg.DagsterInstance) -> list[str]:
    """Report as failed (canceled, if it was being canceled) every unfinished run executed on this
    host by a process that is gone, with an event saying so; return their run ids.

    Runs of other hosts are left alone (their processes cannot be seen from here), and so are runs
    without the process tags (launched by the daemon: run monitoring's)."""
    me = ProcessIdentity.current()
    ended = []
    for run in instance.get_runs(dg.RunsFilter(statuses=UNFINISHED, tags={HOST_TAG: me.host})):
        process = tagged_process(dict(run.tags))
        if process is None or process == me or not process.is_gone():
            continue
        message = (
            f"The process that executed this run (pid {process.pid} on {process.host}) is gone — killed "
            f"or crashed while the run was {run.status.value}. Marked "
            f"{'canceled' if run.status == dg.DagsterRunStatus.CANCELING else 'failed'} by the next "
            f"ibrain command (pid {me.pid}); its steps' work is redone by the next run."
        )
        log.warning("run %s: %s", run.run_id, message)
        if run.status == dg.DagsterRunStatus.CANCELING:
            instance.report_run_canceled(run, message)
        else:
            instance.report_run_failed(run, message)
        ended.append(run.run_id)
    return ended


def _job_factory(job_name: str):
    from orchestration import definitions

    return {
        "ibrain_pipeline": definitions.ibrain_pipeline,
        "ingest_monthly": definitions.ingest_monthly_job,
        "ingest_daily": definitions.ingest_daily_job,
        "delta_maintenance": definitions.delta_maintenance_job,
        "deliveries_send": definitions.deliveries_send_job,
        "deliveries_build_zhgl_platform": definitions.deliveries_build_zhgl_platform_job,
        "deliveries_build_gyhlw_platform": definitions.deliveries_build_gyhlw_platform_job,
        "audit_trail": definitions.audit_trail_job,
    }[job_name]


def run_job(
    job_name: str,
    tags: dict[str, str] | None = None,
    verbose: bool = False,
    asset_selection: list[dg.AssetKey] | None = None,
    on_progress: ProgressFn | None = None,
) -> RunOutcome:
    """Execute a job in this process, recorded in the instance at DAGSTER_HOME.

    Quiet unless ``verbose``: the console shows warnings and errors only and dbt's own output
    is kept out of the terminal (every line stays in the run's logs in the UI).
    ``on_progress`` is called from another thread while the run goes on, and once at the end.
    """
    ensure_dagster_home(get_settings())
    log_level = "DEBUG" if verbose else "WARNING"
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    quiet = contextlib.nullcontext() if verbose else contextlib.redirect_stdout(io.StringIO())
    tags = {**(tags or {}), **process_tags(ProcessIdentity.current())}
    follower = _RunFollower(job_name, tags, on_progress) if on_progress else None
    with dg.DagsterInstance.get() as instance, quiet:
        fail_runs_of_dead_processes(instance)
        if follower:
            follower.start()
        try:
            result = dg.execute_job(
                dg.reconstructable(_job_factory(job_name)),
                instance=instance,
                tags=tags,
                run_config=run_config,
                asset_selection=asset_selection,
            )
        finally:
            if follower:
                follower.stop()
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
    if on_progress:
        steps = {e.step_key for e in result.all_events if e.event_type in _DONE}
        total = max(len(steps), follower.total if follower else 0)
        on_progress(
            RunProgress(job_name, result.run_id, total, len(steps), len(outcome.materialized), finished=True)
        )
    return outcome


def run_ingest(
    sources: list[str] | None = None,
    verbose: bool = False,
    extra_periods: dict[str, list[str]] | None = None,
    on_progress: ProgressFn | None = None,
    tags: dict[str, str] | None = None,
    accept_shrink: bool = False,
) -> list[RunOutcome]:
    """One ingest run per partitioning over the periods with inbox files or pending deliveries;
    ``accept_shrink`` loads the corrections held for shrinking their unit-period too much."""
    from orchestration.assets.ingest import ACCEPT_SHRINK_TAG
    from orchestration.jobs import ingest_run_requests, pending_work

    work = pending_work(Lake(get_settings()))
    for source, periods in (extra_periods or {}).items():
        work[source] = sorted(set(work.get(source, [])) | set(periods))
    if sources is not None:
        work = {k: v for k, v in work.items() if k in sources}
    requests = list(ingest_run_requests(work))
    outcomes = []
    for number, request in enumerate(requests, 1):
        run_tags = {
            **request.tags,
            "ibrain/trigger": "cli",
            **({ACCEPT_SHRINK_TAG: "true"} if accept_shrink else {}),
            **(tags or {}),
        }
        numbered = _numbered(on_progress, number, len(requests)) if on_progress else None
        outcomes.append(run_job(request.job_name, run_tags, verbose, list(request.asset_selection), numbered))
    return outcomes


def _numbered(on_progress: ProgressFn, number: int, runs: int) -> ProgressFn:
    return lambda progress: on_progress(dataclasses.replace(progress, run_number=number, runs=runs))


def run_pipeline(
    verbose: bool = False, tags: dict[str, str] | None = None, on_progress: ProgressFn | None = None
) -> RunOutcome:
    """Everything downstream of bronze, the monthly models over every month with data."""
    from orchestration.jobs import PIPELINE_JOB_NAME, pipeline_tags

    all_tags = {**pipeline_tags(Lake(get_settings())), "ibrain/trigger": "cli", **(tags or {})}
    return run_job(PIPELINE_JOB_NAME, all_tags, verbose, on_progress=on_progress)


def run_backfill(
    source_name: str,
    start: str,
    end: str,
    verbose: bool = False,
    on_progress: ProgressFn | None = None,
    tags: dict[str, str] | None = None,
) -> RunOutcome:
    """Replay ``start``..``end`` of one source from landing (no API call for past periods)."""
    from ingest.sources import get_source
    from orchestration.assets.ingest import REPLAY_TAG
    from orchestration.jobs import INGEST_JOB_NAMES

    source = get_source(source_name)
    for period in (start, end):
        if not source.is_period(period):
            raise ValueError(f"{period!r} is not a {source.spec.grain} period of {source_name}")
    keys = [dg.AssetKey(source.bronze_contract.asset_key), dg.AssetKey(source.quarantine_contract.asset_key)]
    all_tags = {
        "dagster/asset_partition_range_start": start,
        "dagster/asset_partition_range_end": end,
        REPLAY_TAG: "true",
        "ibrain/trigger": "cli",
        **(tags or {}),
    }
    return run_job(INGEST_JOB_NAMES[source.spec.grain], all_tags, verbose, keys, on_progress)


def run_source_check(
    source_name: str,
    period: str,
    tags: dict[str, str] | None = None,
    verbose: bool = False,
    on_progress: ProgressFn | None = None,
) -> RunOutcome:
    """Re-run one source's bronze and quarantine assets and their checks for ``period`` (after a
    batch withdrawal, so the checks judge what is left)."""
    from ingest.sources import get_source
    from orchestration.jobs import INGEST_JOB_NAMES

    source = get_source(source_name)
    keys = [dg.AssetKey(source.bronze_contract.asset_key), dg.AssetKey(source.quarantine_contract.asset_key)]
    all_tags = {
        **(tags or {}),
        "dagster/asset_partition_range_start": period,
        "dagster/asset_partition_range_end": period,
        "ibrain/source": source.name,
    }
    return run_job(INGEST_JOB_NAMES[source.spec.grain], all_tags, verbose, keys, on_progress)
