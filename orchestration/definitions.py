"""The one Dagster ``Definitions`` of industry-brain (loaded by workspace.yaml).

Importing this module builds them (:func:`build_definitions`): the contracts are read and the dbt
manifest loaded then — under ``dagster dev`` the dbt project is parsed first — and without a
manifest the load fails, naming ``make manifest``. Other orchestration modules build nothing at
import.
"""

from pathlib import Path

import dagster as dg

from orchestration.alerts import alert_on_run_failure, alerts_sensor, monthly_brief, monthly_brief_schedule
from orchestration.assets.audit import audit_trail_definitions
from orchestration.assets.dbt import dbt_project, dbt_resource, warehouse_assets
from orchestration.assets.deliveries import delivery_definitions
from orchestration.assets.ingest import audit_specs, bronze_assets
from orchestration.assets.reference import reference_assets
from orchestration.assets.silver import review_spec, silver_assets
from orchestration.auditing import AUDIT_SENSORS, audit_trail_daily
from orchestration.jobs import (
    AUDIT_TRAIL_JOB_NAME,
    INGEST_JOB_NAMES,
    PIPELINE_JOB_NAME,
    asset_jobs,
    delta_maintenance,
    delta_maintenance_schedule,
    registry_daily_pull,
    sensors,
)
from orchestration.resources import SparkResource
from transforms.dbt_launcher import DBT_PROJECT_DIR


def build_definitions(dbt_project_dir: Path = DBT_PROJECT_DIR) -> dg.Definitions:
    """Every asset, check, job, schedule and sensor, with the resources they use."""
    project = dbt_project(dbt_project_dir)
    jobs = asset_jobs()
    security_trail, audit_trail_verifies = audit_trail_definitions()
    deliveries = delivery_definitions()
    return dg.Definitions(
        assets=[
            *audit_specs(),
            *reference_assets(),
            *bronze_assets(),
            *silver_assets(),
            review_spec(),
            *warehouse_assets(project),
            *deliveries.assets,
            security_trail,
        ],
        asset_checks=[audit_trail_verifies],
        jobs=[
            jobs.pipeline,
            jobs.ingest_monthly,
            jobs.ingest_daily,
            jobs.audit_trail,
            delta_maintenance,
            monthly_brief,
            *deliveries.jobs,
        ],
        schedules=[
            delta_maintenance_schedule,
            registry_daily_pull,
            audit_trail_daily,
            monthly_brief_schedule(),
            *deliveries.schedules,
        ],
        sensors=[*sensors(), *AUDIT_SENSORS, alerts_sensor, alert_on_run_failure, *deliveries.sensors],
        resources={"spark": SparkResource(), "dbt": dbt_resource(project)},
        executor=dg.in_process_executor,
    )


defs = build_definitions()


# Module-level job factories, so ``dagster.reconstructable`` can rebuild each job (ibrain run).
def ibrain_pipeline() -> dg.JobDefinition:
    return defs.resolve_job_def(PIPELINE_JOB_NAME)


def ingest_monthly_job() -> dg.JobDefinition:
    return defs.resolve_job_def(INGEST_JOB_NAMES["month"])


def ingest_daily_job() -> dg.JobDefinition:
    return defs.resolve_job_def(INGEST_JOB_NAMES["day"])


def delta_maintenance_job() -> dg.JobDefinition:
    return defs.resolve_job_def("delta_maintenance")


def deliveries_send_job() -> dg.JobDefinition:
    return defs.resolve_job_def("deliveries_send")


def deliveries_build_zhgl_platform_job() -> dg.JobDefinition:
    return defs.resolve_job_def("deliveries_build_zhgl_platform")


def deliveries_build_gyhlw_platform_job() -> dg.JobDefinition:
    return defs.resolve_job_def("deliveries_build_gyhlw_platform")


def audit_trail_job() -> dg.JobDefinition:
    return defs.resolve_job_def(AUDIT_TRAIL_JOB_NAME)
