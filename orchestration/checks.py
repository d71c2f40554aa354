"""Asset checks of the quality rules: their specs, and each run's outcomes as check results.

What is measured, recorded and shown is decided in quality/evaluations.py; here it becomes
Dagster's. ERROR rules are blocking: when X = A/B falls below the threshold the check fails and
assets downstream of the table do not run in that run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import dagster as dg
from pyspark.sql import DataFrame

from catalog import Contract
from catalog.tables import LakeTables
from orchestration.run_id import current_run_id
from quality.evaluations import (
    RECONCILIATION,
    CheckOutcome,
    quarantine_outcomes,
    reconciliation_evaluation,
    recorded_outcomes,
    recorded_rules,
)
from quality.measure import Reconciliation
from quality.store import Evaluation, latest_scores, record

RECONCILIATION_CHECK = RECONCILIATION


def quarantine_rule_check_specs(contract: Contract, reconciled: bool = False) -> list[dg.AssetCheckSpec]:
    specs = [
        dg.AssetCheckSpec(
            name=rule.id,
            asset=contract.asset_key,
            description=f"[{rule.dimension}] {rule.description_zh} (X ≥ {rule.threshold}, {rule.severity})",
            blocking=rule.blocking,
        )
        for rule in contract.quality_rules
    ]
    if reconciled:
        specs.append(
            dg.AssetCheckSpec(
                name=RECONCILIATION_CHECK,
                asset=contract.asset_key,
                blocking=True,
                description="[完整性] 每批次：上游行数 = 本层行数 + 隔离行数",
            )
        )
    return specs


def recorded_rule_check_specs(contract: Contract) -> list[dg.AssetCheckSpec]:
    """One non-blocking check per expectation rule and generic rule of the contract."""
    return [
        dg.AssetCheckSpec(
            name=r.check_name,
            asset=contract.asset_key,
            description=f"[{r.rule.dimension}] {r.rule.description_zh} "
            f"(X ≥ {r.rule.threshold}, WARN, {r.rule.id})",
            blocking=False,
        )
        for r in recorded_rules(contract)
    ]


def check_result(contract: Contract, outcome: CheckOutcome) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=contract.asset_key,
        check_name=outcome.check_name,
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity.ERROR if outcome.blocking else dg.AssetCheckSeverity.WARN,
        metadata=outcome.metadata,
    )


def quarantine_rule_results(
    tables: LakeTables, contract: Contract, kept: DataFrame, quarantined: DataFrame
) -> Iterator[dg.AssetCheckResult]:
    """One check per quarantine rule, measured per delivery batch and recorded."""
    for outcome in quarantine_outcomes(tables, current_run_id(), contract, kept, quarantined):
        yield check_result(contract, outcome)


def reconciliation_result(
    tables: LakeTables, contract: Contract, result: Reconciliation, month: dt.date
) -> dg.AssetCheckResult:
    """The per-batch row reconciliation as a blocking check, also recorded in quality.dq_result."""
    record(tables, current_run_id(), [reconciliation_evaluation(contract.name, result, month)])
    return dg.AssetCheckResult(
        asset_key=contract.asset_key,
        check_name=RECONCILIATION_CHECK,
        passed=result.passed,
        metadata={"batches": result.batches, "mismatches": dg.MetadataValue.json(result.mismatches)},
    )


def recorded_rule_results(
    tables: LakeTables, contract: Contract, evaluations: list[Evaluation]
) -> Iterator[dg.AssetCheckResult]:
    """Record ``evaluations``; one WARN check per rule of :func:`recorded_rule_check_specs`."""
    for outcome in recorded_outcomes(tables, current_run_id(), contract, evaluations):
        yield check_result(contract, outcome)


def score_observation(tables: LakeTables, contract: Contract) -> dg.AssetObservation:
    """The dataset's latest quality scores (quality.dq_scorecard) as asset metadata in the UI."""
    period, scores = latest_scores(tables, contract.name)
    metadata: dict[str, object] = {"dq_period": f"{period:%Y-%m}" if period else "none"}
    metadata |= {f"dq_score[{dimension}]": scores[dimension] for dimension in sorted(scores)}
    return dg.AssetObservation(asset_key=contract.asset_key, metadata=metadata)
