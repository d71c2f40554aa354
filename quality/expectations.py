"""Great Expectations (1.x) suites on bronze and silver tables, measured per month as X = A / B.

The expectations come from the contract's columns (:func:`quality.coverage.gx_expectation_specs`:
required / non-nullable → not null, accepted values → in set, range → between). The suite is
validated on the Spark Connect DataFrame once per month; for each expectation B = the month's
rows (GX ``element_count``) and A = B − the rows GX found unexpected. ``dagster-ge`` does not
support GX 1.x, so GX is called directly, with an ephemeral context and no progress bars.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
from collections.abc import Iterable
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from catalog import Contract
from catalog.deadlines import CST
from quality.coverage import gx_expectation_specs
from quality.measure import month_of
from quality.store import SAMPLE_SIZE, Evaluation

SOURCE = "great_expectations"
# Failing rows are named by where they came from when the table carries the lineage columns.
LINEAGE_KEYS = ["_source_file", "_row_number"]

_LOCK = threading.Lock()
_CONTEXT: dict[str, Any] = {}


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


def _batch_definition():
    """One ephemeral GX context per process, with a Spark data source for in-memory frames."""
    with _LOCK:
        if "batch" not in _CONTEXT:
            os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
            import great_expectations as gx
            from great_expectations.data_context.types.base import ProgressBarsConfig

            context = gx.get_context(mode="ephemeral")
            context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
            asset = context.data_sources.add_spark(name="ibrain").add_dataframe_asset(name="frame")
            _CONTEXT["context"] = context
            _CONTEXT["batch"] = asset.add_batch_definition_whole_dataframe("whole_frame")
        return _CONTEXT["context"], _CONTEXT["batch"]


def build_suite(contract: Contract, specs: list[dict[str, Any]] | None = None):
    """The contract's ExpectationSuite: one expectation per spec, its index kept in ``meta``."""
    import great_expectations as gx

    context, _ = _batch_definition()
    specs = gx_expectation_specs(contract) if specs is None else specs
    suite = gx.ExpectationSuite(name=contract.name)
    for index, spec in enumerate(specs):
        cls = getattr(gx.expectations, spec["expectation_type"])
        suite.add_expectation(cls(**spec["kwargs"], meta={"rule_id": spec["rule_id"], "spec": index}))
    return context.suites.add_or_update(suite)


def run_suite(
    contract: Contract,
    df: DataFrame,
    periods: Iterable[dt.date | str] | None,
    specs: list[dict[str, Any]] | None = None,
) -> list[Evaluation]:
    """Validate the contract's expectations on ``df`` for each month of ``periods`` (the rows whose
    ``period`` falls in that month), or on the whole frame when ``periods`` is None (tables
    without months: recorded against the current month). ``specs`` defaults to the contract's."""
    specs = gx_expectation_specs(contract) if specs is None else specs
    if not specs:
        return []
    suite = build_suite(contract, specs)
    _, batch_definition = _batch_definition()
    index_columns = [c for c in LINEAGE_KEYS if c in df.columns]
    result_format: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_SIZE}
    if index_columns:
        result_format["unexpected_index_column_names"] = index_columns
    if periods is None:
        slices = [(current_month(), df)]
    else:
        months = sorted({as_month(p) for p in periods})
        slices = [(m, df.filter(month_of("period") == F.lit(m))) for m in months]
    evaluations = []
    for month, frame in slices:
        batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
        validation = batch.validate(suite, result_format=result_format)
        for result in validation.results:
            spec = specs[result.expectation_config.meta["spec"]]
            if result.exception_info.get("raised_exception"):
                raise RuntimeError(
                    f"{contract.name} {spec['rule_id']} ({month:%Y-%m}): Great Expectations failed: "
                    f"{result.exception_info.get('exception_message')}"
                )
            checked = int(result.result["element_count"])
            unexpected = int(result.result.get("unexpected_count") or 0)
            evaluations.append(
                Evaluation(
                    dataset=contract.name,
                    rule_id=spec["rule_id"],
                    dimension=spec["dimension"],
                    severity=spec["severity"],
                    source=SOURCE,
                    period=month,
                    checked=checked,
                    passed_rows=checked - unexpected,
                    threshold=float(spec["threshold"]),
                    sample=_sample(spec, result.result),
                )
            )
    return evaluations


def _sample(spec: dict[str, Any], result: dict[str, Any]) -> tuple[str, ...]:
    """Failing rows as ``<file> line <n>: <column>=<value>`` when lineage is known, else values."""
    column = spec["kwargs"].get("column", "")
    rows = result.get("partial_unexpected_index_list") or []
    if rows and all("_source_file" in r for r in rows):
        return tuple(
            f"{r['_source_file']} line {r.get('_row_number')}: {column}={r.get(column)!r}"
            for r in rows[:SAMPLE_SIZE]
        )
    return tuple(f"{column}={v!r}" for v in (result.get("partial_unexpected_list") or [])[:SAMPLE_SIZE])
