"""Quality results as Delta tables: dq_result (every evaluation), dq_scorecard, dq_issue.

Every place that evaluates rules (silver assets, bronze assets, dbt assets) calls :func:`record`
with its :class:`Evaluation` list. ``record`` keeps only what is new: an evaluation of a (dataset,
rule, month) whose results — per batch: A, B, threshold, severity, dimension, source, passed — are
those the latest earlier run recorded for it says nothing new and is not stored again (its failing
sample is not compared: which failing rows come back first is not deterministic). The rest replaces
that run's rows for those datasets and sources in ``quality.dq_result``, and the scorecard and
issues of the datasets it touched are recomputed from the latest evaluation of each (rule, month)
— so scores and issues always follow what was last measured, and a run that measures nothing new
writes nothing to any of the three tables (README: "What a no-change run records").
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql import Row, Window
from pyspark.sql import functions as F

from catalog import Contract, get_contract, load_catalog
from catalog.contracts import DIMENSIONS
from catalog.spark_schema import struct_type
from catalog.tables import LakeTables
from ibrain.delta import in_predicate, sql_literal


def result_contract() -> Contract:
    return get_contract("quality", "dq_result")


def scorecard_contract() -> Contract:
    return get_contract("quality", "dq_scorecard")


def issue_contract() -> Contract:
    return get_contract("quality", "dq_issue")


# Weights of the overall score (documented in the dq_scorecard contract); renormalised over the
# dimensions a dataset has evaluations for.
WEIGHTS = {"完整性": 0.20, "准确性": 0.25, "一致性": 0.20, "规范性": 0.15, "时效性": 0.10, "可访问性": 0.10}
SAMPLE_SIZE = 5


@dataclass(frozen=True)
class Evaluation:
    """One rule measured on one dataset and month: X = A / B against the threshold."""

    dataset: str  # layer.table
    rule_id: str
    dimension: str
    severity: str  # ERROR | WARN
    source: str  # quarantine | great_expectations | dbt | ledger | reconciliation | catalog
    period: dt.date
    checked: int  # B
    passed_rows: int  # A
    threshold: float
    sample: tuple[str, ...] = ()
    # Set for a batch too small to judge alone: below the threshold it passes or fails with this
    # (month or table) X.
    pooled_ratio: float | None = None
    batch_id: str | None = None  # the delivery batch measured (None: a month or the whole table)

    def __post_init__(self) -> None:
        if self.dimension not in DIMENSIONS:
            raise ValueError(f"{self.dataset} {self.rule_id}: unknown dimension {self.dimension!r}")
        if not 0 <= self.passed_rows <= self.checked:
            raise ValueError(
                f"{self.dataset} {self.rule_id}: A={self.passed_rows} not within 0..B={self.checked}"
            )

    @property
    def ratio(self) -> float:
        return 1.0 if self.checked == 0 else self.passed_rows / self.checked

    @property
    def judged_ratio(self) -> float:
        """X as judged: a small batch below the threshold is judged with its month (or table)."""
        if self.pooled_ratio is None or self.ratio >= self.threshold:
            return self.ratio
        return self.pooled_ratio

    @property
    def passed(self) -> bool:
        return self.judged_ratio >= self.threshold


@dataclass
class QualityUpdate:
    """What one :func:`record` call changed: issues opened/closed/reopened, and the overall
    scores of the datasets it touched (latest month) — shown as Dagster metadata."""

    evaluations: int = 0
    recorded: int = 0  # of ``evaluations``, those stored: new, or other than last recorded
    opened: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    reopened: list[str] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)

    def issue_status(self, issue_id: str, failing: bool) -> str:
        """What this update did to an issue (opened/reopened/closed), else open or none."""
        for status, ids in (("opened", self.opened), ("reopened", self.reopened), ("closed", self.closed)):
            if issue_id in ids:
                return status
        return "open" if failing else "none"

    def as_metadata(self) -> dict[str, Any]:
        return {
            "dq_evaluations": self.evaluations,
            "dq_evaluations_recorded": self.recorded,
            "dq_issues_opened": ", ".join(self.opened) or "none",
            "dq_issues_closed": ", ".join(self.closed) or "none",
            "dq_issues_reopened": ", ".join(self.reopened) or "none",
            **{f"dq_score_overall[{k}]": v for k, v in sorted(self.scores.items())},
        }


def record(tables: LakeTables, run_id: str, evaluations: list[Evaluation]) -> QualityUpdate:
    """Store what ``evaluations`` of one run say anew and bring the scorecard and issues of the
    datasets concerned up to date; a re-measurement equal to the latest recorded one writes nothing."""
    update = QualityUpdate(evaluations=len(evaluations))
    if not evaluations:
        return update
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    result, scorecard, issue = result_contract(), scorecard_contract(), issue_contract()
    for contract in (result, scorecard, issue):
        tables.ensure(contract)
    datasets = sorted({e.dataset for e in evaluations})
    sources = sorted({e.source for e in evaluations})
    rows = [_result_row(run_id, now, e) for e in evaluations]
    earlier = _cells(_latest_evaluations(tables, datasets, other_than=run_id))
    measured = _cells(rows)
    rows = [r for r in rows if measured[_cell_key(r)] != earlier.get(_cell_key(r))]
    predicate = " AND ".join(
        [
            f"run_id = {sql_literal(run_id)}",
            in_predicate("dataset", datasets),
            in_predicate("source", sources),
        ]
    )
    # rows this run stored before for the same datasets and sources (a step run again) are replaced
    stored = tables.read("quality", "dq_result").filter(predicate).select("dataset").distinct()
    replaced = {r.dataset for r in stored.collect()}
    update.recorded = len(rows)
    if not rows and not replaced:
        return update
    frame = tables.spark.createDataFrame([Row(**r) for r in rows], struct_type(result))
    tables.replace_where(result, frame, predicate)

    touched = sorted({r["dataset"] for r in rows} | replaced)
    latest = _latest_evaluations(tables, touched)
    _write_scorecard(tables, touched, latest, now, update)
    _write_issues(tables, touched, latest, now, run_id, update)
    return update


# What says whether a (dataset, rule, month) was measured anew: per batch, these values.
_COMPARED = ("batch_id", "dimension", "severity", "source", "a_passed", "b_checked", "threshold", "passed")


def _cell_key(row: Any) -> tuple[str, str, dt.date]:
    get = row.get if isinstance(row, dict) else row.__getitem__
    return get("dataset"), get("rule_id"), get("period")


def _cells(rows: list[Any]) -> dict[tuple[str, str, dt.date], list[tuple[Any, ...]]]:
    """Each (dataset, rule, month) of ``rows`` and the compared values of its batches, sorted."""
    out: dict[tuple[str, str, dt.date], list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        get = row.get if isinstance(row, dict) else row.__getitem__
        out[_cell_key(row)].append(tuple(get(c) for c in _COMPARED))
    return {cell: sorted(values, key=repr) for cell, values in out.items()}


def _result_row(run_id: str, now: dt.datetime, e: Evaluation) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "evaluated_at": now,
        "dataset": e.dataset,
        "rule_id": e.rule_id,
        "dimension": e.dimension,
        "severity": e.severity,
        "source": e.source,
        "period": e.period,
        "batch_id": e.batch_id,
        "a_passed": e.passed_rows,
        "b_checked": e.checked,
        "x_ratio": round(e.ratio, 6),
        "threshold": e.threshold,
        "passed": e.passed,
        "failing_sample": "\n".join(e.sample[:SAMPLE_SIZE]) or None,
    }


def _latest_evaluations(tables: LakeTables, datasets: list[str], other_than: str | None = None) -> list[Any]:
    """For each (dataset, rule, month) of ``datasets``, the rows of its latest evaluation — all
    its batches as measured then; with ``other_than``, the latest of the runs but that one. A
    batch that a correction replaced is no longer measured, so it drops out here instead of keeping
    an issue open. Selected in the engine: dq_result keeps every evaluation recorded, and only the
    latest are brought back."""
    df = tables.read("quality", "dq_result").filter(in_predicate("dataset", datasets))
    if other_than is not None:
        df = df.filter(F.col("run_id") != F.lit(other_than))
    cell = Window.partitionBy("dataset", "rule_id", "period")
    newest = F.max(F.struct("evaluated_at", "run_id")).over(cell)
    latest = df.withColumn("_newest", newest).filter(
        (F.col("evaluated_at") == F.col("_newest.evaluated_at"))
        & (F.col("run_id") == F.col("_newest.run_id"))
    )
    return latest.drop("_newest").collect()


def overall_score(dimension_scores: dict[str, float]) -> float:
    weights = {d: WEIGHTS[d] for d in dimension_scores}
    total = sum(weights.values())
    return round(sum(dimension_scores[d] * w for d, w in weights.items()) / total, 2)


def _write_scorecard(tables, datasets, latest, now, update: QualityUpdate) -> None:
    groups: dict[tuple, list[Any]] = defaultdict(list)
    for row in latest:
        groups[(row.dataset, row.period, row.dimension)].append(row)
    out = []
    by_cell: dict[tuple, dict[str, float]] = defaultdict(dict)
    for (dataset, period, dimension), rows in sorted(groups.items()):
        score = round(100 * _mean_rule_ratio(rows), 2)
        by_cell[(dataset, period)][dimension] = score
        out.append(_score_row(dataset, period, dimension, score, rows, now))
    for (dataset, period), scores in sorted(by_cell.items()):
        rows = [r for r in latest if r.dataset == dataset and r.period == period]
        out.append(_score_row(dataset, period, "overall", overall_score(scores), rows, now))
        update.scores[dataset] = overall_score(scores)  # sorted: the latest month wins
    scorecard = scorecard_contract()
    frame = tables.spark.createDataFrame([Row(**r) for r in out], struct_type(scorecard))
    tables.merge(scorecard, frame, replace_column="dataset", replace_values=datasets)


def _by_rule(rows) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        out[r.rule_id].append(r)
    return out


def _mean_rule_ratio(rows) -> float:
    """Mean over rules of each rule's X = ΣA / ΣB across its batches of the month."""
    ratios = []
    for batches in _by_rule(rows).values():
        checked = sum(r.b_checked for r in batches)
        ratios.append(1.0 if checked == 0 else sum(r.a_passed for r in batches) / checked)
    return sum(ratios) / len(ratios)


def _score_row(dataset, period, dimension, score, rows, now) -> dict[str, Any]:
    rules = _by_rule(rows)
    return {
        "dataset": dataset,
        "period": period,
        "dimension": dimension,
        "score": score,
        "rules": len(rules),
        "rules_passed": sum(1 for batches in rules.values() if all(r.passed for r in batches)),
        "computed_at": now,
    }


def with_rows(rows) -> list[Any]:
    """The evaluations that found failing rows themselves (A < B)."""
    return [r for r in rows if r.a_passed < r.b_checked] or list(rows)


def _write_issues(tables, datasets, latest, now, run_id: str, update: QualityUpdate) -> None:
    existing = {
        r.issue_id: r
        for r in tables.read("quality", "dq_issue").filter(in_predicate("dataset", datasets)).collect()
    }
    owners = {name: c.owner for name, c in load_catalog().items()}
    by_rule: dict[tuple, list[Any]] = defaultdict(list)
    for row in latest:
        by_rule[(row.dataset, row.rule_id)].append(row)
    out = []
    for (dataset, rule_id), rows in sorted(by_rule.items()):
        issue_id = f"{dataset}:{rule_id}"
        failing = sorted((r for r in rows if not r.passed), key=lambda r: r.period)
        old = existing.get(issue_id)
        if failing:
            last = max(failing, key=lambda r: r.evaluated_at)
            status_was = old.status if old else None
            out.append(
                {
                    "issue_id": issue_id,
                    "dataset": dataset,
                    "rule_id": rule_id,
                    "dimension": last.dimension,
                    "severity": last.severity,
                    "owner": owners.get(dataset, "team:data-governance"),
                    "status": "open",
                    "first_seen": old.first_seen if old else last.evaluated_at,
                    "last_seen": max(r.evaluated_at for r in failing),
                    "closed_at": None,
                    "reopened_count": (old.reopened_count if old else 0)
                    + (1 if status_was == "closed" else 0),
                    # where the failing rows are (a small batch judged with its month can fail
                    # without failing rows of its own)
                    "failing_periods": ",".join(sorted({f"{r.period:%Y-%m}" for r in with_rows(failing)})),
                    "failing_batches": ",".join(
                        sorted({r.batch_id for r in with_rows(failing) if r.batch_id})
                    )
                    or None,
                    "affected_rows": sum(r.b_checked - r.a_passed for r in failing),
                    "sample_rows": "\n".join(
                        line for r in failing if r.failing_sample for line in r.failing_sample.splitlines()
                    )[:2000]
                    or None,
                    "last_run_id": run_id,
                }
            )
            if status_was is None:
                update.opened.append(issue_id)
            elif status_was == "closed":
                update.reopened.append(issue_id)
        elif old is not None and old.status == "open":
            out.append({**old.asDict(), "status": "closed", "closed_at": now, "last_run_id": run_id})
            update.closed.append(issue_id)
    if out:
        issue = issue_contract()
        frame = tables.spark.createDataFrame([Row(**r) for r in out], struct_type(issue))
        tables.merge(issue, frame)


def latest_scores(tables: LakeTables, dataset: str) -> tuple[dt.date | None, dict[str, float]]:
    """The latest month of ``dataset`` in quality.dq_scorecard and its score per dimension
    (``overall`` included); (None, {}) while it has none."""
    scores = tables.read("quality", "dq_scorecard").filter(F.col("dataset") == F.lit(dataset))
    latest = scores.agg(F.max("period")).collect()[0][0]
    rows = scores.filter(F.col("period") == F.lit(latest)).collect() if latest else []
    return latest, {r.dimension: r.score for r in rows}
