"""quality.measure on the real engine, against batches counted by hand: X = A / B per rule and
delivery batch, and a batch under 50 rows that falls below its threshold judged with its month (or
the whole table when the month is small too), while a clean batch always passes."""

from __future__ import annotations

import datetime as dt

import pytest

from catalog import get_contract
from catalog.tables import LakeTables
from quality.measure import MIN_ROWS, measure_quarantine_rules

pytestmark = pytest.mark.integration

STATS = get_contract("silver", "enterprise_month_stats")
MARCH, APRIL, MAY = dt.date(2024, 3, 1), dt.date(2024, 4, 1), dt.date(2024, 5, 1)
RULE = "uscc_check_digit"  # threshold 0.9; rows quarantined as unresolved_enterprise count against it
# batch -> (month, clean kept rows, kept rows flagged with the rule, rows quarantined: (rule, count))
BATCHES = {
    # March: 100 + 10 + 5 = 115 rows, 5 + 2 + 0 = 7 failing → the month's X = 108/115 = 0.9391
    "b_big": (MARCH, 95, 3, [("unresolved_enterprise", 2)]),  # 95/100 = 0.95: judged alone (≥ 50)
    "b_small_bad": (MARCH, 8, 1, [("unresolved_enterprise", 1)]),  # 8/10 = 0.8 < 0.9: the month passes it
    "b_small_clean": (MARCH, 5, 0, []),
    # April: 20 + 10 = 30 rows, a small month too → judged with the whole table
    "b_apr_bad": (APRIL, 16, 4, []),  # 16/20 = 0.8 < 0.9: the table's X passes it (see below)
    "b_apr_clean": (APRIL, 10, 0, []),
    # May: 50 + 10 + 5 = 65 rows, 6 + 2 + 0 = 8 failing → the month's X = 57/65 = 0.8769 < 0.9
    "b_may_big": (MAY, 44, 6, []),  # exactly 50 rows: judged alone, 44/50 = 0.88 → fails
    "b_may_small": (MAY, 8, 0, [(RULE, 2)]),  # 8/10 = 0.8, and its month fails too → fails
    "b_may_clean": (MAY, 5, 0, []),  # X = 1: passes although its month does not
}
# The table: 115 + 30 + 65 = 210 rows, 7 + 4 + 8 = 19 failing → X = 191/210 = 0.9095 ≥ 0.9
MARCH_X, TABLE_X, MAY_X = 108 / 115, 191 / 210, 57 / 65


def frames(tables: LakeTables):
    kept, quarantined = [], []
    for batch, (month, clean, flagged, rejected) in BATCHES.items():
        source = f"{batch}.csv"
        row = 0
        for _ in range(clean):
            row += 1
            kept.append((batch, month, None, row, source))
        for i in range(flagged):
            row += 1
            # one row carries two flags: each counts for its own rule
            flags = f"region_code_successor;{RULE}" if (batch, i) == ("b_big", 0) else RULE
            kept.append((batch, month, flags, row, source))
        for rule_id, n in rejected:
            for _ in range(n):
                row += 1
                quarantined.append((batch, month, rule_id, row, f"{source} line {row}: {rule_id}"))
    spark = tables.spark
    return (
        spark.createDataFrame(kept, "_batch_id string, period date, dq_flags string, _row_number int, "
                                    "_source_file string"),
        spark.createDataFrame(quarantined, "_batch_id string, period date, rule_id string, _row_number int, "
                                           "reason string"),
    )  # fmt: skip


def test_small_batches_below_threshold_are_judged_with_their_month_or_the_table(tmp_lake: LakeTables) -> None:
    assert MIN_ROWS == 50
    results = measure_quarantine_rules(STATS, *frames(tmp_lake))

    by_rule: dict[str, list] = {}
    for r in results:
        by_rule.setdefault(r.rule.id, []).append(r)
    assert list(by_rule) == [rule.id for rule in STATS.quality_rules]  # every rule, every batch
    assert all(len(rs) == len(BATCHES) for rs in by_rule.values())

    got = {r.batch_id: (r.period, r.checked, r.failed, r.pooled_ratio, r.passed) for r in by_rule[RULE]}
    # ordered by month, then batch id
    assert [r.batch_id for r in by_rule[RULE]] == [
        "b_big", "b_small_bad", "b_small_clean", "b_apr_bad", "b_apr_clean",
        "b_may_big", "b_may_clean", "b_may_small",
    ]  # fmt: skip
    approx = pytest.approx
    assert got == {
        "b_big": (MARCH, 100, 5, None, True),
        "b_small_bad": (MARCH, 10, 2, approx(MARCH_X), True),
        "b_small_clean": (MARCH, 5, 0, approx(MARCH_X), True),
        "b_apr_bad": (APRIL, 20, 4, approx(TABLE_X), True),
        "b_apr_clean": (APRIL, 10, 0, approx(TABLE_X), True),
        "b_may_big": (MAY, 50, 6, None, False),
        "b_may_clean": (MAY, 5, 0, approx(MAY_X), True),
        "b_may_small": (MAY, 10, 2, approx(MAY_X), False),
    }
    small_bad = next(r for r in by_rule[RULE] if r.batch_id == "b_small_bad")
    assert (small_bad.passed_rows, small_bad.ratio) == (8, 0.8)
    assert small_bad.judged_ratio == approx(MARCH_X)  # judged with March, not by its own 0.8
    # failing rows, quarantined and flagged, in row order: rows 1–8 are clean, 9 flagged, 10 rejected
    assert small_bad.sample == [
        "b_small_bad.csv line 9: kept, flagged uscc_check_digit",
        "b_small_bad.csv line 10: unresolved_enterprise",
    ]

    # The other rules count only their own rows: unresolved_enterprise (threshold 0.99) failed 2
    # of b_big's 100 rows → 0.98, judged alone; the double flag counts once for its other rule.
    unresolved = {r.batch_id: (r.checked, r.failed, r.passed) for r in by_rule["unresolved_enterprise"]}
    assert unresolved["b_big"] == (100, 2, False)
    successor = {r.batch_id: (r.checked, r.failed, r.passed) for r in by_rule["region_code_successor"]}
    assert successor["b_big"] == (100, 1, True)  # 99/100 = 0.99 ≥ 0.99
    assert sum(r.failed for r in by_rule["duplicate"]) == 0


def test_a_quarantine_row_for_a_rule_the_contract_lacks_is_an_error(tmp_lake: LakeTables) -> None:
    spark = tmp_lake.spark
    kept = spark.createDataFrame([], "_batch_id string, period date, dq_flags string, _row_number int, "
                                     "_source_file string")  # fmt: skip
    quarantined = spark.createDataFrame(
        [("b1", MARCH, "no_such_rule", 1, "x")],
        "_batch_id string, period date, rule_id string, _row_number int, reason string",
    )
    with pytest.raises(ValueError, match="no_such_rule"):
        measure_quarantine_rules(STATS, kept, quarantined)
