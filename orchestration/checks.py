"""Asset checks generated from the quality rules declared in the contracts.

ERROR rules are blocking: when X = A/B falls below the threshold the check fails and assets
downstream of the table do not run in that run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import dagster as dg
from pyspark.sql import DataFrame

from catalog import Contract
from catalog.tables import LakeTables
from orchestration.run_id import current_run_id
from quality.coverage import gx_expectation_specs
from quality.expectations import check_name as expectation_check_name
from quality.expectations import current_month
from quality.measure import Reconciliation, RuleResult, measure_quarantine_rules, summarise
from quality.store import Evaluation, QualityUpdate, record
from quality.timeliness import ACCESSIBILITY, TIMELINESS, generic_rule

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
    by_rule = summarise(results)
    for rule in contract.quality_rules:
        batches = by_rule.get(rule.id, [])
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
    status = update.issue_status(issue, bool(failing))
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


def reconciliation_result(
    contract: Contract, result: Reconciliation, tables: LakeTables | None = None, month: dt.date | None = None
) -> dg.AssetCheckResult:
    """The per-batch row reconciliation as a blocking check; with ``tables`` also stored in
    quality.dq_result (完整性, A = batches that reconcile, B = batches)."""
    if tables is not None:
        evaluation = Evaluation(
            dataset=contract.name,
            rule_id=RECONCILIATION_CHECK,
            dimension="完整性",
            severity="ERROR",
            source="reconciliation",
            period=month or current_month(),
            checked=result.batches,
            passed_rows=max(result.batches - result.mismatched, 0),
            threshold=1.0,
            sample=tuple(str(m) for m in result.mismatches[:5]),
        )
        record(tables, current_run_id(), [evaluation])
    return dg.AssetCheckResult(
        asset_key=contract.asset_key,
        check_name=RECONCILIATION_CHECK,
        passed=result.passed,
        metadata={"batches": result.batches, "mismatches": dg.MetadataValue.json(result.mismatches)},
    )


# ---------------------------------------------------------------------------------------------
# Rules recorded beside the quarantine rules: the Great Expectations expectations derived from
# the contract's columns and the generic rules of catalog/quality_rules.yaml (timeliness,
# accessibility). They warn (never block) and are stored in quality.dq_result like every rule.


@dataclass(frozen=True)
class RecordedRule:
    check_name: str
    rule_id: str
    dimension: str
    threshold: float
    description_zh: str


def recorded_rules(contract: Contract) -> list[RecordedRule]:
    """The contract's expectation rules and the generic rules that apply to it, in that order."""
    rules = [
        RecordedRule(
            expectation_check_name(s["rule_id"]),
            s["rule_id"],
            s["dimension"],
            s["threshold"],
            s["description_zh"],
        )
        for s in gx_expectation_specs(contract)
    ]
    for rule_id in (TIMELINESS, ACCESSIBILITY):
        rule = generic_rule(contract, rule_id)
        if rule is not None:
            rules.append(RecordedRule(rule.id, rule.id, rule.dimension, rule.threshold, rule.description_zh))
    return rules


def recorded_rule_check_specs(contract: Contract) -> list[dg.AssetCheckSpec]:
    """One non-blocking check per expectation rule and generic rule of the contract."""
    return [
        dg.AssetCheckSpec(
            name=r.check_name,
            asset=contract.asset_key,
            description=f"[{r.dimension}] {r.description_zh} (X ≥ {r.threshold}, WARN, {r.rule_id})",
            blocking=False,
        )
        for r in recorded_rules(contract)
    ]


def recorded_rule_results(
    tables: LakeTables, contract: Contract, evaluations: list[Evaluation]
) -> Iterator[dg.AssetCheckResult]:
    """Store ``evaluations`` (quality.dq_result, scorecard, issues) and yield one WARN check per
    rule of :func:`recorded_rule_check_specs`: it fails when any month measured is below the
    threshold (a rule with nothing to measure in the run passes, saying so)."""
    update = record(tables, current_run_id(), evaluations)
    for rule in recorded_rules(contract):
        months = sorted(
            (e for e in evaluations if e.dataset == contract.name and e.rule_id == rule.rule_id),
            key=lambda e: e.period,
        )
        yield dg.AssetCheckResult(
            asset_key=contract.asset_key,
            check_name=rule.check_name,
            passed=all(e.passed for e in months),
            severity=dg.AssetCheckSeverity.WARN,
            metadata=evaluation_metadata(contract.name, rule.rule_id, months, update)
            | {"description_zh": rule.description_zh, "threshold": rule.threshold},
        )


def evaluation_metadata(
    dataset: str, rule_id: str, months: list[Evaluation], update: QualityUpdate
) -> dict[str, object]:
    """Dagster check metadata for one rule's evaluations (A and B summed over the months)."""
    checked = sum(e.checked for e in months)
    passed = sum(e.passed_rows for e in months)
    failing = [e for e in months if not e.passed]
    worst = min(months, key=lambda e: e.ratio, default=None)
    issue = f"{dataset}:{rule_id}"
    status = update.issue_status(issue, bool(failing))
    return {
        "dimension": months[0].dimension if months else "",
        "source": months[0].source if months else "none (nothing to measure in this run)",
        "A_passing": passed,
        "B_checked": checked,
        "X": round(1.0 if checked == 0 else passed / checked, 6),
        "months_measured": ", ".join(f"{e.period:%Y-%m}" for e in months) or "none",
        "months_below_threshold": ", ".join(f"{e.period:%Y-%m} (X={e.ratio:.4f})" for e in failing) or "none",
        "worst_month": f"{worst.period:%Y-%m} (X={worst.ratio:.4f})" if worst else "none",
        "failing_sample": "\n".join(failing[0].sample if failing else []) or "none",
        "dq_issue": f"{issue} ({status})",
    }


def score_observation(tables: LakeTables, contract: Contract) -> dg.AssetObservation:
    """The dataset's latest quality scores (quality.dq_scorecard) as asset metadata in the UI."""
    scores = tables.read("quality", "dq_scorecard").filter(f"dataset = '{contract.name}'")
    latest = scores.agg({"period": "max"}).collect()[0][0]
    rows = scores.filter(scores.period == latest).collect() if latest else []
    metadata: dict[str, object] = {"dq_period": f"{latest:%Y-%m}" if latest else "none"}
    metadata |= {f"dq_score[{r.dimension}]": r.score for r in sorted(rows, key=lambda r: r.dimension)}
    return dg.AssetObservation(asset_key=contract.asset_key, metadata=metadata)
