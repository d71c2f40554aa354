"""Evaluations built from what the pipeline measured, recorded, and turned into check outcomes.

Every rule measured on a table ends as :class:`quality.store.Evaluation` rows (X = A / B per
batch or month) in quality.dq_result. A check shows one rule: it passes when every evaluation of
the rule in the run does, and :func:`check_metadata` says what people read in the Dagster UI. The
adapters (orchestration/) turn each :class:`CheckOutcome` into an asset check result.

Two kinds of rule are checked per table: the quarantine rules of its contract (measured per
delivery batch, blocking when ERROR) and the recorded rules — the Great Expectations expectations
derived from its columns and the generic rules of catalog/quality_rules.yaml (timeliness,
accessibility) — measured per month, which warn and never block.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame

from catalog import Contract, QualityRule
from catalog.tables import LakeTables
from quality.coverage import gx_expectation_specs
from quality.expectations import check_name as expectation_check_name
from quality.expectations import current_month, run_suite
from quality.measure import Reconciliation, RuleResult, measure_quarantine_rules
from quality.store import Evaluation, QualityUpdate, record
from quality.timeliness import ACCESSIBILITY, TIMELINESS, accessibility, generic_rule, timeliness_from

RECONCILIATION = "reconciliation"
NOTHING_MEASURED = "none (nothing to measure in this run)"


@dataclass(frozen=True)
class CheckOutcome:
    """One rule's check in a run: passed or not, blocking (ERROR) or a warning, and its metadata."""

    check_name: str
    passed: bool
    blocking: bool
    metadata: dict[str, Any]


# --------------------------------------------------------------------------- building evaluations


def rule_evaluation(dataset: str, result: RuleResult, source: str) -> Evaluation:
    """A quarantine rule measured on one delivery batch."""
    return Evaluation(
        dataset=dataset,
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


def reconciliation_evaluation(dataset: str, result: Reconciliation, month: dt.date) -> Evaluation:
    """The per-batch row reconciliation (完整性): A = batches that reconcile, B = batches."""
    return Evaluation(
        dataset=dataset,
        rule_id=RECONCILIATION,
        dimension="完整性",
        severity="ERROR",
        source="reconciliation",
        period=month,
        checked=result.batches,
        passed_rows=max(result.batches - result.mismatched, 0),
        threshold=1.0,
        sample=tuple(str(m) for m in result.mismatches[:5]),
    )


def check_evaluation(dataset: str, rule_id: str, dimension: str, checked: int, wrong: int) -> Evaluation:
    """A blocking check's own count — ``checked`` units, ``wrong`` of them failing it — for the
    current month (A = B − wrong, at least 0)."""
    return Evaluation(
        dataset=dataset,
        rule_id=rule_id,
        dimension=dimension,
        severity="ERROR",
        source="asset_check",
        period=current_month(),
        checked=checked,
        passed_rows=max(checked - wrong, 0),
        threshold=1.0,
    )


def recorded_evaluations(
    tables: LakeTables,
    contract: Contract,
    rows: DataFrame,
    periods: Sequence[dt.date | str] | None,
    source: Contract,
    rebuilt: bool,
) -> list[Evaluation]:
    """The recorded rules of a table measured in a run: its expectations on ``rows`` per month of
    ``periods`` (the whole frame when None), the timeliness of what it is built from (``source``:
    see :func:`quality.timeliness.timeliness_from`) and its accessibility."""
    evaluations = run_suite(contract, rows, periods)
    evaluations += timeliness_from(tables, contract, source, periods or [], rebuilt=rebuilt)
    evaluations += accessibility(tables, contract)
    return evaluations


# --------------------------------------------------------------------------- rules and outcomes


@dataclass(frozen=True)
class RecordedRule:
    """A rule recorded beside the quarantine rules, with the name of its (warning) check."""

    check_name: str
    rule: QualityRule


def recorded_rules(contract: Contract) -> list[RecordedRule]:
    """The contract's expectation rules and the generic rules that apply to it, in that order."""
    rules = [
        RecordedRule(
            expectation_check_name(s["rule_id"]),
            QualityRule(
                id=s["rule_id"],
                dimension=s["dimension"],
                severity=s["severity"],
                threshold=s["threshold"],
                description_zh=s["description_zh"],
            ),
        )
        for s in gx_expectation_specs(contract)
    ]
    for rule_id in (TIMELINESS, ACCESSIBILITY):
        rule = generic_rule(contract, rule_id)
        if rule is not None:
            rules.append(RecordedRule(rule.id, rule))
    return rules


def quarantine_outcomes(
    tables: LakeTables, run_id: str, contract: Contract, kept: DataFrame, quarantined: DataFrame
) -> list[CheckOutcome]:
    """Measure the contract's quarantine rules per delivery batch, record them (quality.dq_result,
    scorecard, issues) and give one outcome per rule: it fails when any batch is below the
    threshold, and blocks when the rule is an ERROR."""
    results = measure_quarantine_rules(contract, kept, quarantined)
    evaluations = [rule_evaluation(contract.name, r, "quarantine") for r in results]
    update = record(tables, run_id, evaluations)
    by_rule: dict[str, list[Evaluation]] = defaultdict(list)
    for evaluation in evaluations:
        by_rule[evaluation.rule_id].append(evaluation)
    return [
        CheckOutcome(
            check_name=rule.id,
            passed=all(e.passed for e in by_rule[rule.id]),
            blocking=rule.blocking,
            metadata=check_metadata(contract.name, rule, by_rule[rule.id], update, by_batch=True),
        )
        for rule in contract.quality_rules
    ]


def recorded_outcomes(
    tables: LakeTables, run_id: str, contract: Contract, evaluations: list[Evaluation]
) -> list[CheckOutcome]:
    """Record ``evaluations`` and give one warning outcome per recorded rule of the contract: it
    fails when any month measured is below the threshold (a rule with nothing to measure in the
    run passes, saying so)."""
    update = record(tables, run_id, evaluations)
    outcomes = []
    for recorded in recorded_rules(contract):
        months = sorted(
            (e for e in evaluations if e.dataset == contract.name and e.rule_id == recorded.rule.id),
            key=lambda e: e.period,
        )
        outcomes.append(
            CheckOutcome(
                check_name=recorded.check_name,
                passed=all(e.passed for e in months),
                blocking=False,
                metadata=check_metadata(contract.name, recorded.rule, months, update, by_batch=False),
            )
        )
    return outcomes


def check_metadata(
    dataset: str, rule: QualityRule, evaluations: Iterable[Evaluation], update: QualityUpdate, by_batch: bool
) -> dict[str, Any]:
    """What a check shows of one rule's evaluations in a run: the rule, A and B summed and X, the
    units measured (delivery batches when ``by_batch``, else months), those below the threshold
    (X as judged), the worst one, a failing sample and what the run did to the rule's issue."""
    evaluations = list(evaluations)
    checked = sum(e.checked for e in evaluations)
    passed = sum(e.passed_rows for e in evaluations)
    failing = [e for e in evaluations if not e.passed]
    worst = min(evaluations, key=lambda e: e.ratio, default=None)
    issue = f"{dataset}:{rule.id}"
    metadata: dict[str, Any] = {
        "dimension": rule.dimension,
        "severity": rule.severity,
        "description_zh": rule.description_zh,
        "source": evaluations[0].source if evaluations else NOTHING_MEASURED,
        "A_passing": passed,
        "B_checked": checked,
        "X": round(1.0 if checked == 0 else passed / checked, 6),
        "threshold": rule.threshold,
    }
    if by_batch:
        metadata |= {
            "batches_measured": len(evaluations),
            "batches_below_threshold": ", ".join(
                f"{e.batch_id} {e.period:%Y-%m} (X={e.judged_ratio:.4f})" for e in failing
            )
            or "none",
            "worst_batch": f"{worst.batch_id} {worst.period:%Y-%m} (X={worst.ratio:.4f}, B={worst.checked})"
            if worst
            else "none",
        }
    else:
        metadata |= {
            "months_measured": ", ".join(f"{e.period:%Y-%m}" for e in evaluations) or "none",
            "months_below_threshold": ", ".join(f"{e.period:%Y-%m} (X={e.judged_ratio:.4f})" for e in failing)
            or "none",
            "worst_month": f"{worst.period:%Y-%m} (X={worst.ratio:.4f})" if worst else "none",
        }
    metadata |= {
        "failing_sample": "\n".join(failing[0].sample if failing else []) or "none",
        "dq_issue": f"{issue} ({update.issue_status(issue, bool(failing))})",
    }
    return metadata
