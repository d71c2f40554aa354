"""The data-quality report (质量分析报告): one self-contained HTML page from the quality tables.

:func:`gather` reads ``quality.dq_scorecard``, ``quality.dq_result`` and ``quality.dq_issue``
(plus quarantine rows as samples for the open issues) for one month; :func:`render` turns that
into a page with inline CSS, JS and an SVG trend drawn here — no external URL, so the file can be
mailed or archived as is. ``ibrain quality-report`` writes it and prints :func:`summary_lines`.

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
import html
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql import Window
from pyspark.sql import functions as F

from catalog import load_catalog
from catalog.tables import LakeTables
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
def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _attr(score: float | None) -> str:
    return "" if score is None else str(score)


def _band(score: float | None) -> str:
    if score is None:
        return "na"
    return "good" if score >= 99 else "fair" if score >= 95 else "poor"


def _score_cell(score: float | None) -> str:
    return f'<td class="num {_band(score)}" data-sort="{-1 if score is None else score}">{_fmt(score)}</td>'


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

    def x(i: int) -> float:
        return left + (plot_w / 2 if len(trend) == 1 else plot_w * i / (len(trend) - 1))

    def y(score: float) -> float:
        return top + plot_h * (high - score) / span

    parts = [
        f'<svg id="trend" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="trend-title">',
        '<title id="trend-title">各月整体质量评分趋势</title>',
    ]
    step = 5.0 if span > 10 else 2.0 if span > 4 else 1.0
    tick = high
    while tick >= low - 1e-9:
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>'
            f'<text class="axis" x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:g}</text>'
        )
        tick -= step
    label_every = max(1, (len(trend) + 11) // 12)
    for i, (p, _) in enumerate(trend):
        if i % label_every == 0 or i == len(trend) - 1:
            parts.append(
                f'<text class="axis" x="{x(i):.1f}" y="{height - bottom + 18}" '
                f'text-anchor="middle">{p:%Y-%m}</text>'
            )
    if trend:
        steps = []
        for i, (p, s) in enumerate(trend):
            gap = i > 0 and _months_between(trend[i - 1][0], p) > 1
            if gap:
                parts.append(
                    f'<line class="gap" x1="{x(i - 1):.1f}" y1="{y(trend[i - 1][1]):.1f}" '
                    f'x2="{x(i):.1f}" y2="{y(s):.1f}"><title>中间月份无评分</title></line>'
                )
            steps.append(f"{'M' if i == 0 or gap else 'L'}{x(i):.1f},{y(s):.1f}")
        parts.append(f'<path class="line" d="{" ".join(steps)}"/>')
        for i, (p, s) in enumerate(trend):
            cls = "pt sel" if p == selected else "pt"
            parts.append(
                f'<circle class="{cls}" cx="{x(i):.1f}" cy="{y(s):.1f}" r="{5 if p == selected else 3.5}" '
                f'data-period="{p:%Y-%m}" data-score="{s}"><title>{p:%Y-%m}：{s:.2f}</title></circle>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _months_between(a: dt.date, b: dt.date) -> int:
    return (b.year - a.year) * 12 + b.month - a.month


def _dimension_cards(data: ReportData) -> str:
    cards = []
    for d in DIMENSIONS:
        score = data.dimensions[d]
        cards.append(
            f'<div class="card dim {_band(score)}" data-dimension="{_e(d)}" data-score="{_attr(score)}">'
            f'<div class="label">{_e(d)} <span class="w">权重 {WEIGHTS[d]:.2f}</span></div>'
            f'<div class="value">{_fmt(score)}</div></div>'
        )
    return "".join(cards)


def _dataset_table(data: ReportData) -> str:
    head = "".join(f'<th class="num sortable">{_e(d)}</th>' for d in DIMENSIONS)
    rows = []
    for ds in data.datasets:
        cells = "".join(_score_cell(ds.dimensions.get(d)) for d in DIMENSIONS)
        rows.append(
            f'<tr data-dataset="{_e(ds.dataset)}"><td class="ds"><code>{_e(ds.dataset)}</code>'
            f'<div class="zh">{_e(ds.name_zh)}</div></td>{cells}{_score_cell(ds.overall)}'
            f'<td class="num" data-sort="{ds.rules_passed}">{ds.rules_passed}/{ds.rules}</td></tr>'
        )
    body = "".join(rows) or f'<tr><td colspan="{len(DIMENSIONS) + 3}" class="empty">本月无评分</td></tr>'
    return (
        '<table id="dataset-scores" class="sortable-table"><thead><tr><th class="sortable">数据集</th>'
        f'{head}<th class="num sortable">综合</th><th class="num sortable">通过/规则</th></tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


_LANDING_PREFIX = re.compile(r"[^\s'\"(]*?/(landing/)")


def short_paths(text: str) -> str:
    """Landing paths without the lake root (``/…/lake/landing/x`` → ``landing/x``), for reading."""
    return _LANDING_PREFIX.sub(r"\1", text)


def _sample_text(text: str | None, lines: int = 3) -> str:
    items = [short_paths(x) for x in (text or "").splitlines() if x.strip()]
    shown = "".join(f"<li>{_e(x)}</li>" for x in items[:lines])
    more = f'<li class="more">…另 {len(items) - lines} 条</li>' if len(items) > lines else ""
    return f'<ul class="sample">{shown}{more}</ul>' if items else '<span class="muted">—</span>'


def _batches_cell(r: dict[str, Any]) -> str:
    failing = r["failing_batches"]
    if not failing:
        return f'<td class="num">{r["batches"] or ""}</td>'
    shown = "<br>".join(f"<code>{_e(b)}</code>" for b in failing[:3])
    more = f"<br>…另 {len(failing) - 3} 个" if len(failing) > 3 else ""
    return f'<td class="batches">{len(failing)}/{r["batches"]} 不合格<br>{shown}{more}</td>'


def _failing_table(data: ReportData) -> str:
    rows = []
    for r in data.failing:
        x_class = "poor" if r["x_ratio"] < r["threshold"] else "fair"
        rows.append(
            f'<tr data-rule="{_e(r["dataset"])}:{_e(r["rule_id"])}">'
            f"<td><code>{_e(r['dataset'])}</code></td><td><code>{_e(r['rule_id'])}</code></td>"
            f'<td class="nw">{_e(r["dimension"])}</td><td><span class="sev {_e(r["severity"]).lower()}">'
            f"{_e(r['severity'])}</span></td><td>{_e(r['source'])}</td>"
            f'<td class="num">{r["a_passed"]:,}</td><td class="num">{r["b_checked"]:,}</td>'
            f'<td class="num {x_class}">{r["x_ratio"]:.4f}</td>'
            f'<td class="num poor">{r["worst_x"]:.4f}</td><td class="num">{r["threshold"]:.4f}</td>'
            f"{_batches_cell(r)}<td>{_sample_text(r['failing_sample'])}</td></tr>"
        )
    body = "".join(rows) or '<tr><td colspan="12" class="empty">本月所有规则均达到阈值。</td></tr>'
    note = (
        f'<p class="hint">共 {data.failing_total} 条未达阈值，按最低 X 升序'
        f"列出前 {len(data.failing)} 条。</p>"
        if data.failing_total > len(data.failing)
        else ""
    )
    return (
        '<table id="failing-rules"><thead><tr><th>数据集</th><th>规则</th><th>维度</th><th>严重程度</th>'
        '<th>来源</th><th class="num">A 通过</th><th class="num">B 检查</th><th class="num">X=A/B</th>'
        '<th class="num">最低 X</th><th class="num">阈值</th><th>批次</th><th>不合格样例</th></tr></thead>'
        f"<tbody>{body}</tbody></table>{note}"
    )


def _ts(value: dt.datetime | None) -> str:
    return "—" if value is None else f"{value:%Y-%m-%d %H:%M}"


def _issues_table(data: ReportData) -> str:
    rows = []
    for r in data.open_issues:
        months = (r["failing_periods"] or "").replace(",", ", ")
        here = ' class="this-month"' if data.month in (r["failing_periods"] or "").split(",") else ""
        failing_batches = [b for b in (r.get("failing_batches") or "").split(",") if b]
        batches = (
            '<div class="muted">批次 '
            + ", ".join(f"<code>{_e(b)}</code>" for b in failing_batches)
            + "</div>"
            if failing_batches
            else ""
        )
        rows.append(
            f'<tr data-issue-id="{_e(r["issue_id"])}"{here}>'
            f'<td><code>{_e(r["dataset"])}</code><br><code class="rule">{_e(r["rule_id"])}</code></td>'
            f'<td class="nw">{_e(r["dimension"])}</td><td><span class="sev {_e(r["severity"]).lower()}">'
            f"{_e(r['severity'])}</span></td><td>{_e(r['owner'])}</td>"
            f"<td>{_ts(r['first_seen'])}</td><td>{_ts(r['last_seen'])}</td>"
            f'<td class="num">{r["affected_rows"]:,}</td><td class="months">{_e(months)}{batches}</td>'
            f'<td class="num">{r["reopened_count"]}</td><td>{_sample_text(r["sample_rows"])}</td></tr>'
        )
    body = "".join(rows) or '<tr><td colspan="10" class="empty">没有未关闭的质量问题。</td></tr>'
    return (
        '<table id="open-issues"><thead><tr><th>数据集 / 规则</th><th>维度</th><th>严重程度</th>'
        '<th>责任方</th><th>首次发现</th><th>最近发现</th><th class="num">影响行数</th>'
        '<th>不合格月份</th><th class="num">重开</th><th>样例</th></tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def _samples_table(data: ReportData) -> str:
    rows = []
    for s in data.samples:
        reason, where = short_paths(s["reason"] or ""), short_paths(s["source_file"] or "")
        rows.append(
            f'<tr data-issue-id="{_e(s["issue_id"])}"><td><code>{_e(s["table"])}</code></td>'
            f"<td>{_e(s['period'])}</td><td><code>{_e(s['rule_id'])}</code></td><td>{_e(reason)}</td>"
            f'<td class="src"><code>{_e(where)}</code> 第 {_e(s["row_number"])} 行'
            f'<br><span class="muted">批次 {_e(s["batch_id"])}</span></td>'
            f'<td><code class="raw">{_e(s["raw"])}</code></td></tr>'
        )
    empty = "没有隔离区样例（没有涉及贴源层或标准层的未关闭问题）。"
    body = "".join(rows) or f'<tr><td colspan="6" class="empty">{empty}</td></tr>'
    return (
        '<table id="samples"><thead><tr><th>隔离表</th><th>报告期</th><th>规则</th><th>原因</th>'
        f"<th>来源文件</th><th>原始行</th></tr></thead><tbody>{body}</tbody></table>"
    )


def render(data: ReportData) -> str:
    """The report: one self-contained HTML page (UTF-8, zh-CN)."""
    stamp = data.generated_at.strftime("%Y-%m-%d %H:%M UTC")
    weights = "、".join(f"{d} {w:.2f}" for d, w in WEIGHTS.items())
    # JSON inside <script>: no HTML escaping there, only "<" kept out so it cannot close the element
    config = json.dumps({"period": data.month, "datasets": len(data.datasets)}).replace("<", "\\u003c")
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="ibrain quality-report">
<title>数据质量报告 {data.month} · 产业大脑 产业数据仓</title>
<style>{_CSS}</style>
</head>
<body data-period="{data.month}">
<header class="top">
<h1>数据质量报告 <small>{data.month} · 产业大脑 产业数据仓 · GB/T 36344 / DCMM 数据质量</small></h1>
<p class="meta">生成于 {_e(stamp)} · 由 <code>ibrain quality-report</code> 从 quality.dq_scorecard、
quality.dq_result、quality.dq_issue 生成 · 有评分的月份 {len(data.periods)} 个
（{data.periods[0]:%Y-%m} … {data.periods[-1]:%Y-%m}）</p>
</header>
<main>
<section class="summary">
<div class="card overall {_band(data.overall)}" id="overall-score" data-score="{_attr(data.overall)}">
<div class="label">整体评分</div><div class="value">{_fmt(data.overall)}</div>
<div class="sub">{len(data.datasets)} 个数据集 · {data.evaluations} 次规则检查 ·
{data.failing_total} 条未达阈值 · {len(data.open_issues)} 个未关闭问题</div>
</div>
<div id="dimension-scores" class="dims">{_dimension_cards(data)}</div>
</section>
<section><h2>整体评分趋势</h2>
<div class="chart">{trend_svg(data.trend, data.period)}</div></section>
<section><h2>数据集 × 维度评分（{data.month}）</h2>{_dataset_table(data)}</section>
<section><h2>未达阈值的规则（{data.month}，X 最低在前）</h2>{_failing_table(data)}</section>
<section><h2>未关闭的质量问题</h2>
<p class="hint">全部开放问题；本月不合格的问题以浅色底标出。问题在重新检查全部通过后自动关闭。</p>
{_issues_table(data)}</section>
<section><h2>隔离区样例</h2>{_samples_table(data)}</section>
<section class="method"><h2>计算口径</h2>
<ul>
<li>规则指标 X = A / B（A 通过行数，B 检查行数），X 不低于阈值为通过；每条规则取本月最新一次检查。</li>
<li>数据集维度评分 = 100 × 该维度规则 X 的平均；数据集综合评分 = 各维度评分加权平均
（权重 {weights}，按已检查维度重新归一）。</li>
<li>本页维度评分 = 本月各数据集该维度评分的平均；整体评分 = 本月各数据集综合评分的平均；
趋势为各月整体评分。</li>
<li>评分带：≥ 99 良好，95–99 关注，&lt; 95 较差。</li>
</ul></section>
</main>
<script id="report-config" type="application/json">{config}</script>
<script>{_JS}</script>
</body>
</html>
"""


_CSS = """
:root { --fg: #1f2933; --muted: #616e7c; --line: #d9e2ec; --bg: #f5f7fa; --accent: #0b69a3;
  --good: #1f6f43; --fair: #8d5b0b; --poor: #b42318; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: var(--bg); font: 14px/1.55 system-ui, -apple-system,
  "Segoe UI", "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12.5px; }
header.top { background: #102a43; color: #f0f4f8; padding: 14px 24px; }
header.top h1 { margin: 0; font-size: 22px; } header.top small { font-size: 14px; color: #9fb3c8; }
header.top .meta { margin: 4px 0 0; color: #bcccdc; } header.top code { color: #f0f4f8; }
main { padding: 16px 24px 32px; max-width: 1500px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px;
  margin-bottom: 14px; overflow-x: auto; }
h2 { margin: 0 0 8px; font-size: 17px; }
.summary { display: flex; gap: 14px; flex-wrap: wrap; align-items: stretch; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; background: #fafcfe; }
.card .label { color: var(--muted); font-size: 13px; } .card .w { font-size: 11px; }
.card .value { font-size: 26px; font-weight: 700; }
.card.overall { min-width: 260px; } .card.overall .value { font-size: 44px; }
.card .sub { color: var(--muted); font-size: 12.5px; }
.dims { display: grid; grid-template-columns: repeat(6, minmax(110px, 1fr)); gap: 10px; flex: 1; }
.good .value, td.good { color: var(--good); } .fair .value, td.fair { color: var(--fair); }
.poor .value, td.poor { color: var(--poor); } .na .value, td.na { color: var(--muted); }
.card.good { border-top: 4px solid var(--good); } .card.fair { border-top: 4px solid #f0b429; }
.card.poor { border-top: 4px solid var(--poor); } .card.na { border-top: 4px solid var(--line); }
.chart svg { max-width: 100%; height: auto; }
svg .grid { stroke: #e4e7eb; stroke-width: 1; } svg .axis { fill: var(--muted); font-size: 11px; }
svg .line { fill: none; stroke: var(--accent); stroke-width: 2.5; }
svg .gap { stroke: var(--accent); stroke-width: 1.5; stroke-dasharray: 4 4; opacity: .6; }
svg .pt { fill: #fff; stroke: var(--accent); stroke-width: 2; } svg .pt.sel { fill: var(--accent); }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); text-align: left; padding: 4px 8px; vertical-align: top; }
th { background: #f0f4f8; font-weight: 600; white-space: nowrap; }
th.sortable { cursor: pointer; } th.sortable:hover { color: var(--accent); }
th.sorted-asc::after { content: " ▲"; } th.sorted-desc::after { content: " ▼"; }
.nw { white-space: nowrap; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
td.ds .zh { color: var(--muted); font-size: 12px; }
.sev { display: inline-block; font-size: 11.5px; font-weight: 600; padding: 0 6px; border-radius: 4px; }
.sev.error { background: #ffe3e3; color: #a61b1b; } .sev.warn { background: #fff3c4; color: #8d2b0b; }
ul.sample { margin: 0; padding-left: 16px; font-size: 12px; word-break: break-all; }
ul.sample .more { list-style: none; color: var(--muted); }
tr.this-month { background: #fffbea; }
td.months { max-width: 220px; font-size: 12px; } td.batches { font-size: 12px; white-space: nowrap; }
code.raw { font-size: 11.5px; word-break: break-all; } td.src { font-size: 12px; word-break: break-all; }
.muted, .hint, .empty { color: var(--muted); } .hint { font-size: 12.5px; margin: 4px 0; }
.method ul { margin: 0; padding-left: 18px; color: #334e68; }
@media (max-width: 1000px) { .dims { grid-template-columns: repeat(3, 1fr); } }
"""

_JS = r"""
(function () {
  "use strict";
  // Click a column header of the dataset table to sort by it (again: reverse).
  document.querySelectorAll("table.sortable-table").forEach(function (table) {
    const heads = Array.from(table.querySelectorAll("th"));
    heads.forEach(function (th, col) {
      th.addEventListener("click", function () {
        const desc = !th.classList.contains("sorted-desc");
        heads.forEach(function (h) { h.classList.remove("sorted-asc", "sorted-desc"); });
        th.classList.add(desc ? "sorted-desc" : "sorted-asc");
        const body = table.tBodies[0];
        const rows = Array.from(body.rows).filter(function (r) { return r.cells.length > 1; });
        const key = function (row) {
          const cell = row.cells[col];
          const n = cell.dataset.sort;
          return n === undefined ? cell.textContent.trim() : parseFloat(n);
        };
        rows.sort(function (a, b) {
          const x = key(a), y = key(b);
          const c = typeof x === "number" ? x - y : String(x).localeCompare(String(y));
          return desc ? -c : c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  const config = JSON.parse(document.getElementById("report-config").textContent);
  document.body.dataset.ready = "1";
  console.log("quality report ready: " + config.period + ", " + config.datasets + " datasets");
})();
"""
