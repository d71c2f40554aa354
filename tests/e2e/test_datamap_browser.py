"""The data map (数据地图) in a real browser: `ibrain catalog build` on the demo lake, opened in
Debian's headless Chromium with a search in the URL; and `ibrain catalog show` in the terminal."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest

from catalog import load_catalog
from catalog.datamap import NO_SCORE, render_datamap
from catalog.lineage import Lineage
from tests.e2e.conftest import DemoLake
from tests.support.browser import require_chromium, run_chromium
from tests.support.cli import run_cli

READY = re.compile(r'CONSOLE[^\]]*\] "datamap ready: (\d+) of (\d+) datasets shown"')


@dataclass
class Entry:
    hidden: bool
    search: str
    upstream: list[tuple[str, str]] = field(default_factory=list)  # (text, href)
    downstream: list[tuple[str, str]] = field(default_factory=list)


class DataMapDom(HTMLParser):
    """The parts of the serialised DOM the tests look at."""

    def __init__(self, dom: str) -> None:
        super().__init__()
        self.entries: dict[str, Entry] = {}
        self.order: list[str] = []
        self.ids: set[str] = set()
        self.hrefs: list[str] = []
        self.match_count = ""
        self.search_value: str | None = None
        self.ready = False
        self._entry: str | None = None
        self._list: str | None = None
        self._link: str | None = None
        self._in_count = False
        self.feed(dom)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if a.get("id"):
            self.ids.add(a["id"] or "")
        if tag == "body":
            self.ready = a.get("data-ready") == "1"
        elif tag == "article" and "dataset" in classes:
            self._entry = a["id"]
            self.order.append(a["id"] or "")
            self.entries[a["id"] or ""] = Entry(hidden="hidden" in a, search=a.get("data-search") or "")
        elif tag == "ul" and {"upstream", "downstream"} & set(classes):
            self._list = "upstream" if "upstream" in classes else "downstream"
        elif tag == "a":
            self.hrefs.append(a.get("href") or "")
            if self._list:
                self._link = a.get("href") or ""
        elif tag == "span" and a.get("id") == "match-count":
            self._in_count = True
        elif tag == "input" and a.get("id") == "search":
            self.search_value = a.get("value")

    def handle_endtag(self, tag: str) -> None:
        if tag == "ul":
            self._list = None
        elif tag == "article":
            self._entry = None
        elif tag == "a":
            self._link = None
        elif tag == "span":
            self._in_count = False

    def handle_data(self, data: str) -> None:
        if self._in_count:
            self.match_count += data.strip()
        if self._link is not None and self._entry and self._list:
            getattr(self.entries[self._entry], self._list).append((data.strip(), self._link))

    def visible(self) -> list[str]:
        return [i for i in self.order if not self.entries[i].hidden]


@dataclass
class BuiltMap:
    index: Path
    stdout: str


@pytest.fixture(scope="session")
def chromium() -> str:
    return require_chromium()


@pytest.fixture(scope="module")
def built(demo_lake: DemoLake, tmp_path_factory: pytest.TempPathFactory) -> BuiltMap:
    out = tmp_path_factory.mktemp("datamap")
    proc = run_cli(["catalog", "build", "--out", str(out)], demo_lake.env)
    return BuiltMap(index=out / "index.html", stdout=proc.stdout)


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def assert_no_js_errors(stderr: str) -> re.Match[str]:
    """No uncaught error, and the page's only console message is its ready line, once per page
    load (console.error and uncaught errors both reach stderr as CONSOLE lines, so any other one
    is a failure)."""
    assert "Uncaught" not in stderr, stderr[-3000:]
    lines = console_lines(stderr)
    ready = [READY.search(line) for line in lines]
    assert ready and all(ready), lines
    assert len({m.groups() for m in ready if m}) == 1, lines
    return ready[0]  # type: ignore[return-value]


@pytest.mark.e2e
def test_build_writes_a_self_contained_map(built: BuiltMap) -> None:
    assert "grading findings: 0" in built.stdout, built.stdout
    assert f"data map: {built.index}" in built.stdout
    assert re.search(r"OpenLineage events: \d+ → ", built.stdout), built.stdout
    page = built.index.read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page and '<meta charset="utf-8">' in page
    assert not re.search(r"""(?:src|href|action)\s*=\s*["']?(?:https?:)?//""", page), "external URL"
    assert "<link" not in page and "<script src" not in page and "@import" not in page
    assert 'id="ds-gold.fct_enterprise_month"' in page and 'id="ds-landing.gov_stats_monthly"' in page
    # each entry names the code that writes the table
    entry = page.split('id="ds-silver.purchase_order"', 1)[1].split("</article>", 1)[0]
    assert '<code class="code-path">transforms/silver/entities/purchase_order.py</code>' in entry


@pytest.mark.e2e
def test_search_from_the_url_filters_the_map_in_chromium(chromium: str, built: BuiltMap) -> None:
    query = "fct_enterprise_month"
    shot = built.index.parent / "datamap.png"
    dom_text, stderr = run_chromium(f"{built.index.as_uri()}?q={query}", screenshot=shot)
    dom = DataMapDom(dom_text)

    assert dom.ready, "the page's script did not finish"
    assert dom.search_value == query
    fact = dom.entries["ds-gold.fct_enterprise_month"]
    assert not fact.hidden
    assert dom.entries["ds-bronze.ind_prices"].hidden
    assert dom.entries["ds-landing.ind_prices"].hidden
    visible = dom.visible()
    assert visible[0] == "ds-gold.fct_enterprise_month", "the named table comes first"
    assert int(dom.match_count) == len(visible) < len(dom.entries)
    for name, entry in dom.entries.items():
        assert entry.hidden == (query not in entry.search), name

    assert ("silver.enterprise_month_stats", "#ds-silver.enterprise_month_stats") in fact.upstream
    assert ("theme.economic_operation_month", "#ds-theme.economic_operation_month") in fact.downstream
    theme = dom.entries["ds-theme.economic_operation_month"]
    assert ("gold.fct_enterprise_month", "#ds-gold.fct_enterprise_month") in theme.upstream
    internal = [h[1:] for h in dom.hrefs if h.startswith("#")]
    assert internal and not [h for h in internal if h not in dom.ids], "links to missing entries"

    ready = assert_no_js_errors(stderr)
    assert int(ready.group(1)) == len(visible) and int(ready.group(2)) == len(dom.entries)
    assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 10_000, shot.stat().st_size


@pytest.mark.e2e
def test_chinese_search_and_layer_facet_from_the_url(chromium: str, built: BuiltMap) -> None:
    dom_text, stderr = run_chromium(f"{built.index.as_uri()}?q={quote('菱镁')}&layer=topic")
    dom = DataMapDom(dom_text)
    assert_no_js_errors(stderr)
    assert dom.search_value == "菱镁"
    assert dom.visible() == ["ds-topic.magnesite_price_output_month"]
    assert dom.match_count == "1"


@pytest.mark.e2e
def test_catalog_show_prints_an_entry(built: BuiltMap, demo_lake: DemoLake) -> None:
    out = run_cli(["catalog", "show", "gold.fct_enterprise_month"], demo_lake.env).stdout
    assert "企业月度经营事实表" in out
    upstream = next(line for line in out.splitlines() if line.startswith("upstream"))
    assert "silver.enterprise_month_stats" in upstream
    assert "masking=round_10k" in out
    # the build compiled the dbt project, so column lineage is shown
    assert "← silver.enterprise_month_stats.gross_output" in out


@pytest.mark.e2e
def test_catalog_show_rejects_an_unknown_table(demo_lake: DemoLake) -> None:
    proc = run_cli(["catalog", "show", "gold.nope"], demo_lake.env, check=False)
    assert proc.returncode != 0
    assert "gold.nope" in proc.stderr and "fct_enterprise_month" in proc.stderr, proc.stderr
    proc = run_cli(["catalog", "show", "gold.fct_enterprse_month"], demo_lake.env, check=False)
    assert proc.returncode != 0 and "did you mean gold.fct_enterprise_month" in proc.stderr, proc.stderr


def test_scores_and_findings_are_rendered() -> None:
    """Rendering alone (no lake): a given score, the no-score text, and a grading finding."""

    @dataclass
    class Finding:
        table: str

        def __str__(self) -> str:
            return f"{self.table}.revenue: lower than its inputs"

    lineage = Lineage(tables={"gold.fct_enterprise_month": {"silver.enterprise_month_stats"}})
    page = render_datamap(
        load_catalog(),
        lineage,
        [Finding("gold.fct_enterprise_month")],
        {"gold.fct_enterprise_month": {"score": 97.5, "period": "2025-01-01"}},
        generated_at=dt.datetime(2025, 2, 14, tzinfo=dt.UTC),
    )
    entry = page.split('id="ds-gold.fct_enterprise_month"', 1)[1].split("</article>", 1)[0]
    assert "97.5（2025-01-01）" in entry and NO_SCORE not in entry
    assert "gold.fct_enterprise_month.revenue: lower than its inputs" in entry
    assert "WHERE period = DATE &#39;2025-01-01&#39;" in entry
    other = page.split('id="ds-gold.dim_region"', 1)[1].split("</article>", 1)[0]
    assert NO_SCORE in other
    assert 'id="findings-banner"' in page and "1 项发现" in page


@pytest.mark.integration
def test_read_scores_takes_the_latest_overall_score(tmp_lake) -> None:
    import pyarrow as pa
    from deltalake import write_deltalake

    from catalog.datamap import read_scores

    assert read_scores(tmp_lake) == {}  # quality.dq_scorecard not built yet
    d = dt.date
    rows = [
        ("gold.fct_enterprise_month", d(2024, 12, 1), "overall", 91.0),
        ("gold.fct_enterprise_month", d(2025, 1, 1), "overall", 97.5),
        ("gold.fct_enterprise_month", d(2025, 1, 1), "完整性", 80.0),
        ("silver.product", d(2024, 12, 1), "overall", 88.25),
    ]
    table = pa.table(
        {
            "dataset": [r[0] for r in rows],
            "period": pa.array([r[1] for r in rows], pa.date32()),
            "dimension": [r[2] for r in rows],
            "score": [r[3] for r in rows],
        }
    )
    write_deltalake(tmp_lake.lake.table_uri("quality", "dq_scorecard"), table)
    assert read_scores(tmp_lake) == {
        "gold.fct_enterprise_month": {"score": 97.5, "period": "2025-01-01"},
        "silver.product": {"score": 88.25, "period": "2024-12-01"},
    }
