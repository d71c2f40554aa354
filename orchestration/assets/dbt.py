"""dbt models (gold, theme, topic, indicator) as Dagster assets; dbt tests become asset checks.

dbt runs through ``ibrain-dbt`` (see transforms/dbt_launcher.py), which attaches its Spark session
to the lake first. Asset keys are ``[schema, model]`` — the layer and table — and descriptions,
owners, tags and column schemas come from the catalog contracts.

Every model carries one of three dbt tags, which split it into three Dagster multi-assets run in
this order (a model may only read models of its own or an earlier group):

- ``dimension``: the conformed dimensions, rebuilt whole (small, current + history);
- ``monthly``: facts and monthly aggregates, partitioned by month; the run's months go to dbt as
  ``--vars {periods: [...]}`` and each model replaces exactly those months (replace_period);
  a range backfill is one dbt invocation (BackfillPolicy.single_run);
- ``snapshot``: current-state views across all months (enterprise profile, chain map …).

Each dbt invocation's test results, and each selected model's timeliness and accessibility, are
recorded in ``quality.dq_result`` (quality/dbt_results.py) when they differ from the latest recorded
(quality/store.py). A `table` model whose rows did not change is not rewritten
(transforms/dbt/macros/table_unchanged.sql): dbt reports it UNCHANGED and it still counts as built.

The assets are built from the parsed manifest (``make manifest``) when the definitions are built
(:func:`dbt_project`), not at import; under ``dagster dev`` the project is parsed again first.
"""

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from dagster_dbt.core.dbt_cli_invocation import DbtCliInvocation
from dagster_dbt.dbt_project import using_dagster_dev

from catalog import Contract, ContractError, get_contract, load_catalog
from ibrain.settings import get_settings
from orchestration.metadata import contract_metadata, contract_tags, freshness_policy
from orchestration.partitions import monthly
from orchestration.resources import SparkResource
from orchestration.run_id import current_run_id
from quality.dbt_results import DbtTestResult, dbt_run_evaluations
from quality.store import record
from transforms.dbt_launcher import DBT_PROJECT_DIR, dbt_environment, environment_for_dbt

MODEL_GROUPS = ("dimension", "monthly", "snapshot")
# dbt unit tests (transforms/dbt/tests/unit) check the SQL against fixed rows, not the run's data,
# and dagster-dbt reports no result for them: they run in pytest, not in the pipeline.
BUILD = ["build", "--exclude-resource-type", "unit_test"]
FAILED_ROWS = "dagster_dbt/failed_row_count"  # check metadata dagster-dbt sets from dbt's failures


def launcher_path() -> str:
    """The ``ibrain-dbt`` executable next to this interpreter (or on PATH)."""
    beside = Path(sys.executable).with_name("ibrain-dbt")
    found = str(beside) if beside.exists() else shutil.which("ibrain-dbt")
    if not found:
        raise FileNotFoundError("ibrain-dbt not found: install the project (make venv)")
    return found


def dbt_project(project_dir: Path = DBT_PROJECT_DIR) -> DbtProject:
    """The dbt project the warehouse assets are built from, with its parsed manifest.

    Under ``dagster dev`` the project is parsed again first, so model edits show at once
    (through the launcher: dagster-dbt's own ``prepare_if_dev`` would call a bare ``dbt``
    without the environment the project needs). Without a manifest this fails, naming
    ``make manifest``: the warehouse is never left out silently.
    """
    project = DbtProject(project_dir=project_dir, profiles_dir=project_dir, target=get_settings().dbt_target)
    if using_dagster_dev():
        folders = {"DBT_PROJECT_DIR": str(project_dir), "DBT_PROFILES_DIR": str(project_dir)}
        env = {**dbt_environment(os.environ), **folders}
        subprocess.run([launcher_path(), "parse", "--quiet"], check=True, env=env)
    if not project.manifest_path.exists():
        raise FileNotFoundError(
            f"dbt manifest not found at {project.manifest_path}: run `make manifest` "
            "(or `ibrain-dbt parse`) first"
        )
    return project


class LauncherDbtResource(DbtCliResource):
    """dagster-dbt's CLI resource, each invocation started with the environment dbt needs
    (transforms/dbt_launcher.py), set for that call only: dagster-dbt copies ``os.environ`` into
    the dbt process and also renders the project in this process (its adapter, for column
    metadata this project does not fetch, still needs the lake root to render)."""

    def cli(self, args: Sequence[str], **kwargs: Any) -> DbtCliInvocation:
        with environment_for_dbt():
            return super().cli(args, **kwargs)


def dbt_resource(project: DbtProject) -> DbtCliResource:
    return LauncherDbtResource(
        project_dir=project, dbt_executable=launcher_path(), target=get_settings().dbt_target
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

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        """Models whose contract has an SLA get a freshness policy from its update frequency."""
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        contract = self._contract(props) if props["resource_type"] == "model" else None
        policy = freshness_policy(contract) if contract else None
        return spec if policy is None else spec.replace_attributes(freshness_policy=policy)


def run_months(context: dg.AssetExecutionContext) -> list[str]:
    """The months of a partitioned run (a single partition or a backfill range)."""
    start, end = context.partition_key_range
    return monthly.get_partition_keys_in_range(dg.PartitionKeyRange(start, end))


def warehouse_assets(project: DbtProject) -> list[dg.AssetsDefinition]:
    """The three dbt multi-assets (dimensions, monthly, snapshots) of the project's manifest."""
    translator = ContractTranslator()

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=translator,
        select="tag:dimension",
        name="dbt_dimensions",
    )
    def dbt_dimensions(context: dg.AssetExecutionContext, dbt: DbtCliResource, spark: SparkResource):
        """dbt build of the dimensions: models, then their tests (reported as asset checks)."""
        yield from build_and_record(context, dbt, spark, BUILD)

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=translator,
        select="tag:monthly",
        name="dbt_monthly",
        partitions_def=monthly,
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def dbt_monthly(context: dg.AssetExecutionContext, dbt: DbtCliResource, spark: SparkResource):
        """dbt build of the monthly models for the run's months (one invocation for a whole range)."""
        months = run_months(context)
        context.log.info(f"dbt periods: {months[0]} … {months[-1]} ({len(months)} months)")
        yield from build_and_record(context, dbt, spark, [*BUILD, "--vars", json.dumps({"periods": months})])

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=translator,
        select="tag:snapshot",
        name="dbt_snapshots",
    )
    def dbt_snapshots(context: dg.AssetExecutionContext, dbt: DbtCliResource, spark: SparkResource):
        """dbt build of the current-state models over every month."""
        yield from build_and_record(context, dbt, spark, BUILD)

    return [dbt_dimensions, dbt_monthly, dbt_snapshots]


def build_and_record(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, spark: SparkResource, args: list[str]
) -> Iterator[Any]:
    """Run dbt and pass its events on unchanged; then record the invocation's test results and
    the selected models' timeliness and accessibility (one record per invocation), and only then
    fail the step if dbt failed (dbt's own blocking — tests that fail stop what depends on the
    model — is unchanged)."""
    invocation = dbt.cli(args, context=context, raise_on_error=False)
    tests: list[DbtTestResult] = []
    built: set[dg.AssetKey] = set()
    for event in invocation.stream():
        if isinstance(event, dg.AssetCheckResult):
            tests.append(dbt_test_result(event))
        elif isinstance(event, dg.Output):
            built.add(context.asset_key_for_output(event.output_name))
        elif isinstance(event, dg.AssetMaterialization):
            built.add(event.asset_key)
        yield event
    catalog = load_catalog()
    models: list[tuple[Contract, bool]] = [
        (catalog[name], key in built)
        for key in sorted(context.selected_asset_keys, key=lambda k: k.path)
        if len(key.path) == 2 and (name := ".".join(key.path)) in catalog
    ]
    tables = spark.tables()
    # the manifest the events were translated with
    evaluations = dbt_run_evaluations(tables, invocation.manifest, tests, models)
    update = record(tables, current_run_id(), evaluations)
    context.log.info(
        f"quality: {len(evaluations)} evaluations ({sum(not e.passed for e in evaluations)} below "
        f"threshold), {update.recorded} recorded (the others as last recorded); issues opened "
        f"{update.opened or 'none'}, closed {update.closed or 'none'}, reopened {update.reopened or 'none'}"
    )
    error = invocation.get_error()
    if error is not None:
        raise error


def _meta_value(value: Any) -> Any:
    return getattr(value, "value", value)


def dbt_test_result(check: dg.AssetCheckResult) -> DbtTestResult:
    """A dbt test's check result as dagster-dbt reports it (status, unique id and failing rows
    in its metadata)."""
    meta = check.metadata or {}
    failures = _meta_value(meta.get(FAILED_ROWS))
    return DbtTestResult(
        dataset=".".join(check.asset_key.path),
        name=check.check_name,
        unique_id=_meta_value(meta.get("unique_id")) or None,
        passed=check.passed,
        status=str(_meta_value(meta.get("status", ""))).lower(),
        failures=None if failures is None else int(failures),
    )
