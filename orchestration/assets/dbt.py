"""dbt models (gold, theme, topic, indicator) as Dagster assets; dbt tests become asset checks.

dbt runs through ``ibrain-dbt`` (see ibrain/dbt_launcher.py), which attaches its Spark session
to the lake first. Asset keys are ``[schema, model]`` — the layer and table — and descriptions,
owners, tags and column schemas come from the catalog contracts.

Every model carries one of three dbt tags, which split it into three Dagster multi-assets run in
this order (a model may only read models of its own or an earlier group):

- ``dimension``: the conformed dimensions, rebuilt whole (small, current + history);
- ``monthly``: facts and monthly aggregates, partitioned by month; the run's months go to dbt as
  ``--vars {periods: [...]}`` and each model replaces exactly those months (replace_period);
  a range backfill is one dbt invocation (BackfillPolicy.single_run);
- ``snapshot``: current-state views across all months (enterprise profile, chain map …).
"""

import json
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from dagster_dbt.dbt_project import using_dagster_dev

from catalog import ContractError, get_contract
from ibrain.dbt_launcher import DBT_PROJECT_DIR, prepare_environment
from ibrain.settings import get_settings
from orchestration.metadata import contract_metadata, contract_tags
from orchestration.partitions import monthly

# dagster-dbt also opens a dbt adapter in this process (for column metadata); it renders the
# project, whose location_root needs IBRAIN_LAKE_ROOT.
prepare_environment()

DBT_PROJECT = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=DBT_PROJECT_DIR,
    target=get_settings().dbt_target,
)


def launcher_path() -> str:
    """The ``ibrain-dbt`` executable next to this interpreter (or on PATH)."""
    beside = Path(sys.executable).with_name("ibrain-dbt")
    found = str(beside) if beside.exists() else shutil.which("ibrain-dbt")
    if not found:
        raise FileNotFoundError("ibrain-dbt not found: install the project (make venv)")
    return found


# Under `dagster dev` the manifest is re-parsed at load so model edits show at once. dagster-dbt's
# own DbtProject.prepare_if_dev() would call a bare `dbt` without the launcher's environment
# (lake root for location_root), so parse through the launcher instead.
if using_dagster_dev():
    subprocess.run([launcher_path(), "parse", "--quiet"], check=True)

if not DBT_PROJECT.manifest_path.exists():
    raise FileNotFoundError(
        f"dbt manifest not found at {DBT_PROJECT.manifest_path}: run `make manifest` "
        "(or `ibrain-dbt parse`) first"
    )


class ContractTranslator(DagsterDbtTranslator):
    """Keys ``[layer, table]`` and metadata from the catalog contracts."""

    def _contract(self, props: Mapping[str, Any]):
        layer = props["source_name"] if props["resource_type"] == "source" else props["schema"]
        try:
            return get_contract(layer, props["name"])
        except ContractError:
            return None

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        props = dbt_resource_props
        if props["resource_type"] == "source":
            return dg.AssetKey([props["source_name"], props["name"]])
        return dg.AssetKey([props["schema"], props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return (
            dbt_resource_props.get("schema")
            if dbt_resource_props["resource_type"] != "source"
            else dbt_resource_props["source_name"]
        )

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        contract = self._contract(dbt_resource_props)
        if contract is None:
            return super().get_description(dbt_resource_props)
        return f"{contract.name_zh} — {contract.description}"

    def get_metadata(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, Any]:
        contract = self._contract(dbt_resource_props)
        base = dict(super().get_metadata(dbt_resource_props))
        return base if contract is None else {**base, **contract_metadata(contract)}

    def get_owners(self, dbt_resource_props: Mapping[str, Any]):
        contract = self._contract(dbt_resource_props)
        return [contract.owner] if contract else super().get_owners(dbt_resource_props)

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        contract = self._contract(dbt_resource_props)
        base = dict(super().get_tags(dbt_resource_props))
        return base if contract is None else {**base, **contract_tags(contract)}


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(
        project_dir=DBT_PROJECT, dbt_executable=launcher_path(), target=get_settings().dbt_target
    )


MODEL_GROUPS = ("dimension", "monthly", "snapshot")


def run_months(context: dg.AssetExecutionContext) -> list[str]:
    """The months of a partitioned run (a single partition or a backfill range)."""
    start, end = context.partition_key_range
    return monthly.get_partition_keys_in_range(dg.PartitionKeyRange(start, end))


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    dagster_dbt_translator=ContractTranslator(),
    select="tag:dimension",
    name="dbt_dimensions",
)
def dbt_dimensions(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """dbt build of the dimensions: models, then their tests (reported as asset checks)."""
    yield from dbt.cli(["build"], context=context).stream()


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    dagster_dbt_translator=ContractTranslator(),
    select="tag:monthly",
    name="dbt_monthly",
    partitions_def=monthly,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def dbt_monthly(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """dbt build of the monthly models for the run's months (one invocation for a whole range)."""
    months = run_months(context)
    context.log.info(f"dbt periods: {months[0]} … {months[-1]} ({len(months)} months)")
    yield from dbt.cli(["build", "--vars", json.dumps({"periods": months})], context=context).stream()


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    dagster_dbt_translator=ContractTranslator(),
    select="tag:snapshot",
    name="dbt_snapshots",
)
def dbt_snapshots(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """dbt build of the current-state models over every month."""
    yield from dbt.cli(["build"], context=context).stream()


dbt_warehouse = [dbt_dimensions, dbt_monthly, dbt_snapshots]
