"""The data-quality report (质量分析报告): one self-contained HTML page from the quality tables.

:func:`gather` reads ``quality.dq_scorecard``, ``quality.dq_result`` and ``quality.dq_issue``
(plus quarantine rows as samples for the open issues) for one month; :func:`render` turns that
into a page (templates/report.html.j2) with inline CSS, JS and an SVG trend drawn here — no
external URL, so the file can be mailed or archived as is. ``ibrain quality-report`` writes it
and prints :func:`summary_lines`.

How the page aggregates the scorecard (each dataset's own scores are as dq_scorecard defines
them: 100 × mean X per dimension, weighted overall):

- a dimension's score for the month = the mean of that dimension's score over the datasets that
  have rules of that dimension evaluated in the month;
- the overall score for the month = the mean of the datasets' overall scores (each dataset
  counts once, whatever its number of rules);
- the trend = that overall score for every month in the scorecard.

The month shown by default is the latest with scores, not after the current month.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from jinja2 import Environment
from markupsafe import Markup
from pyspark.sql import Window
from pyspark.sql import functions as F

from catalog import load_catalog
from catalog.tables import LakeTables
from ibrain.pages import environment
from quality.store import DIMENSIONS, WEIGHTS, issue_contract, result_contract, scorecard_contract

OVERALL = "overall"
TOP_FAILING = 20
SAMPLES_PER_ISSUE = 3
MAX_SAMPLES = 30
RAW_CHARS = 240
PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class QualityReportError(RuntimeError):
    """The report cannot be made (quality tables missing, unknown month)."""


def parse_period(text: str) -> dt.date:
    """``YYYY-MM`` → the first day of that month."""
    if not PERIOD_RE.match(text):
        raise QualityReportError(f"--period {text!r}: expected a month as YYYY-MM, e.g. 2024-03")
    return dt.date(int(text[:4]), int(text[5:7]), 1)


@dataclass
class DatasetScores:
    dataset: str
    name_zh: str
    overall: float | None
    dimensions: dict[str, float]  # only the dimensions evaluated
    rules: int
    rules_passed: int


@dataclass
class ReportData:
    period: dt.date
    periods: list[dt.date]
    overall: float | None
    dimensions: dict[str, float | None]  # every GB/T 36344 dimension; None when not evaluated
    trend: list[tuple[dt.date, float]]
    datasets: list[DatasetScores]
    evaluations: int  # latest evaluation of each (dataset, rule) in the month
    failing_total: int
    failing: list[dict[str, Any]]  # the lowest X first, at most TOP_FAILING
    open_issues: list[dict[str, Any]]
    samples: list[dict[str, Any]]
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def month(self) -> str:
        return f"{self.period:%Y-%m}"


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def default_period(periods: list[dt.date], today: dt.date) -> dt.date:
    """The latest month with scores that is not after this month (a table whose rules are recorded
    against its latest month, such as a date dimension reaching into the future, does not make
    the report default to a month still to come); the latest month if all are."""
    this_month = today.replace(day=1)
    past = [p for p in periods if p <= this_month]
    return (past or periods)[-1]


def gather(tables: LakeTables, period: dt.date | None = None) -> ReportData:
    """Everything the report shows, for ``period`` (default: :func:`default_period`)."""
    scorecard_table = scorecard_contract()
    missing = [c.name for c in (scorecard_table, result_contract(), issue_contract()) if not tables.exists(c)]
    if missing:
        raise QualityReportError(
            f"the quality tables do not exist yet ({', '.join(missing)}): run the pipeline first "
            "(`ibrain run`, or `ibrain demo` for a demo lake)"
        )
    scorecard = [r.asDict() for r in tables.read(scorecard_table.layer, scorecard_table.table).collect()]
    if not scorecard:
        raise QualityReportError(f"{scorecard_table.name} is empty: run the pipeline first (`ibrain run`)")
    periods = sorted({r["period"] for r in scorecard})
    if period is None:
        period = default_period(periods, dt.datetime.now(dt.UTC).date())
    elif period not in periods:
        raise QualityReportError(
            f"no quality scores for {period:%Y-%m}; months with scores: "
            f"{', '.join(f'{p:%Y-%m}' for p in periods)}"
        )
    contracts = load_catalog()

    by_period: dict[dt.date, list[dict[str, Any]]] = defaultdict(list)
    for row in scorecard:
        by_period[row["period"]].append(row)
    trend = [
        (p, score)
        for p in periods
        if (score := _mean([r["score"] for r in by_period[p] if r["dimension"] == OVERALL])) is not None
    ]

    cells: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in by_period[period]:
        cells[row["dataset"]][row["dimension"]] = row
    datasets = []
    for name in sorted(cells):
        dims = {d: cells[name][d]["score"] for d in DIMENSIONS if d in cells[name]}
        overall_row = cells[name].get(OVERALL)
        contract = contracts.get(name)
        datasets.append(
            DatasetScores(
                dataset=name,
                name_zh=contract.name_zh if contract else "",
                overall=overall_row["score"] if overall_row else None,
                dimensions=dims,
                rules=overall_row["rules"] if overall_row else sum(c["rules"] for c in cells[name].values()),
                rules_passed=overall_row["rules_passed"]
                if overall_row
                else sum(c["rules_passed"] for c in cells[name].values()),
            )
        )
    dimensions = {d: _mean([ds.dimensions[d] for ds in datasets if d in ds.dimensions]) for d in DIMENSIONS}
    overall = _mean([ds.overall for ds in datasets if ds.overall is not None])

    latest = _rule_results(tables, period)
    failing_rows = sorted(
        (r for r in latest if not r["passed"]),
        key=lambda r: (r["worst_x"], r["severity"] != "ERROR", r["dataset"], r["rule_id"]),
    )
    issues = _open_issues(tables)
    return ReportData(
        period=period,
        periods=periods,
        overall=overall,
        dimensions=dimensions,
        trend=trend,
        datasets=datasets,
        evaluations=len(latest),
        failing_total=len(failing_rows),
        failing=failing_rows[:TOP_FAILING],
        open_issues=issues,
        samples=_quarantine_samples(tables, issues, contracts),
    )


def _rule_results(tables: LakeTables, period: dt.date) -> list[dict[str, Any]]:
    """Each rule evaluated on each dataset in the month, from its latest evaluation — the rows of
    the latest run that evaluated it, one per delivery batch for rules enforced by quarantine (a
    batch since withdrawn or superseded is no longer measured, so it no longer counts): A = ΣA,
    B = ΣB, X = A/B as in the scorecard; the rule passes when every batch passed."""
    df = tables.read("quality", "dq_result").filter(F.col("period") == F.lit(period))
    if "batch_id" not in df.columns:  # a dq_result written before batches were recorded
        df = df.withColumn("batch_id", F.lit(None).cast("string"))
    newest = Window.partitionBy("dataset", "rule_id").orderBy(F.desc("evaluated_at"), F.desc("run_id"))
    latest = df.withColumn("_n", F.dense_rank().over(newest)).filter(F.col("_n") == 1).drop("_n")
    by_rule: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in latest.collect():
        by_rule[(row["dataset"], row["rule_id"])].append(row.asDict())
    out = []
    for (dataset, rule_id), batches in sorted(by_rule.items()):
        a, b = sum(r["a_passed"] for r in batches), sum(r["b_checked"] for r in batches)
        failing = sorted((r for r in batches if not r["passed"]), key=lambda r: r["x_ratio"])
        first = batches[0]
        out.append(
            {
                "dataset": dataset,
                "rule_id": rule_id,
                "dimension": first["dimension"],
                "severity": first["severity"],
                "source": first["source"],
                "threshold": first["threshold"],
                "a_passed": a,
                "b_checked": b,
                "x_ratio": 1.0 if b == 0 else a / b,
                "passed": not failing,
                "worst_x": failing[0]["x_ratio"] if failing else min(r["x_ratio"] for r in batches),
                "batches": len(batches),
                "failing_batches": [r["batch_id"] for r in failing if r["batch_id"]],
                "failing_sample": "\n".join(r["failing_sample"] for r in failing if r["failing_sample"]),
            }
        )
    return out


def _open_issues(tables: LakeTables) -> list[dict[str, Any]]:
    df = tables.read("quality", "dq_issue").filter(F.col("status") == "open")
    rows = [r.asDict() for r in df.collect()]
    return sorted(rows, key=lambda r: (r["severity"] != "ERROR", -r["affected_rows"], r["issue_id"]))


def quarantine_table(dataset: str) -> tuple[str, str] | None:
    """The quarantine table of a bronze or silver dataset (``silver.x`` → quarantine.silver_x)."""
    layer, _, table = dataset.partition(".")
    return ("quarantine", f"{layer}_{table}") if layer in ("bronze", "silver") else None


def _quarantine_samples(tables: LakeTables, issues: list[dict[str, Any]], contracts) -> list[dict[str, Any]]:
    """A few quarantined rows per open issue of a bronze/silver dataset, from its failing months."""
    samples: list[dict[str, Any]] = []
    for issue in issues:
        target = quarantine_table(issue["dataset"])
        if target is None or f"{target[0]}.{target[1]}" not in contracts:
            continue
        contract = contracts[f"{target[0]}.{target[1]}"]
        if not tables.exists(contract):
            continue
        months = [m for m in (issue["failing_periods"] or "").split(",") if m]
        batches = [b for b in (issue.get("failing_batches") or "").split(",") if b]
        df = tables.read(*target).filter(F.col("rule_id") == issue["rule_id"])
        if months:
            df = df.filter(F.substring("period", 1, 7).isin(months))
        if batches:
            df = df.filter(F.col("_batch_id").isin(batches))
        rows = df.orderBy("period", "_source_file", "_row_number").limit(SAMPLES_PER_ISSUE).collect()
        for row in rows:
            raw = row["raw"] or ""
            samples.append(
                {
                    "issue_id": issue["issue_id"],
                    "table": contract.name,
                    "period": row["period"],
                    "rule_id": row["rule_id"],
                    "reason": row["reason"],
                    "source_file": row["_source_file"],
                    "row_number": row["_row_number"],
                    "batch_id": row["_batch_id"],
                    "raw": raw if len(raw) <= RAW_CHARS else raw[:RAW_CHARS] + "…",
                }
            )
        if len(samples) >= MAX_SAMPLES:
            break
    return samples[:MAX_SAMPLES]


# -- text ------------------------------------------------------------------------------------------
def _fmt(score: float | None) -> str:
    return "—" if score is None else f"{score:.2f}"


def summary_lines(data: ReportData) -> list[str]:
    """The short text summary ``ibrain quality-report`` prints."""
    first, last = data.periods[0], data.periods[-1]
    return [
        f"quality report for {data.month} "
        f"(months with scores: {first:%Y-%m} … {last:%Y-%m}, {len(data.periods)})",
        f"overall score: {_fmt(data.overall)} over {len(data.datasets)} datasets",
        "dimensions: " + ", ".join(f"{d} {_fmt(s)}" for d, s in data.dimensions.items()),
        f"evaluations: {data.evaluations}; failing rules: {data.failing_total}; "
        f"open issues: {len(data.open_issues)}",
    ]


# -- HTML ------------------------------------------------------------------------------------------
def _text(value: Any) -> str:
    """What a cell shows for a value: nothing for None."""
    return "" if value is None else str(value)


def _attr(score: float | None) -> str:
    return "" if score is None else str(score)


def _band(score: float | None) -> str:
    if score is None:
        return "na"
    return "good" if score >= 99 else "fair" if score >= 95 else "poor"


def _ts(value: dt.datetime | None) -> str:
    return "—" if value is None else f"{value:%Y-%m-%d %H:%M}"


_LANDING_PREFIX = re.compile(r"[^\s'\"(]*?/(landing/)")


def short_paths(text: str) -> str:
    """Landing paths without the lake root (``/…/lake/landing/x`` → ``landing/x``), for reading."""
    return _LANDING_PREFIX.sub(r"\1", text)


def _sample_lines(text: str | None) -> list[str]:
    return [short_paths(x) for x in (text or "").splitlines() if x.strip()]


@cache
def _templates() -> Environment:
    """templates/: report.html.j2 (with report.css, report.js) and trend.svg.j2."""
    env = environment("quality")
    env.filters.update(
        score=_fmt,
        score_attr=_attr,
        band=_band,
        ts=_ts,
        text=_text,
        month=lambda d: f"{d:%Y-%m}",
        thousands=lambda n: f"{n:,}",
        short_paths=short_paths,
        sample_lines=_sample_lines,
    )
    return env


def trend_svg(
    trend: list[tuple[dt.date, float]], selected: dt.date, width: int = 960, height: int = 260
) -> str:
    """An SVG line chart of the monthly overall score (drawn here: no chart library). Months are
    evenly spaced; where months without scores lie between two points, the line is dashed."""
    left, right, top, bottom = 48, 40, 16, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    scores = [s for _, s in trend] or [100.0]
    low = min(90.0, float(int(min(scores)) // 5 * 5))
    high = 100.0
    span = high - low or 1.0

    def x(i: int) -> str:
        return f"{left + (plot_w / 2 if len(trend) == 1 else plot_w * i / (len(trend) - 1)):.1f}"

    def y(score: float, shift: float = 0.0) -> str:
        return f"{top + plot_h * (high - score) / span + shift:.1f}"

    step = 5.0 if span > 10 else 2.0 if span > 4 else 1.0
    ticks = []
    tick = high
    while tick >= low - 1e-9:
        ticks.append({"y": y(tick), "label_y": y(tick, 4), "label": f"{tick:g}"})
        tick -= step
    label_every = max(1, (len(trend) + 11) // 12)
    labels = [
        {"x": x(i), "y": height - bottom + 18, "text": f"{p:%Y-%m}"}
        for i, (p, _) in enumerate(trend)
        if i % label_every == 0 or i == len(trend) - 1
    ]
    gaps, steps = [], []
    for i, (p, s) in enumerate(trend):
        gap = i > 0 and _months_between(trend[i - 1][0], p) > 1
        if gap:
            gaps.append({"x1": x(i - 1), "y1": y(trend[i - 1][1]), "x2": x(i), "y2": y(s)})
        steps.append(f"{'M' if i == 0 or gap else 'L'}{x(i)},{y(s)}")
    points = [
        {"x": x(i), "y": y(s), "month": f"{p:%Y-%m}", "score": s, "selected": p == selected}
        for i, (p, s) in enumerate(trend)
    ]
    return (
        _templates()
        .get_template("trend.svg.j2")
        .render(
            width=width,
            height=height,
            left=left,
            right=width - right,
            ticks=ticks,
            labels=labels,
            gaps=gaps,
            path=" ".join(steps),
            points=points,
        )
    )


def _months_between(a: dt.date, b: dt.date) -> int:
    return (b.year - a.year) * 12 + b.month - a.month


def render(data: ReportData) -> str:
    """The report: one self-contained HTML page (UTF-8, zh-CN), from templates/report.html.j2."""
    return (
        _templates()
        .get_template("report.html.j2")
        .render(
            data=data,
            dimensions=DIMENSIONS,
            weights=WEIGHTS,
            trend_svg=Markup(trend_svg(data.trend, data.period)),
            config={"period": data.month, "datasets": len(data.datasets)},
        )
    )
