"""The one Dagster ``Definitions`` of industry-brain (loaded by workspace.yaml)."""

from __future__ import annotations

import dagster as dg

from orchestration.assets.dbt import dbt_resource, dbt_warehouse
from orchestration.assets.exports import export_assets
from orchestration.assets.ingest import bronze_assets, ingest_ledger
from orchestration.assets.reference import reference_tables
from orchestration.assets.silver import silver_enterprise_month_stats
from orchestration.jobs import (
    PIPELINE_JOB_NAME,
    delta_maintenance,
    delta_maintenance_schedule,
    pending_deliveries_sensor,
    pipeline_job,
)
from orchestration.resources import SparkResource

defs = dg.Definitions(
    assets=[
        ingest_ledger,
        reference_tables,
        *bronze_assets,
        silver_enterprise_month_stats,
        dbt_warehouse,
        *export_assets,
    ],
    jobs=[pipeline_job, delta_maintenance],
    schedules=[delta_maintenance_schedule],
    sensors=[pending_deliveries_sensor],
    resources={"spark": SparkResource(), "dbt": dbt_resource()},
    executor=dg.in_process_executor,
)


def ibrain_pipeline() -> dg.JobDefinition:
    """The pipeline job, for ``reconstructable`` (used by ``ibrain run``)."""
    return defs.resolve_job_def(PIPELINE_JOB_NAME)


def delta_maintenance_job() -> dg.JobDefinition:
    """The maintenance job, for ``reconstructable`` (used by ``ibrain maintain``)."""
    return defs.resolve_job_def("delta_maintenance")
