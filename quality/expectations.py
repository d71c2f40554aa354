"""Great Expectations (1.x) expectations on bronze and silver tables, measured per month as
X = A / B, every expectation of a table over every month of a run in one pass.

The expectations come from the contract's columns (:func:`quality.coverage.gx_expectation_specs`:
required / non-nullable → not null, accepted values → in set, range → between), written as GX 1.x
expectation configurations (class name and kwargs; a unit test checks GX accepts each). They are
measured here with GX's semantics for those three kinds — B = the month's rows (GX
``element_count``), A = B − the rows GX counts unexpected (for in set and between, a null is not
unexpected: not-null rules judge nulls) — as one aggregate query grouped by month, plus one query
per expectation that failed somewhere for its sample of failing rows. Why not GX's own validator:
it runs several queries per expectation and one validation per month, which made these checks the
larger part of a small pipeline run (about a second per table-month; issue 17).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from catalog import Contract
from catalog.deadlines import CST
from quality.coverage import gx_expectation_specs
from quality.measure import month_of
from quality.store import SAMPLE_SIZE, Evaluation

SOURCE = "great_expectations"
# Failing rows are named by where they came from when the table carries the lineage columns.
LINEAGE_KEYS = ["_source_file", "_row_number"]


def check_name(rule_id: str) -> str:
    """The Dagster asset check name of an expectation rule (``not_null:uscc`` → ``not_null__uscc``;
    check names allow letters, digits and underscores only)."""
    return re.sub(r"[^A-Za-z0-9_]", "__", rule_id)


def current_month() -> dt.date:
    """The current month (China Standard Time), for evaluations of tables without months."""
    return dt.datetime.now(CST).date().replace(day=1)


def as_month(period: dt.date | str) -> dt.date:
    """The first day of the month of a date or a ``YYYY-MM[-DD]`` period."""
    if isinstance(period, dt.date):
        return period.replace(day=1)
    return dt.date(int(period[:4]), int(period[5:7]), 1)


def unexpected(spec: dict[str, Any]) -> Column:
    """The rows GX counts unexpected for ``spec`` (not null, in set, between; GX's defaults:
    bounds inclusive, nulls not judged by in set and between)."""
    kwargs = spec["kwargs"]
    column = F.col(kwargs["column"])
    kind = spec["expectation_type"]
    if kind == "ExpectColumnValuesToNotBeNull":
        return column.isNull()
    if kind == "ExpectColumnValuesToBeInSet":
        return column.isNotNull() & ~column.isin(*kwargs["value_set"])
    if kind == "ExpectColumnValuesToBeBetween":
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        if low is None and high is None:
            raise ValueError(f"{spec['rule_id']}: a range needs a minimum or a maximum")
        outside = F.lit(False)
        if low is not None:
            outside = outside | (column < F.lit(low))
        if high is not None:
            outside = outside | (column > F.lit(high))
        return column.isNotNull() & outside
    raise ValueError(
        f"{spec['rule_id']}: expectation {kind} is not measured (only not null, in set, between)"
    )


def run_suite(
    contract: Contract,
    df: DataFrame,
    periods: Iterable[dt.date | str] | None,
    specs: list[dict[str, Any]] | None = None,
) -> list[Evaluation]:
    """Measure the contract's expectations on ``df`` for each month of ``periods`` (the rows whose
    ``period`` falls in that month), or on the whole frame when ``periods`` is None (tables
    without months: recorded against the current month). ``specs`` defaults to the contract's.
    A month without rows is measured as 0 of 0."""
    specs = gx_expectation_specs(contract) if specs is None else specs
    if not specs:
        return []
    if periods is None:
        months, frame, month = [current_month()], df, F.lit(current_month())
    else:
        months = sorted({as_month(p) for p in periods})
        frame, month = df.filter(month_of("period").isin(months)), month_of("period")
    if not months:
        return []
    frame = frame.withColumn("_month", month)
    conditions = [unexpected(spec) for spec in specs]
    counts = {
        row["_month"]: row
        for row in frame.groupBy("_month")
        .agg(
            F.count(F.lit(1)).alias("_rows"),
            *[F.count(F.when(c, F.lit(1))).alias(f"_u{i}") for i, c in enumerate(conditions)],
        )
        .collect()
    }
    index_columns = [c for c in LINEAGE_KEYS if c in df.columns]
    evaluations = []
    for i, spec in enumerate(specs):
        failing = [m for m in months if m in counts and counts[m][f"_u{i}"]]
        samples = _samples(frame, spec, conditions[i], failing, index_columns) if failing else {}
        for m in months:
            checked = int(counts[m]["_rows"]) if m in counts else 0
            bad = int(counts[m][f"_u{i}"]) if m in counts else 0
            evaluations.append(
                Evaluation(
                    dataset=contract.name,
                    rule_id=spec["rule_id"],
                    dimension=spec["dimension"],
                    severity=spec["severity"],
                    source=SOURCE,
                    period=m,
                    checked=checked,
                    passed_rows=checked - bad,
                    threshold=float(spec["threshold"]),
                    sample=samples.get(m, ()),
                )
            )
    return evaluations


def _samples(
    frame: DataFrame, spec: dict[str, Any], condition: Column, months: list[dt.date], index_columns: list[str]
) -> dict[dt.date, tuple[str, ...]]:
    """Up to SAMPLE_SIZE failing rows of ``spec`` per month of ``months`` (one query): as
    ``<file> line <n>: <column>=<value>`` when lineage is known (the first lines), else values."""
    column = spec["kwargs"]["column"]
    order = [F.col(c) for c in index_columns] or [F.col(column)]
    ranked = (
        frame.filter(condition & F.col("_month").isin(months))
        .select("_month", *index_columns, column)
        .withColumn("_n", F.row_number().over(Window.partitionBy("_month").orderBy(*order)))
        .filter(F.col("_n") <= SAMPLE_SIZE)
    )
    found: dict[dt.date, list[str]] = {}
    for r in ranked.orderBy("_month", "_n").collect():
        if index_columns == LINEAGE_KEYS:
            text = f"{r['_source_file']} line {r['_row_number']}: {column}={r[column]!r}"
        else:
            text = f"{column}={r[column]!r}"
        found.setdefault(r["_month"], []).append(text)
    return {m: tuple(texts) for m, texts in found.items()}
