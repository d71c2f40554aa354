"""`ibrain quality-report` on the demo lake: the text summary, and the HTML page in Debian's
headless Chromium (key elements, the trend chart, no script errors, a screenshot)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

from quality.report import DatasetScores, ReportData, default_period, render, trend_svg
from quality.store import DIMENSIONS
from tests.conftest import lake_env
from tests.e2e.conftest import DemoLake
from tests.support.browser import require_chromium, run_chromium
from tests.support.cli import run_cli

IDS = ("overall-score", "dimension-scores", "trend", "failing-rules", "open-issues", "samples")
READY = re.compile(r'CONSOLE[^\]]*\] "quality report ready: (\d{4}-\d{2}), (\d+) datasets"')
OVERALL = re.compile(r"^overall score: (\d+\.\d\d) over (\d+) datasets$", re.M)
COUNTS = re.compile(r"^evaluations: (\d+); failing rules: (\d+); open issues: (\d+)$", re.M)


class ReportDom(HTMLParser):
    """The parts of the serialised DOM the tests look at."""

    def __init__(self, dom: str) -> None:
        super().__init__()
        self.ids: dict[str, str] = {}  # id -> tag
        self.attrs: dict[str, dict[str, str | None]] = {}  # id -> attributes
        self.dimensions: list[str] = []
        self.trend_paths: list[str] = []
        self.trend_points = 0
        self.issue_rows: list[str] = []
        self.sample_rows = 0
        self.ready = False
        self._open: list[list] = []  # [id, tag, nested same tags] of the open elements among IDS
        self.feed(dom)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "body":
            self.ready = a.get("data-ready") == "1"
        if self._open and self._open[-1][1] == tag:
            self._open[-1][2] += 1
        if a.get("id"):
            self.ids[a["id"] or ""] = tag
            self.attrs[a["id"] or ""] = a
            if a["id"] in IDS:
                self._open.append([a["id"], tag, 0])
        inside = self._open[-1][0] if self._open else None
        if inside == "dimension-scores" and "data-dimension" in a:
            self.dimensions.append(a["data-dimension"] or "")
        elif inside == "trend" and tag == "path":
            self.trend_paths.append(a.get("d") or "")
        elif inside == "trend" and tag == "circle":
            self.trend_points += 1
        elif inside == "open-issues" and tag == "tr" and "data-issue-id" in a:
            self.issue_rows.append(a["data-issue-id"] or "")
        elif inside == "samples" and tag == "tr" and "data-issue-id" in a:
            self.sample_rows += 1

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1][1] == tag:
            if self._open[-1][2]:
                self._open[-1][2] -= 1
            else:
                self._open.pop()


@dataclass
class Report:
    path: Path
    stdout: str


@pytest.fixture(scope="module")
def report(demo_lake: DemoLake, tmp_path_factory: pytest.TempPathFactory) -> Report:
    out = tmp_path_factory.mktemp("quality") / "report.html"
    proc = run_cli(["quality-report", "--out", str(out)], demo_lake.env)
    return Report(path=out, stdout=proc.stdout)


@pytest.mark.e2e
def test_summary_and_a_self_contained_page(report: Report, demo_lake: DemoLake) -> None:
    out = report.stdout
    assert f"report: {report.path}" in out, out
    month = re.search(r"^quality report for (\d{4}-\d{2}) ", out, re.M)
    overall = OVERALL.search(out)
    counts = COUNTS.search(out)
    assert month and overall and counts, out
    dims = next(line for line in out.splitlines() if line.startswith("dimensions: "))
    assert all(f"{d} " in dims for d in DIMENSIONS), dims
    assert int(counts.group(1)) > 0

    # the default month is the scorecard's latest up to this month; its overall score is the mean
    # of the datasets' overall scores
    tables = demo_lake.tables
    scorecard = tables.read("quality", "dq_scorecard").collect()
    this_month = dt.datetime.now(dt.UTC).date().replace(day=1)
    latest = max(r.period for r in scorecard if r.period <= this_month)
    assert month.group(1) == f"{latest:%Y-%m}"
    overall_rows = [r.score for r in scorecard if r.period == latest and r.dimension == "overall"]
    assert int(overall.group(2)) == len(overall_rows)
    assert float(overall.group(1)) == pytest.approx(sum(overall_rows) / len(overall_rows), abs=0.006)
    open_issues = tables.read("quality", "dq_issue").filter("status = 'open'").count()
    assert int(counts.group(3)) == open_issues

    page = report.path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in page
    assert '<meta charset="utf-8">' in page
    assert not re.search(r"""(?:src|href|action)\s*=\s*["']?(?:https?:)?//""", page), "external URL"
    assert "<link" not in page and "<script src" not in page and "@import" not in page
    assert "url(" not in page


@pytest.mark.e2e
def test_the_page_in_chromium(report: Report, demo_lake: DemoLake) -> None:
    require_chromium()
    shot = report.path.parent / "quality-report.png"
    dom_text, stderr = run_chromium(report.path.as_uri(), screenshot=shot)
    dom = ReportDom(dom_text)

    assert dom.ready, "the page's script did not finish"
    assert "Uncaught" not in stderr, stderr[-3000:]
    console = [line for line in stderr.splitlines() if ":CONSOLE" in line]
    assert console and all(READY.search(line) for line in console), console
    for element in IDS:
        assert element in dom.ids, f"#{element} missing"
    assert dom.ids["trend"] == "svg"
    assert sorted(dom.dimensions) == sorted(DIMENSIONS)
    assert dom.trend_paths and all(d.startswith("M") for d in dom.trend_paths), dom.trend_paths
    periods = {r.period for r in demo_lake.tables.read("quality", "dq_scorecard").collect()}
    assert dom.trend_points == len(periods)
    score = OVERALL.search(report.stdout).group(1)  # type: ignore[union-attr]
    assert float(dom.attrs["overall-score"]["data-score"] or "nan") == float(score)

    issues = demo_lake.tables.read("quality", "dq_issue").filter("status = 'open'").collect()
    assert sorted(dom.issue_rows) == sorted(r.issue_id for r in issues)
    if any(r.dataset.startswith(("silver.", "bronze.")) for r in issues):
        assert dom.sample_rows > 0, "open silver/bronze issues but no quarantine samples"

    assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 10_000, shot.stat().st_size


@pytest.mark.e2e
def test_default_path_and_a_given_month(demo_lake: DemoLake) -> None:
    proc = run_cli(["quality-report", "--period", "2024-03"], demo_lake.env)
    expected = Path(demo_lake.env["IBRAIN_LAKE_ROOT"]).parent / "quality" / "quality-report-2024-03.html"
    assert f"report: {expected}" in proc.stdout, proc.stdout
    assert "quality report for 2024-03 " in proc.stdout
    assert 'data-period="2024-03"' in expected.read_text(encoding="utf-8")

    unknown = run_cli(["quality-report", "--period", "2019-01"], demo_lake.env, check=False)
    assert unknown.returncode == 1 and "no quality scores for 2019-01" in unknown.stderr, unknown.stderr
    malformed = run_cli(["quality-report", "--period", "2024-3"], demo_lake.env, check=False)
    assert malformed.returncode == 1 and "YYYY-MM" in malformed.stderr, malformed.stderr


@pytest.mark.e2e
def test_a_lake_without_quality_tables(tmp_path: Path) -> None:
    proc = run_cli(["quality-report"], lake_env(tmp_path), check=False)
    assert proc.returncode == 1, proc.stdout
    assert "run the pipeline first" in proc.stderr, proc.stderr


# -- rendering alone (no lake) ---------------------------------------------------------------------
def test_default_month_and_a_trend_with_a_gap() -> None:
    d = dt.date
    months = [d(2024, 1, 1), d(2024, 2, 1), d(2024, 6, 1), d(2030, 12, 1)]
    assert default_period(months, d(2024, 7, 15)) == d(2024, 6, 1)
    assert default_period(months, d(2023, 1, 1)) == d(2030, 12, 1)  # only future months: the latest
    svg = trend_svg([(d(2024, 1, 1), 99.5), (d(2024, 2, 1), 98.0), (d(2024, 6, 1), 97.25)], d(2024, 2, 1))
    assert svg.startswith('<svg id="trend"') and svg.count("<circle") == 3
    [path] = re.findall(r'<path class="line" d="([^"]+)"', svg)
    assert path.count("M") == 2 and path.count("L") == 1  # the line breaks over March–May
    assert svg.count('class="gap"') == 1 and 'class="pt sel"' in svg


def test_the_page_escapes_what_it_shows() -> None:
    hostile = '<script>alert(1)</script> & "quoted"'
    data = ReportData(
        period=dt.date(2024, 3, 1),
        periods=[dt.date(2024, 3, 1)],
        overall=97.5,
        dimensions={d: (97.5 if d == "准确性" else None) for d in DIMENSIONS},
        trend=[(dt.date(2024, 3, 1), 97.5)],
        datasets=[DatasetScores("silver.x", hostile, 97.5, {"准确性": 97.5}, 1, 0)],
        evaluations=1,
        failing_total=1,
        failing=[
            {
                "dataset": "silver.x",
                "rule_id": "r1",
                "dimension": "准确性",
                "severity": "ERROR",
                "source": "quarantine",
                "threshold": 0.99,
                "a_passed": 39,
                "b_checked": 40,
                "x_ratio": 0.975,
                "passed": False,
                "worst_x": 0.975,
                "batches": 1,
                "failing_batches": ["b1"],
                "failing_sample": hostile,
            }
        ],
        open_issues=[],
        samples=[],
    )
    page = render(data)
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("<script") == 2  # the page's own: its JSON config and its code
    assert 'id="overall-score"' in page and 'data-score="97.5"' in page
    assert page.count("data-dimension=") == len(DIMENSIONS)
    assert 'data-rule="silver.x:r1"' in page and "没有未关闭的质量问题" in page
