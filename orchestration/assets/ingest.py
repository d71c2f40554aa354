"""Landing → bronze assets, one per source, partitioned by the source's period.

A run for a partition range collects the source's inbox, pulls the API when the source has one
and the range includes today, then loads what the ledger says is pending in the range. A backfill
(a UI backfill, tag ``dagster/backfill``, or ``ibrain backfill``) replays every partition of its
range from landing.
"""

import dagster as dg

from catalog import get_contract
from catalog.tables import LakeTables
from ibrain.delta import in_predicate
from ingest.bronze import LoadReport, load
from ingest.connectors import registry
from ingest.inbox import collect
from ingest.sources import SOURCES, Source
from orchestration.checks import (
    quarantine_rule_check_specs,
    quarantine_rule_results,
    reconciliation_result,
    recorded_rule_check_specs,
    recorded_rule_results,
)
from orchestration.metadata import asset_spec, external_spec
from orchestration.partitions import BY_GRAIN
from orchestration.resources import SparkResource
from quality.expectations import run_suite
from quality.measure import reconcile_ledger
from quality.timeliness import accessibility, delivery_timeliness, evaluation_month

LEDGER = get_contract("audit", "ingest_ledger")
REPLAY_TAG = "ibrain/replay"  # set by `ibrain backfill`; UI backfills carry dagster/backfill
PULL_LOG = get_contract("audit", "api_pull_log")


ingest_ledger = external_spec(LEDGER)
api_pull_log = external_spec(PULL_LOG)


def bronze_asset(source: Source) -> dg.AssetsDefinition:
    bronze, quarantine = source.bronze_contract, source.quarantine_contract
    partitions = BY_GRAIN[source.spec.grain]
    upstream = [LEDGER.asset_key, *([PULL_LOG.asset_key] if source.spec.api else [])]

    @dg.multi_asset(
        name=f"bronze_{source.name}",
        specs=[asset_spec(bronze, deps=upstream), asset_spec(quarantine, deps=upstream)],
        check_specs=[
            *quarantine_rule_check_specs(bronze, reconciled=True),
            *recorded_rule_check_specs(bronze),
        ],
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        can_subset=False,
    )
    def _load(context: dg.AssetExecutionContext, spark: SparkResource):
        tables = spark.tables()
        keys = list(context.partition_keys)
        inbox = collect(tables, source.name)
        if inbox.unidentified:
            context.log.error(f"unidentified files moved to _rejected: {sorted(inbox.unidentified)}")
        today = source.current_period()
        if source.spec.api and today in keys:
            config = registry.RegistryApiConfig.from_env()
            if config is None:
                context.log.warning("IBRAIN_REGISTRY_API_URL not set: no API pull, landed pages only")
            else:
                pulled = registry.pull(tables, config, today)
                context.log.info(
                    f"pulled {pulled.pages} pages, {pulled.records} records "
                    f"({pulled.retries} retries), watermark {pulled.watermark}"
                )
        replay = REPLAY_TAG in context.run.tags or "dagster/backfill" in context.run.tags
        report = load(tables, source.name, keys, replay=replay)
        meta = {**report.as_metadata(), "inbox_landed": len(inbox.landed), "replay": replay}
        yield dg.MaterializeResult(asset_key=bronze.asset_key, metadata=meta)
        yield dg.MaterializeResult(asset_key=quarantine.asset_key, metadata=meta)
        yield from _checks(tables, source, keys)
        _fail_on_rejected_files(report, inbox.unidentified)

    return _load


def _checks(tables: LakeTables, source: Source, keys: list[str]):
    bronze, quarantine = source.bronze_contract, source.quarantine_contract
    scope = in_predicate("period", keys)
    kept = tables.read(bronze.layer, bronze.table).filter(scope)
    rejected = tables.read(quarantine.layer, quarantine.table).filter(scope)
    yield from quarantine_rule_results(tables, bronze, kept, rejected)
    ledger = tables.read(LEDGER.layer, LEDGER.table).filter(f"source = '{source.name}'").filter(scope)
    yield reconciliation_result(
        bronze, reconcile_ledger(ledger, kept, rejected), tables, evaluation_month(kept)
    )
    # Great Expectations on the run's periods (per month), delivery timeliness from the ledger,
    # accessibility: recorded together, one WARN check per rule.
    evaluations = run_suite(bronze, kept, keys)
    evaluations += delivery_timeliness(tables, [bronze], bronze, keys)
    evaluations += accessibility(tables, bronze)
    yield from recorded_rule_results(tables, bronze, evaluations)


def _fail_on_rejected_files(report: LoadReport, unidentified: dict[str, str]) -> None:
    """Readable files are loaded first; then the run fails naming every file it could not read."""
    problems = [f"{batch}: {reason}" for batch, reason in report.failed.items()]
    problems += [
        f"{name}: file name not recognised; moved to {where}" for name, where in unidentified.items()
    ]
    if problems:
        raise dg.Failure(
            description=f"{len(problems)} file(s) of {report.source} could not be read:\n"
            + "\n".join(problems),
            metadata={"rejected": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems))},
        )


bronze_assets = {name: bronze_asset(source) for name, source in SOURCES.items()}
