"""Asset checks generated from the quality rules declared in the contracts.

ERROR rules are blocking: when X = A/B falls below the threshold the check fails and assets
downstream of the table do not run in that run.
"""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
from pyspark.sql import DataFrame

from catalog import Contract
from ibrain.tables import LakeTables
from quality.measure import Reconciliation, RuleResult, measure_quarantine_rules, summarise
from quality.store import Evaluation, QualityUpdate, current_run_id, record

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
    tables: LakeTables, contract: Contract, kept: DataFrame, quarantined: DataFrame
) -> Iterator[dg.AssetCheckResult]:
    """Measure the contract's rules per delivery batch, store them (quality.dq_result, scorecard,
    issues) and yield one check per rule: it fails when any batch's X is below the threshold."""
    results = measure_quarantine_rules(contract, kept, quarantined)
    update = record(tables, current_run_id(), [evaluation(contract, r, "quarantine") for r in results])
    for rule in contract.quality_rules:
        batches = summarise(results).get(rule.id, [])
        yield dg.AssetCheckResult(
            asset_key=contract.asset_key,
            check_name=rule.id,
            passed=all(r.passed for r in batches),
            severity=dg.AssetCheckSeverity.ERROR if rule.blocking else dg.AssetCheckSeverity.WARN,
            metadata=_rule_metadata(contract, rule.id, batches, update),
        )


def evaluation(contract: Contract, result: RuleResult, source: str) -> Evaluation:
    return Evaluation(
        dataset=contract.name,
        rule_id=result.rule.id,
        dimension=result.rule.dimension,
        severity=result.rule.severity,
        source=source,
        period=result.period,
        checked=result.checked,
        passed_rows=result.passed_rows,
        threshold=result.rule.threshold,
        sample=tuple(result.sample),
        pooled_ratio=result.pooled_ratio,
        batch_id=result.batch_id,
    )


def _rule_metadata(
    contract: Contract, rule_id: str, batches: list[RuleResult], update: QualityUpdate
) -> dict:
    rule = contract.rule(rule_id)
    checked = sum(r.checked for r in batches)
    failed = sum(r.failed for r in batches)
    failing = [r for r in batches if not r.passed]
    worst = min(batches, key=lambda r: r.ratio, default=None)
    issue = f"{contract.name}:{rule_id}"
    status = (
        "opened" if issue in update.opened else "reopened" if issue in update.reopened
        else "closed" if issue in update.closed else "open" if failing else "none"
    )  # fmt: skip
    return {
        "dimension": rule.dimension,
        "severity": rule.severity,
        "description_zh": rule.description_zh,
        "A_rows_passing": checked - failed,
        "B_rows_checked": checked,
        "X": round(1.0 if checked == 0 else (checked - failed) / checked, 6),
        "threshold": rule.threshold,
        "batches_measured": len(batches),
        "batches_below_threshold": ", ".join(
            f"{r.batch_id} {r.period:%Y-%m} (X={r.judged_ratio:.4f})" for r in failing
        )
        or "none",
        "worst_batch": f"{worst.batch_id} {worst.period:%Y-%m} (X={worst.ratio:.4f}, B={worst.checked})"
        if worst
        else "none",
        "failing_sample": "\n".join(failing[0].sample if failing else []) or "none",
        "dq_issue": f"{issue} ({status})",
    }


def reconciliation_result(contract: Contract, result: Reconciliation) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=contract.asset_key,
        check_name=RECONCILIATION_CHECK,
        passed=result.passed,
        metadata={"batches": result.batches, "mismatches": dg.MetadataValue.json(result.mismatches)},
    )
