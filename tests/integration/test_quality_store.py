"""quality.store on the real engine, against numbers worked out by hand: the scorecard (a rule's X
is ΣA / ΣB over its batches, a dimension scores the mean of its rules' X, the overall score is the
weighted mean over the dimensions present), the dq_issue lifecycle (open → close → reopen), and
that a re-measurement with nothing new writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from catalog.tables import LakeTables
from ibrain import delta
from quality.store import Evaluation, record

pytestmark = pytest.mark.integration

STATS = "silver.enterprise_month_stats"
FACT = "gold.fct_enterprise_month"
MARCH, APRIL = dt.date(2024, 3, 1), dt.date(2024, 4, 1)


def evaluation(
    dataset: str,
    rule_id: str,
    dimension: str,
    checked: int,
    passed: int,
    period: dt.date = MARCH,
    *,
    threshold: float = 0.99,
    severity: str = "WARN",
    batch_id: str | None = None,
    sample: tuple[str, ...] = (),
) -> Evaluation:
    return Evaluation(
        dataset, rule_id, dimension, severity, "quarantine", period, checked, passed, threshold, sample,
        batch_id=batch_id,
    )  # fmt: skip


def scorecard(tables: LakeTables) -> dict[tuple[str, dt.date, str], tuple[float, int, int]]:
    """(dataset, period, dimension) -> (score, rules, rules passed)."""
    return {
        (r.dataset, r.period, r.dimension): (r.score, r.rules, r.rules_passed)
        for r in tables.read("quality", "dq_scorecard").collect()
    }


def test_scores_are_means_of_rule_ratios_and_the_overall_is_the_weighted_mean(tmp_lake: LakeTables) -> None:
    first = [
        # 完整性: two rules, X = 3/4 = 0.75 and 10/10 = 1 → mean 0.875 → 87.5 (one of two rules passed)
        evaluation(STATS, "required_fields", "完整性", 4, 3),
        evaluation(STATS, "not_null:uscc", "完整性", 10, 10),
        # 准确性: one rule over two batches, X = (38 + 60) / (40 + 60) = 0.98 → 98.0
        # (the mean of the batches' X would be (0.95 + 1) / 2 = 0.975: batches are pooled, not averaged)
        evaluation(STATS, "uscc_check_digit", "准确性", 40, 38, threshold=0.9, batch_id="b1"),
        evaluation(STATS, "uscc_check_digit", "准确性", 60, 60, threshold=0.9, batch_id="b2"),
        # 一致性: nothing checked counts as X = 1 → 100.0
        evaluation(STATS, "profit_exceeds_revenue", "一致性", 0, 0),
        # 规范性: 3/8 = 0.375 → 37.5
        evaluation(STATS, "region_code", "规范性", 8, 3),
        # 时效性: 2/3 = 0.6667 → 66.67
        evaluation(STATS, "timeliness", "时效性", 3, 2),
        # 可访问性: 20/20 → 100.0
        evaluation(STATS, "accessibility", "可访问性", 20, 20),
        # April has one rule only: 完整性 2/2 → 100.0, and so overall 100.0
        evaluation(STATS, "required_fields", "完整性", 2, 2, APRIL),
        # The fact has two of six dimensions: 准确性 90/100 → 90.0, 完整性 50/50 → 100.0
        evaluation(FACT, "range", "准确性", 100, 90),
        evaluation(FACT, "not_null:enterprise_id", "完整性", 50, 50),
    ]
    update = record(tmp_lake, "run-1", first)

    # overall (March) = 0.20×87.5 + 0.25×98 + 0.20×100 + 0.15×37.5 + 0.10×66.67 + 0.10×100
    #                 = 17.5 + 24.5 + 20 + 5.625 + 6.667 + 10 = 84.292 → 84.29
    # overall (fact)  = (0.25×90 + 0.20×100) / (0.25 + 0.20) = 42.5 / 0.45 = 94.444… → 94.44
    assert scorecard(tmp_lake) == {
        (STATS, MARCH, "完整性"): (87.5, 2, 1),
        (STATS, MARCH, "准确性"): (98.0, 1, 1),
        (STATS, MARCH, "一致性"): (100.0, 1, 1),
        (STATS, MARCH, "规范性"): (37.5, 1, 0),
        (STATS, MARCH, "时效性"): (66.67, 1, 0),
        (STATS, MARCH, "可访问性"): (100.0, 1, 1),
        # 7 rules, of which 4 pass: not_null:uscc, uscc_check_digit (0.95 and 1 ≥ 0.9),
        # profit_exceeds_revenue and accessibility
        (STATS, MARCH, "overall"): (84.29, 7, 4),
        (STATS, APRIL, "完整性"): (100.0, 1, 1),
        (STATS, APRIL, "overall"): (100.0, 1, 1),
        (FACT, MARCH, "准确性"): (90.0, 1, 0),
        (FACT, MARCH, "完整性"): (100.0, 1, 1),
        (FACT, MARCH, "overall"): (94.44, 2, 1),
    }
    assert update.scores == {STATS: 100.0, FACT: 94.44}  # the latest month of each dataset

    # A later run measures one rule again (now 4/4): only that rule's X changes, the others keep
    # their latest evaluation, and the fact (not in this run) is left as it was.
    # 完整性 = (1 + 1) / 2 → 100.0; overall = 20 + 24.5 + 20 + 5.625 + 6.667 + 10 = 86.792 → 86.79
    record(tmp_lake, "run-2", [evaluation(STATS, "required_fields", "完整性", 4, 4)])
    card = scorecard(tmp_lake)
    assert card[(STATS, MARCH, "完整性")] == (100.0, 2, 2)
    assert card[(STATS, MARCH, "overall")] == (86.79, 7, 5)
    assert card[(STATS, MARCH, "准确性")] == (98.0, 1, 1)
    assert card[(FACT, MARCH, "overall")] == (94.44, 2, 1)
    assert len(card) == 12
    assert tmp_lake.read("quality", "dq_result").count() == len(first) + 1


def issue(tables: LakeTables, issue_id: str):
    rows = tables.read("quality", "dq_issue").filter(f"issue_id = '{issue_id}'").collect()
    assert len(rows) <= 1, rows  # one row per issue, updated in place
    return rows[0] if rows else None


def evaluated_at(tables: LakeTables, run_id: str) -> dt.datetime:
    [when] = {
        r.evaluated_at for r in tables.read("quality", "dq_result").filter(f"run_id = '{run_id}'").collect()
    }
    return when


def test_an_issue_opens_closes_when_corrected_and_reopens(tmp_lake: LakeTables) -> None:
    issue_id = f"{STATS}:uscc_check_digit"

    def uscc(checked: int, passed: int, period: dt.date, batch_id: str, sample=()) -> Evaluation:
        return evaluation(STATS, "uscc_check_digit", "准确性", checked, passed, period,
                          threshold=0.9, severity="ERROR", batch_id=batch_id, sample=sample)  # fmt: skip

    # 1. March batch b1: 30 of 40 pass, X = 0.75 < 0.9 → the issue opens, 10 rows affected
    opened = record(
        tmp_lake, "run-1", [uscc(40, 30, MARCH, "b1", ("f.csv line 3: bad", "f.csv line 7: bad"))]
    )
    assert (opened.opened, opened.closed, opened.reopened) == ([issue_id], [], [])
    first = issue(tmp_lake, issue_id)
    assert (first.status, first.severity, first.dimension, first.owner) == (
        "open", "ERROR", "准确性", "team:data-engineering"
    )  # fmt: skip
    assert (first.failing_periods, first.failing_batches, first.affected_rows) == ("2024-03", "b1", 10)
    assert first.sample_rows == "f.csv line 3: bad\nf.csv line 7: bad"
    assert (first.reopened_count, first.closed_at, first.last_run_id) == (0, None, "run-1")
    assert first.first_seen == first.last_seen == evaluated_at(tmp_lake, "run-1")

    # 2. The corrected March delivery b2 passes 40 of 40; b1 is no longer measured → closed
    closed = record(tmp_lake, "run-2", [uscc(40, 40, MARCH, "b2")])
    assert (closed.opened, closed.closed, closed.reopened) == ([], [issue_id], [])
    second = issue(tmp_lake, issue_id)
    assert (second.status, second.last_run_id, second.first_seen) == ("closed", "run-2", first.first_seen)
    assert second.closed_at is not None and second.reopened_count == 0

    # the same passing evaluation again: nothing to open or close
    again = record(tmp_lake, "run-3", [uscc(40, 40, MARCH, "b2")])
    assert (again.opened, again.closed, again.reopened) == ([], [], [])
    assert issue(tmp_lake, issue_id).status == "closed"

    # 3. April batch b3: 40 of 50 pass, X = 0.8 < 0.9 → reopened; March (latest: b2) passes, so
    # only April is failing, with 50 − 40 = 10 rows affected
    reopened = record(tmp_lake, "run-4", [uscc(50, 40, APRIL, "b3")])
    assert (reopened.opened, reopened.closed, reopened.reopened) == ([], [], [issue_id])
    third = issue(tmp_lake, issue_id)
    assert (third.status, third.reopened_count, third.closed_at) == ("open", 1, None)
    assert (third.failing_periods, third.failing_batches, third.affected_rows) == ("2024-04", "b3", 10)
    assert third.first_seen == first.first_seen and third.last_seen == evaluated_at(tmp_lake, "run-4")
    assert third.sample_rows is None and third.last_run_id == "run-4"
    assert reopened.issue_status(issue_id, failing=True) == "reopened"


def quality_versions(tables: LakeTables) -> dict[str, int]:
    return {
        name: delta.version(tables.lake, tables.lake.ref("quality", name))
        for name in ("dq_result", "dq_scorecard", "dq_issue")
    }


def test_a_re_measurement_that_says_nothing_new_is_not_recorded(tmp_lake: LakeTables) -> None:
    """Only (dataset, rule, month) cells whose results differ from the latest recorded are stored;
    a cell is stored whole (all its batches), and its failing sample is not compared."""
    first = [
        evaluation(STATS, "uscc_check_digit", "准确性", 40, 30, batch_id="b1", sample=("line 3",)),
        evaluation(STATS, "uscc_check_digit", "准确性", 60, 60, batch_id="b2"),
        evaluation(STATS, "required_fields", "完整性", 10, 10),
        evaluation(STATS, "required_fields", "完整性", 5, 5, APRIL),
    ]
    assert record(tmp_lake, "run-1", first).recorded == 4
    before = quality_versions(tmp_lake)

    # the same results again, one failing sample showing other rows: nothing is written anywhere
    same = [
        *first[1:],
        evaluation(STATS, "uscc_check_digit", "准确性", 40, 30, batch_id="b1", sample=("line 9",)),
    ]
    update = record(tmp_lake, "run-2", same)
    assert (update.evaluations, update.recorded, update.opened, update.closed) == (4, 0, [], [])
    assert quality_versions(tmp_lake) == before

    # batch b2 of March now fails 2 rows: March's uscc cell is recorded whole (b1 and b2), the other
    # two cells are not; the scorecard follows: 准确性 = (30 + 58) / (40 + 60) = 0.88 → 88.0
    changed = [first[0], evaluation(STATS, "uscc_check_digit", "准确性", 60, 58, batch_id="b2"), *first[2:]]
    assert record(tmp_lake, "run-3", changed).recorded == 2
    stored = tmp_lake.read("quality", "dq_result").filter("run_id = 'run-3'").collect()
    assert sorted((r.rule_id, r.batch_id, r.a_passed) for r in stored) == [
        ("uscc_check_digit", "b1", 30),
        ("uscc_check_digit", "b2", 58),
    ]
    assert tmp_lake.read("quality", "dq_result").count() == 6
    assert scorecard(tmp_lake)[(STATS, MARCH, "准确性")] == (88.0, 1, 0)
    assert scorecard(tmp_lake)[(STATS, APRIL, "完整性")] == (100.0, 1, 1)

    # a cell measured again in the same run, now back to the earlier result: the run's own rows
    # for it are replaced (none left), so the latest is run-1's again
    assert record(tmp_lake, "run-3", first).recorded == 0
    assert tmp_lake.read("quality", "dq_result").filter("run_id = 'run-3'").count() == 0
    assert scorecard(tmp_lake)[(STATS, MARCH, "准确性")] == (90.0, 1, 0)  # (30 + 60) / 100
