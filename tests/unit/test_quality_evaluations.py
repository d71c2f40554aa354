"""Evaluations built from what was measured (dbt test results, reconciliations, a check's own
count) and what a check shows of them, against hand-worked numbers (no engine)."""

import datetime as dt

import dagster as dg

from catalog import QualityRule, get_contract
from orchestration.assets.dbt import dbt_test_result
from quality.dbt_results import DbtTestResult, evaluation_of_test
from quality.evaluations import (
    NOTHING_MEASURED,
    check_evaluation,
    check_metadata,
    reconciliation_evaluation,
    recorded_rules,
)
from quality.expectations import current_month
from quality.measure import Reconciliation
from quality.store import Evaluation, QualityUpdate

MARCH, APRIL = dt.date(2024, 3, 1), dt.date(2024, 4, 1)
ACCEPTED_LINK = {
    "name": "accepted_values_dim_chain_link",
    "config": {"severity": "error", "meta": {"rule_id": "accepted_values:link", "dimension": "规范性"}},
    "test_metadata": {"name": "accepted_values"},
}


def result(
    passed: bool, status: str, failures: int | None, unique_id: str | None = "test.p.t1"
) -> DbtTestResult:
    return DbtTestResult("gold.dim_chain", "t1", unique_id, passed=passed, status=status, failures=failures)


def test_a_failed_dbt_test_counts_its_failing_rows_against_the_model() -> None:
    evaluation = evaluation_of_test(result(False, "fail", 3), ACCEPTED_LINK, checked=40, period=MARCH)
    assert (evaluation.passed_rows, evaluation.checked) == (37, 40)  # A = 40 − 3, B = 40
    assert round(evaluation.ratio, 6) == 0.925 and not evaluation.passed
    assert (evaluation.dataset, evaluation.rule_id, evaluation.dimension, evaluation.severity) == (
        "gold.dim_chain",
        "accepted_values:link",
        "规范性",
        "ERROR",
    )
    assert (evaluation.source, evaluation.period, evaluation.threshold) == ("dbt", MARCH, 1.0)
    assert evaluation.sample == ("dbt test accepted_values_dim_chain_link: 3 failing rows",)


def test_an_errored_dbt_test_passes_no_row_and_a_passed_one_all() -> None:
    errored = evaluation_of_test(result(False, "error", None), ACCEPTED_LINK, checked=40, period=MARCH)
    assert (errored.passed_rows, errored.checked) == (0, 40)
    assert errored.sample == ("dbt test accepted_values_dim_chain_link: status error",)
    more_than_all = evaluation_of_test(result(False, "fail", 55), ACCEPTED_LINK, checked=40, period=MARCH)
    assert more_than_all.passed_rows == 0
    passed = evaluation_of_test(result(True, "pass", 0), ACCEPTED_LINK, checked=40, period=MARCH)
    assert (passed.passed_rows, passed.checked, passed.sample) == (40, 40, ())


def test_a_dbt_test_without_meta_or_unknown_to_the_manifest() -> None:
    relationships = {
        "name": "relationships_x",
        "config": {"severity": "warn"},
        "test_metadata": {"name": "relationships"},
    }
    by_kind = evaluation_of_test(result(True, "pass", 0), relationships, checked=10, period=APRIL)
    assert (by_kind.rule_id, by_kind.dimension, by_kind.severity) == ("relationships_x", "一致性", "WARN")
    unknown = evaluation_of_test(result(False, "fail", 1, unique_id=None), None, checked=10, period=APRIL)
    assert (unknown.rule_id, unknown.dimension, unknown.severity, unknown.passed_rows) == (
        "t1",
        "准确性",
        "ERROR",
        9,
    )


def test_dagster_dbt_check_results_become_test_results() -> None:
    key = dg.AssetKey(["gold", "dim_chain"])
    check = dg.AssetCheckResult(
        asset_key=key,
        check_name="t1",
        passed=False,
        metadata={"unique_id": "test.p.t1", "status": "FAIL", "dagster_dbt/failed_row_count": 3},
    )
    assert dbt_test_result(check) == DbtTestResult("gold.dim_chain", "t1", "test.p.t1", False, "fail", 3)
    bare = dg.AssetCheckResult(asset_key=key, check_name="t2", passed=True)
    assert dbt_test_result(bare) == DbtTestResult("gold.dim_chain", "t2", None, True, "", None)


def test_reconciliation_and_a_checks_own_count() -> None:
    mismatches = [{"batch_id": f"b{i}"} for i in range(7)]
    evaluation = reconciliation_evaluation(
        "silver.product", Reconciliation(mismatches, batches=10, mismatched=7), APRIL
    )
    assert (evaluation.rule_id, evaluation.dimension, evaluation.severity) == (
        "reconciliation",
        "完整性",
        "ERROR",
    )
    assert (evaluation.passed_rows, evaluation.checked, evaluation.period) == (3, 10, APRIL)
    assert len(evaluation.sample) == 5 and evaluation.sample[0] == "{'batch_id': 'b0'}"

    # 40 enterprises, 43 current rows: 3 away from one current version each
    count = check_evaluation("silver.enterprise", "one_current_version", "一致性", checked=40, wrong=3)
    assert (count.passed_rows, count.checked, count.source, count.period) == (
        37,
        40,
        "asset_check",
        current_month(),
    )
    assert check_evaluation("silver.enterprise", "one_current_version", "一致性", 2, 5).passed_rows == 0


RULE = QualityRule(
    id="range", dimension="准确性", severity="ERROR", threshold=0.98, description_zh="取值在范围内"
)


def evaluation(period: dt.date, checked: int, passed: int, batch: str | None = None, **extra) -> Evaluation:
    source = "quarantine" if batch else "great_expectations"
    return Evaluation(
        "silver.product",
        "range",
        "准确性",
        "ERROR",
        source,
        period,
        checked,
        passed,
        0.98,
        batch_id=batch,
        **extra,
    )


def test_check_metadata_per_batch() -> None:
    batches = [
        evaluation(MARCH, 100, 95, "b1", sample=("f.csv line 3: 数量 '-1' is negative",)),
        evaluation(MARCH, 20, 20, "b2"),
        # too small to judge alone: 2 of 3 passes, but its month's X (0.99) is judged
        evaluation(APRIL, 3, 2, "b3", pooled_ratio=0.99),
    ]
    update = QualityUpdate(opened=["silver.product:range"])
    meta = check_metadata("silver.product", RULE, batches, update, by_batch=True)
    assert meta == {
        "dimension": "准确性",
        "severity": "ERROR",
        "description_zh": "取值在范围内",
        "source": "quarantine",
        "A_passing": 117,
        "B_checked": 123,
        "X": 0.95122,  # 117 / 123
        "threshold": 0.98,
        "batches_measured": 3,
        "batches_below_threshold": "b1 2024-03 (X=0.9500)",
        "worst_batch": "b3 2024-04 (X=0.6667, B=3)",
        "failing_sample": "f.csv line 3: 数量 '-1' is negative",
        "dq_issue": "silver.product:range (opened)",
    }


def test_check_metadata_per_month_and_with_nothing_measured() -> None:
    months = [evaluation(MARCH, 50, 50), evaluation(APRIL, 50, 45, sample=("x=-1",))]
    meta = check_metadata("silver.product", RULE, months, QualityUpdate(), by_batch=False)
    assert (meta["A_passing"], meta["B_checked"], meta["X"]) == (95, 100, 0.95)
    assert meta["months_measured"] == "2024-03, 2024-04"
    assert meta["months_below_threshold"] == "2024-04 (X=0.9000)"
    assert meta["worst_month"] == "2024-04 (X=0.9000)"
    assert (meta["failing_sample"], meta["dq_issue"]) == ("x=-1", "silver.product:range (open)")
    assert "batches_measured" not in meta

    empty = check_metadata(
        "silver.product", RULE, [], QualityUpdate(closed=["silver.product:range"]), by_batch=False
    )
    assert (empty["source"], empty["A_passing"], empty["B_checked"], empty["X"]) == (
        NOTHING_MEASURED,
        0,
        0,
        1.0,
    )
    assert (empty["months_measured"], empty["worst_month"], empty["failing_sample"]) == (
        "none",
        "none",
        "none",
    )
    assert empty["dq_issue"] == "silver.product:range (closed)"


def test_recorded_rules_add_the_generic_rules_only_where_they_apply() -> None:
    silver = [r.check_name for r in recorded_rules(get_contract("silver", "enterprise"))]
    assert silver[-2:] == ["timeliness", "accessibility"]
    assert all("__" in name for name in silver[:-2]) and silver[:-2]  # expectation checks: not_null__uscc …
    bronze = [r.check_name for r in recorded_rules(get_contract("bronze", "gov_registry"))]
    assert "timeliness" not in bronze and "accessibility" not in bronze  # generic rules: silver and up
