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
from ingest.ledger import PeriodRange
from ingest.sources import Source, sources
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
from quality.evaluations import recorded_evaluations
from quality.measure import reconcile_ledger
from quality.timeliness import evaluation_month

REPLAY_TAG = "ibrain/replay"  # set by `ibrain backfill`; UI backfills carry dagster/backfill
ACCEPT_SHRINK_TAG = "ibrain/accept-shrink"  # set by `ibrain ingest|run --accept-shrink`


def partition_range(source: Source) -> PeriodRange:
    """The periods a source's deliveries may have: its partitions, first to last."""
    partitions = BY_GRAIN[source.spec.grain]
    return PeriodRange(partitions.get_first_partition_key(), partitions.get_last_partition_key())


def audit_specs() -> list[dg.AssetSpec]:
    """The ingest ledger and the API pull log: written as deliveries land, shown for lineage."""
    return [external_spec(get_contract("audit", t)) for t in ("ingest_ledger", "api_pull_log")]


def bronze_asset(source: Source) -> dg.AssetsDefinition:
    bronze, quarantine = source.bronze_contract, source.quarantine_contract
    partitions = BY_GRAIN[source.spec.grain]
    upstream = [["audit", "ingest_ledger"], *([["audit", "api_pull_log"]] if source.spec.api else [])]

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
        periods = partition_range(source)
        inbox = collect(tables, source.name, periods)
        if inbox.unidentified:
            context.log.error(f"unidentified files moved to _rejected: {sorted(inbox.unidentified)}")
        for notice in inbox.notices:
            context.log.warning(notice)
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
        accept_shrink = context.run.tags.get(ACCEPT_SHRINK_TAG) == "true"
        report = load(
            tables, source.name, keys, replay=replay, partitions=periods, accept_shrink=accept_shrink
        )
        for batch, reason in report.held.items():
            context.log.warning(f"correction {batch} held: {reason}")
        meta = {
            **report.as_metadata(),
            "inbox_landed": len(inbox.landed),
            "inbox_rejected": len(inbox.rejected),
            "inbox_left": len(inbox.notices) + len(inbox.changing),
            "replay": replay,
        }
        yield dg.MaterializeResult(asset_key=bronze.asset_key, metadata=meta)
        yield dg.MaterializeResult(asset_key=quarantine.asset_key, metadata=meta)
        yield from _checks(tables, source, keys)
        _fail_on_rejected_files(report, inbox.unidentified, inbox.rejected)

    return _load


def _checks(tables: LakeTables, source: Source, keys: list[str]):
    """The run's periods: quarantine rules per batch, the ledger reconciliation, and the recorded
    rules (expectations per month, delivery timeliness, accessibility)."""
    bronze, quarantine = source.bronze_contract, source.quarantine_contract
    scope = in_predicate("period", keys)
    kept = tables.read(bronze.layer, bronze.table).filter(scope)
    rejected = tables.read(quarantine.layer, quarantine.table).filter(scope)
    yield from quarantine_rule_results(tables, bronze, kept, rejected)
    ledger = tables.read("audit", "ingest_ledger").filter(f"source = '{source.name}'").filter(scope)
    yield reconciliation_result(
        tables, bronze, reconcile_ledger(ledger, kept, rejected), evaluation_month(kept)
    )
    evaluations = recorded_evaluations(tables, bronze, kept, keys, source=bronze, rebuilt=True)
    yield from recorded_rule_results(tables, bronze, evaluations)


def _fail_on_rejected_files(
    report: LoadReport, unidentified: dict[str, str], rejected: dict[str, str]
) -> None:
    """Readable files are loaded first; then the run fails naming every file it rejected (while
    collecting the inbox, landing or loading)."""
    problems = [f"{batch}: {reason}" for batch, reason in report.failed.items()]
    problems += [reason for reason in rejected.values() if reason not in problems]
    problems += [
        f"{name}: file name not recognised; moved to {where}" for name, where in unidentified.items()
    ]
    if problems:
        raise dg.Failure(
            description=f"{len(problems)} file(s) of {report.source} could not be read:\n"
            + "\n".join(problems),
            metadata={"rejected": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems))},
        )


def bronze_assets() -> list[dg.AssetsDefinition]:
    return [bronze_asset(source) for source in sources().values()]
