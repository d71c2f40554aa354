"""Dagster adapters of the alerts (serving/alerts) and the monthly brief (serving/brief).

- ``alerts_sensor``: every few minutes, the events found in the quality tables, the outbox and
  the ingest ledger (failed blocking checks — every asset check records its evaluation in
  quality.dq_result —, opened issues, dead letters, late sources) are dispatched by the rules.
- ``alert_on_run_failure``: Dagster's run-failure sensor posts a ``run_failed`` event.
- ``monthly_brief`` job + ``monthly_brief_schedule``: the economic-operation brief of the month
  before, built the morning after that month's statistics deadline (catalog/deadlines.py:
  gov_stats_monthly's ``days_after_period``).
Sensors start STOPPED unless ``IBRAIN_SENSORS=on`` (as the ingest sensors); the schedule RUNNING.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg

from catalog.contracts import get_contract
from ibrain.lake import Lake
from ibrain.settings import get_settings
from orchestration.jobs import _sensor_status
from security.db import database_url, make_engine, migrate
from serving.alerts import events as alert_events
from serving.alerts.rules import load_rules, signing_secret
from serving.alerts.webhooks import Outcome, dispatch
from serving.brief.figures import STATS_SOURCE, add_months, compute
from serving.brief.render import write_brief


def _dispatch(found: list[alert_events.Event]) -> Outcome:
    settings = get_settings()
    engine = make_engine(database_url(settings))
    try:
        migrate(engine)
        return dispatch(engine, load_rules(), found, signing_secret(settings))
    finally:
        engine.dispose()


def _summary(outcome: Outcome) -> str:
    text = f"{len(outcome.sent)} sent, {len(outcome.failed)} failed, {outcome.skipped} already sent"
    if outcome.unconfigured:
        text += f"; webhooks without a URL: {', '.join(sorted(outcome.unconfigured))}"
    return text


def collect_events() -> list[alert_events.Event]:
    settings = get_settings()
    engine = make_engine(database_url(settings))
    try:
        migrate(engine)
        return alert_events.collect(Lake(settings), engine)
    finally:
        engine.dispose()


@dg.sensor(
    minimum_interval_seconds=300,
    default_status=_sensor_status(),
    description="Failed blocking checks, opened quality issues, dead-lettered deliveries and late "
    "sources → alerts to the allow-listed webhooks (catalog/alerts.yaml), each once.",
)
def alerts_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    outcome = _dispatch(collect_events())
    if outcome.failed:
        raise RuntimeError(f"alerts: {_summary(outcome)}: {outcome.failed[:5]}")
    return dg.SkipReason(f"alerts: {_summary(outcome)}")


@dg.run_failure_sensor(
    default_status=_sensor_status(),
    description="A failed run → a run_failed alert to the allow-listed webhooks, once.",
)
def alert_on_run_failure(context: dg.RunFailureSensorContext) -> None:
    run = context.dagster_run
    event = alert_events.run_failed(run.run_id, run.job_name, context.failure_event.message or "", run.tags)
    outcome = _dispatch([event])
    context.log.info(f"alerts: {_summary(outcome)}")
    if outcome.failed:
        raise RuntimeError(f"alerts: {_summary(outcome)}")


@dg.op(config_schema={"period": str}, description="Write the economic-operation brief of a month.")
def write_monthly_brief(context) -> str:  # no annotation: Dagster rejects a string-typed hint
    period = context.op_config["period"]
    written = write_brief(Lake(get_settings()), compute(Lake(get_settings()), period))
    if written.pdf_problem:
        context.log.warning(f"brief {period}: no PDF: {written.pdf_problem}")
    return written.html_uri


@dg.job(description="The monthly economic-operation brief (经济运行月报) of one month (run config: period).")
def monthly_brief() -> None:
    write_monthly_brief()


def brief_day() -> int:
    """The day of the month the brief is built: the day after the statistics deadline."""
    spec = get_contract("bronze", STATS_SOURCE).ingest
    assert spec is not None and spec.deadline is not None
    days = spec.deadline.get("days_after_period")
    if days is None or not 1 <= days <= 27:
        raise ValueError(f"{STATS_SOURCE}: the brief's schedule needs a days_after_period deadline ≤ 27")
    return days + 1


def monthly_brief_schedule() -> dg.ScheduleDefinition:
    @dg.schedule(
        cron_schedule=f"0 6 {brief_day()} * *",
        job=monthly_brief,
        execution_timezone="Asia/Shanghai",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="The brief of the month before, the morning after its statistics deadline.",
    )
    def monthly_brief_after_deadline(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        when = context.scheduled_execution_time.date()
        period = add_months(dt.date(when.year, when.month, 1), -1).strftime("%Y-%m")
        return dg.RunRequest(
            run_key=f"brief-{period}",
            run_config={"ops": {"write_monthly_brief": {"config": {"period": period}}}},
        )

    return monthly_brief_after_deadline
