"""The id quality results are recorded under: the Dagster run, or a timestamped id outside one."""

from __future__ import annotations

import datetime as dt
import os

import dagster as dg


def current_run_id() -> str:
    try:
        return dg.OpExecutionContext.get().run_id
    except dg.DagsterInvariantViolationError:  # no Dagster context: a script or the CLI
        return os.environ.get("DAGSTER_RUN_ID") or f"cli-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}"
