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

Each dbt invocation's test results are also stored in ``quality.dq_result`` (X = A / B with B the
model's rows and A = B − the test's failing rows), together with each selected model's timeliness
(a monthly model holds the latest month its silver inputs hold; other models: rebuilt in the run)
and accessibility (readable by its catalog name, columns as in its contract).
"""

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from dagster_dbt.dbt_project import using_dagster_dev

from catalog import Contract, ContractError, get_contract
from catalog.tables import LakeTables
from ibrain.settings import get_settings
from orchestration.metadata import contract_metadata, contract_tags, freshness_policy
from orchestration.partitions import monthly
from orchestration.resources import SparkResource
from orchestration.run_id import current_run_id
from quality.store import Evaluation, record
from quality.timeliness import accessibility, evaluation_month, upstream_timeliness
from transforms.dbt_launcher import DBT_PROJECT_DIR, prepare_environment

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

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        """Models whose contract has an SLA get a freshness policy from its update frequency."""
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        contract = self._contract(props) if props["resource_type"] == "model" else None
        policy = freshness_policy(contract) if contract else None
        return spec if policy is None else spec.replace_attributes(freshness_policy=policy)


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(
        project_dir=DBT_PROJECT, dbt_executable=launcher_path(), target=get_settings().dbt_target
    )


MODEL_GROUPS = ("dimension", "monthly", "snapshot")
# dbt unit tests (transforms/dbt/tests/unit) check the SQL against fixed rows, not the run's data,
# and dagster-dbt reports no result for them: they run in pytest, not in the pipeline.
BUILD = ["build", "--exclude-resource-type", "unit_test"]


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
def dbt_dimensions(context: dg.AssetExecutionContext, dbt: DbtCliResource, spark: SparkResource):
    """dbt build of the dimensions: models, then their tests (reported as asset checks)."""
    yield from build_and_record(context, dbt, spark, BUILD)


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    dagster_dbt_translator=ContractTranslator(),
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
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    dagster_dbt_translator=ContractTranslator(),
    select="tag:snapshot",
    name="dbt_snapshots",
)
def dbt_snapshots(context: dg.AssetExecutionContext, dbt: DbtCliResource, spark: SparkResource):
    """dbt build of the current-state models over every month."""
    yield from build_and_record(context, dbt, spark, BUILD)


dbt_warehouse = [dbt_dimensions, dbt_monthly, dbt_snapshots]


# ---------------------------------------------------------------------------------------------
# dbt test results, timeliness and accessibility → quality.dq_result

# Dimension of a dbt test without meta.dimension, by its generic test (GB/T 36344).
TEST_DIMENSIONS = {
    "not_null": "完整性",
    "unique": "准确性",
    "unique_combination": "准确性",
    "value_between": "准确性",
    "expression_is_true": "准确性",
    "accepted_values": "规范性",
    "relationships": "一致性",
    "sum_matches": "一致性",
}
DEFAULT_TEST_DIMENSION = "准确性"
FAILED_ROWS = "dagster_dbt/failed_row_count"  # check metadata dagster-dbt sets from dbt's failures


def build_and_record(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, spark: SparkResource, args: list[str]
) -> Iterator[Any]:
    """Run dbt and pass its events on unchanged; then record the invocation's test results and
    the selected models' timeliness and accessibility (one record per invocation), and only then
    fail the step if dbt failed (dbt's own blocking — tests that fail stop what depends on the
    model — is unchanged)."""
    invocation = dbt.cli(args, context=context, raise_on_error=False)
    checks: list[dg.AssetCheckResult] = []
    built: set[dg.AssetKey] = set()
    for event in invocation.stream():
        if isinstance(event, dg.AssetCheckResult):
            checks.append(event)
        elif isinstance(event, dg.Output):
            built.add(context.asset_key_for_output(event.output_name))
        elif isinstance(event, dg.AssetMaterialization):
            built.add(event.asset_key)
        yield event
    manifest = invocation.manifest  # the manifest the events were translated with
    tables = spark.tables()
    evaluations = dbt_test_evaluations(tables, manifest, checks)
    for key in sorted(context.selected_asset_keys, key=lambda k: k.path):
        contract = _model_contract(key)
        if contract is not None:
            evaluations += model_timeliness(tables, manifest, contract, rebuilt=key in built)
            evaluations += accessibility(tables, contract)
    update = record(tables, current_run_id(), evaluations)
    context.log.info(
        f"quality: {len(evaluations)} evaluations recorded "
        f"({sum(not e.passed for e in evaluations)} below threshold); issues opened "
        f"{update.opened or 'none'}, closed {update.closed or 'none'}, reopened {update.reopened or 'none'}"
    )
    error = invocation.get_error()
    if error is not None:
        raise error


def _model_contract(key: dg.AssetKey) -> Contract | None:
    if len(key.path) != 2:
        return None
    try:
        return get_contract(*key.path)
    except ContractError:
        return None


def _meta_value(value: Any) -> Any:
    return getattr(value, "value", value)


def dbt_test_evaluations(
    tables: LakeTables, manifest: Mapping[str, Any], checks: list[dg.AssetCheckResult]
) -> list[Evaluation]:
    """One evaluation per dbt test result: B = the model's rows, A = B − the failing rows dbt
    counted (A = 0 when the test itself errored), recorded for the model's latest month. The rule
    id and dimension come from the test's ``config.meta`` (else its name and its kind)."""
    nodes = manifest["nodes"]
    rows: dict[str, tuple[int, Any]] = {}
    out = []
    for check in checks:
        meta = check.metadata or {}
        status = str(_meta_value(meta.get("status", ""))).lower()
        if status == "skipped":
            continue
        # a test added since the manifest Dagster loaded: recorded under its check name
        node = nodes.get(_meta_value(meta.get("unique_id", ""))) or {"name": check.check_name}
        config = node.get("config") or {}
        test_meta = config.get("meta") or {}
        kind = (node.get("test_metadata") or {}).get("name")
        dataset = ".".join(check.asset_key.path)
        if dataset not in rows:
            df = tables.spark.table(dataset)
            rows[dataset] = (df.count(), evaluation_month(df))
        checked, period = rows[dataset]
        failed = _meta_value(meta.get(FAILED_ROWS))
        if check.passed:
            passed_rows, sample = checked, ()
        else:
            passed_rows = 0 if failed is None else max(checked - int(failed), 0)
            what = f"{failed} failing rows" if failed is not None else f"status {status or 'error'}"
            sample = (f"dbt test {node['name']}: {what}",)
        out.append(
            Evaluation(
                dataset=dataset,
                rule_id=test_meta.get("rule_id") or node["name"],
                dimension=test_meta.get("dimension") or TEST_DIMENSIONS.get(kind, DEFAULT_TEST_DIMENSION),
                severity=str(config.get("severity", "error")).upper(),
                source="dbt",
                period=period,
                checked=checked,
                passed_rows=passed_rows,
                threshold=1.0,
                sample=sample,
            )
        )
    return out


def model_timeliness(
    tables: LakeTables, manifest: Mapping[str, Any], contract: Contract, rebuilt: bool
) -> list[Evaluation]:
    """A monthly model holds the latest month its silver inputs hold; a dimension or snapshot
    model is timely when it was rebuilt in the run."""
    nodes = manifest["nodes"]
    unique_id = next(
        (
            uid
            for uid, n in nodes.items()
            if n["resource_type"] == "model" and (n["schema"], n["name"]) == (contract.layer, contract.table)
        ),
        None,
    )
    monthly_model = unique_id is not None and "monthly" in nodes[unique_id]["config"].get("tags", [])
    upstream = silver_inputs(manifest, unique_id) if monthly_model else []
    return upstream_timeliness(tables, contract, upstream, rebuilt=rebuilt, source="catalog")


def silver_inputs(manifest: Mapping[str, Any], unique_id: str) -> list[Contract]:
    """The silver tables a monthly model reads, directly or through other monthly models."""
    nodes, sources = manifest["nodes"], manifest["sources"]
    found: set[str] = set()
    todo, seen = [unique_id], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for parent in nodes[current]["depends_on"]["nodes"]:
            if parent in sources and sources[parent]["source_name"] == "silver":
                found.add(sources[parent]["name"])
            elif parent in nodes and "monthly" in nodes[parent]["config"].get("tags", []):
                todo.append(parent)
    return [get_contract("silver", name) for name in sorted(found)]
