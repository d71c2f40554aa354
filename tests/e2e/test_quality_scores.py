"""Quality results on the demo lake: six dimensions, and scores recomputed by hand (issue 6)."""

from collections import defaultdict

import pytest
from pyspark.sql import functions as F

from quality.store import DIMENSIONS
from tests.e2e.conftest import DemoLake

pytestmark = pytest.mark.e2e

DATASET = "silver.enterprise_month_stats"


def test_dq_result_shows_all_six_dimensions(demo_lake: DemoLake) -> None:
    results = demo_lake.tables.read("quality", "dq_result")
    assert {r.dimension for r in results.select("dimension").distinct().collect()} == set(DIMENSIONS)
    for layer in ("silver", "gold", "theme", "topic", "indicator"):
        layer_dims = results.filter(F.col("dataset").startswith(f"{layer}.")).select("dimension").distinct()
        assert layer_dims.count() >= 5, layer  # silver datasets may exempt 一致性 with a reason


def test_a_batch_evaluation_is_recomputed_from_silver_and_quarantine(demo_lake: DemoLake) -> None:
    """X = A / B of uscc_check_digit for the largest delivery batch, counted by hand from the tables."""
    t = demo_lake.tables
    results = t.read("quality", "dq_result").filter(
        f"dataset = '{DATASET}' and rule_id = 'uscc_check_digit' and batch_id is not null"
    )
    last_run = results.orderBy(F.desc("evaluated_at")).first().run_id
    row = results.filter(f"run_id = '{last_run}'").orderBy(F.desc("b_checked"), "batch_id").first()
    # the rule flags kept rows with an invalid code (matched by name + region) and counts the rows
    # that could not be matched at all (quarantined as unresolved_enterprise, implied_by)
    in_batch = F.col("_batch_id") == row.batch_id
    kept = t.read("silver", "enterprise_month_stats").filter(in_batch)
    quarantine = t.read("quarantine", "silver_enterprise_month_stats").filter(in_batch)
    flagged = kept.filter(F.array_contains(F.split("dq_flags", ";"), "uscc_check_digit")).count()
    unresolved = quarantine.filter("rule_id in ('uscc_check_digit', 'unresolved_enterprise')").count()
    invalid = flagged + unresolved
    checked = kept.count() + quarantine.count()
    assert (row.b_checked, row.a_passed) == (checked, checked - invalid)
    assert row.x_ratio == pytest.approx((checked - invalid) / checked, abs=1e-6)


def test_a_score_is_recomputed_from_the_evaluations(demo_lake: DemoLake) -> None:
    """dq_scorecard: 100 × mean over a dimension's rules of ΣA / ΣB over the rule's latest batches,
    and the overall score as the documented weighted mean."""
    t = demo_lake.tables
    card = t.read("quality", "dq_scorecard").filter(f"dataset = '{DATASET}'")
    period = card.agg(F.max("period")).first()[0]
    scores = {r.dimension: r.score for r in card.filter(F.col("period") == period).collect()}

    rows = t.read("quality", "dq_result").filter(f"dataset = '{DATASET}'").filter(F.col("period") == period)
    latest: dict[str, list] = defaultdict(list)
    for r in rows.collect():
        latest[r.rule_id].append(r)
    by_dimension: dict[str, list[float]] = defaultdict(list)
    for evaluations in latest.values():
        newest = max((r.evaluated_at, r.run_id) for r in evaluations)
        current = [r for r in evaluations if (r.evaluated_at, r.run_id) == newest]
        checked = sum(r.b_checked for r in current)
        ratio = 1.0 if checked == 0 else sum(r.a_passed for r in current) / checked
        by_dimension[current[0].dimension].append(ratio)
    by_hand = {d: round(100 * sum(x) / len(x), 2) for d, x in by_dimension.items()}
    assert {d: scores[d] for d in by_hand} == by_hand

    weights = {
        "完整性": 0.20,
        "准确性": 0.25,
        "一致性": 0.20,
        "规范性": 0.15,
        "时效性": 0.10,
        "可访问性": 0.10,
    }
    total = sum(weights[d] for d in by_hand)
    overall = round(sum(by_hand[d] * weights[d] for d in by_hand) / total, 2)
    assert scores["overall"] == pytest.approx(overall, abs=0.011)
