"""dbt test results as quality evaluations (X = A / B), with the built models' timeliness and
accessibility: what one dbt invocation adds to quality.dq_result.

For a test on a model, B = the model's rows and A = B − the failing rows dbt counted (A = 0 when
the test itself errored), recorded for the model's latest month. The rule id and dimension come
from the test's ``config.meta`` (else its name, and the dimension of its kind of test).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from catalog import Contract
from catalog.tables import LakeTables
from quality.store import Evaluation
from quality.timeliness import accessibility, dbt_model_timeliness, evaluation_month

# Dimension of a dbt test without meta.dimension, by its generic test (GB/T 36344).
TEST_DIMENSIONS = {
    "not_null": "完整性",
    "unique": "准确性",
    "unique_combination": "准确性",
    "value_between": "准确性",
    "expression_is_true": "准确性",
    "accepted_values": "规范性",
    "relationships": "一致性",
    "sum_matches": "一致性",
}
DEFAULT_TEST_DIMENSION = "准确性"


@dataclass(frozen=True)
class DbtTestResult:
    """One dbt test result as dbt reported it (the adapter translates its events into these)."""

    dataset: str  # layer.table the test is on
    name: str  # the test's check name (used when the manifest does not know the test)
    unique_id: str | None
    passed: bool
    status: str  # dbt's status in lower case: pass, fail, warn, error, skipped ("" if unknown)
    failures: int | None  # the failing rows dbt counted (None: not counted, e.g. the test errored)


def evaluation_of_test(
    result: DbtTestResult, node: Mapping[str, Any] | None, checked: int, period: dt.date
) -> Evaluation:
    """One test result on a model of ``checked`` rows, recorded for ``period``. ``node`` is the
    test in the manifest (None: a test added since the manifest was loaded, recorded under its
    check name)."""
    node = node or {"name": result.name}
    config = node.get("config") or {}
    meta = config.get("meta") or {}
    kind = (node.get("test_metadata") or {}).get("name")
    if result.passed:
        passed_rows, sample = checked, ()
    else:
        passed_rows = 0 if result.failures is None else max(checked - result.failures, 0)
        what = (
            f"{result.failures} failing rows"
            if result.failures is not None
            else f"status {result.status or 'error'}"
        )
        sample = (f"dbt test {node['name']}: {what}",)
    return Evaluation(
        dataset=result.dataset,
        rule_id=meta.get("rule_id") or node["name"],
        dimension=meta.get("dimension") or TEST_DIMENSIONS.get(kind, DEFAULT_TEST_DIMENSION),
        severity=str(config.get("severity", "error")).upper(),
        source="dbt",
        period=period,
        checked=checked,
        passed_rows=passed_rows,
        threshold=1.0,
        sample=sample,
    )


def dbt_test_evaluations(
    tables: LakeTables, manifest: Mapping[str, Any], results: Iterable[DbtTestResult]
) -> list[Evaluation]:
    """One evaluation per test result that ran (skipped tests are left out); each model is read
    once for its rows and latest month."""
    nodes = manifest["nodes"]
    models: dict[str, tuple[int, dt.date]] = {}
    out = []
    for result in results:
        if result.status == "skipped":
            continue
        if result.dataset not in models:
            df = tables.spark.table(result.dataset)
            models[result.dataset] = (df.count(), evaluation_month(df))
        checked, period = models[result.dataset]
        out.append(evaluation_of_test(result, nodes.get(result.unique_id or ""), checked, period))
    return out


def dbt_run_evaluations(
    tables: LakeTables,
    manifest: Mapping[str, Any],
    results: Iterable[DbtTestResult],
    models: Iterable[tuple[Contract, bool]],
) -> list[Evaluation]:
    """What one dbt invocation measured: its test results, then the timeliness and accessibility
    of each selected model (``models``: its contract and whether the invocation rebuilt it)."""
    evaluations = dbt_test_evaluations(tables, manifest, results)
    for contract, rebuilt in models:
        evaluations += dbt_model_timeliness(tables, manifest, contract, rebuilt=rebuilt)
        evaluations += accessibility(tables, contract)
    return evaluations
