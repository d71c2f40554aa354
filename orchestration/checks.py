"""Asset checks generated from the quality rules declared in the contracts.

ERROR rules are blocking: when X = A/B falls below the threshold the check fails and assets
downstream of the table do not run in that run.
"""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
from pyspark.sql import DataFrame

from catalog import Contract
from quality.measure import Reconciliation, measure_quarantine_rules

RECONCILIATION_CHECK = "reconciliation"


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


def quarantine_rule_results(
    contract: Contract, kept: DataFrame, quarantined: DataFrame
) -> Iterator[dg.AssetCheckResult]:
    for result in measure_quarantine_rules(contract, kept, quarantined):
        yield dg.AssetCheckResult(
            asset_key=contract.asset_key,
            check_name=result.rule.id,
            passed=result.passed,
            severity=dg.AssetCheckSeverity.ERROR if result.rule.blocking else dg.AssetCheckSeverity.WARN,
            metadata=result.as_metadata(),
        )


def reconciliation_result(contract: Contract, result: Reconciliation) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=contract.asset_key,
        check_name=RECONCILIATION_CHECK,
        passed=result.passed,
        metadata={"batches": result.batches, "mismatches": dg.MetadataValue.json(result.mismatches)},
    )
