"""The generated pages (data map, quality report) show hostile text as text: escaped in the HTML,
and inert in the inline JSON a script reads."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from html.parser import HTMLParser

from catalog import load_catalog
from catalog.datamap import render_datamap
from catalog.lineage import Lineage
from quality import report
from quality.report import DatasetScores, ReportData, render
from quality.store import DIMENSIONS

HOSTILE = "</script><script>alert(1)</script>\"><img src=x onerror=alert(2)> & 'q'"
ESCAPED = (
    "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img src=x onerror=alert(2)&gt; "
    "&amp; &#39;q&#39;"
)
TABLE = "gold.dim_region"


class Page(HTMLParser):
    """Tags, the text of elements with a class or id, and the bodies of the script elements."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[dict[str, str | None]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.texts: list[str] = []
        self._script: dict[str, str | None] | None = None
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.append(dict(attrs))
        if tag == "script":
            self._script = dict(attrs)
            self.scripts.append((self._script, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            attrs, body = self.scripts[-1]
            self.scripts[-1] = (attrs, body + data)
        else:
            self.texts.append(data)


def _assert_shown_as_text(page: str, expected_texts: int, escaped: int, scripts: int) -> Page:
    parsed = Page(page)
    assert "img" not in parsed.tags
    assert parsed.tags.count("script") == scripts  # the page's own, none injected
    assert not [a for a in parsed.attrs if any(k.startswith("on") for k in a)], "event handler attribute"
    assert sum(t.count(HOSTILE) for t in parsed.texts) == expected_texts  # shown whole, as text
    assert page.count(ESCAPED) == escaped  # the texts, and attribute values holding it
    return parsed


def test_the_data_map_escapes_contract_text_and_findings() -> None:
    contract = load_catalog()[TABLE]
    columns = (dataclasses.replace(contract.columns[0], name_zh=HOSTILE), *contract.columns[1:])
    hostile = dataclasses.replace(contract, description=HOSTILE, owner=HOSTILE, columns=columns)
    catalog = {**load_catalog(), TABLE: hostile}

    @dataclasses.dataclass
    class Finding:
        table: str

        def __str__(self) -> str:
            return HOSTILE

    page = render_datamap(
        catalog,
        Lineage(tables={TABLE: set()}),
        [Finding(TABLE)],
        generated_at=dt.datetime(2025, 2, 14, tzinfo=dt.UTC),
    )
    # shown: description, owner, the column's Chinese name, the finding; and the entry's search
    # text (an attribute) holds the description and the column name
    parsed = _assert_shown_as_text(page, expected_texts=4, escaped=6, scripts=1)
    [entry] = [a for a in parsed.attrs if a.get("id") == f"ds-{TABLE}"]
    assert (entry["data-search"] or "").count(HOSTILE) == 2
    # the data map puts no data into its script: the script is the same whatever the contracts say
    plain = render_datamap(load_catalog(), Lineage(tables={}), [], generated_at=dt.datetime(2025, 1, 1))
    assert parsed.scripts == Page(plain).scripts


def _report_data() -> ReportData:
    return ReportData(
        period=dt.date(2024, 3, 1),
        periods=[dt.date(2024, 3, 1)],
        overall=97.5,
        dimensions={d: None for d in DIMENSIONS},
        trend=[(dt.date(2024, 3, 1), 97.5)],
        datasets=[DatasetScores("silver.x", HOSTILE, 97.5, {}, 1, 0)],
        evaluations=1,
        failing_total=0,
        failing=[],
        open_issues=[
            {
                "issue_id": "i1",
                "dataset": "silver.x",
                "rule_id": "r1",
                "dimension": "准确性",
                "severity": "ERROR",
                "owner": HOSTILE,
                "first_seen": None,
                "last_seen": None,
                "affected_rows": 3,
                "failing_periods": "2024-03",
                "failing_batches": "",
                "reopened_count": 0,
                "sample_rows": HOSTILE,
            }
        ],
        samples=[
            {
                "issue_id": "i1",
                "table": "quarantine.silver_x",
                "period": dt.date(2024, 3, 1),
                "rule_id": "r1",
                "reason": "bad value",
                "source_file": "landing/x/a.csv",
                "row_number": 7,
                "batch_id": "b1",
                "raw": HOSTILE,
            }
        ],
        generated_at=dt.datetime(2024, 4, 1, tzinfo=dt.UTC),
    )


def test_the_quality_report_escapes_names_owners_and_sample_values() -> None:
    page = render(_report_data())
    # the dataset's Chinese name, the issue's owner and sample, the quarantined raw row
    parsed = _assert_shown_as_text(page, expected_texts=4, escaped=4, scripts=2)
    [(attrs, body)] = [s for s in parsed.scripts if s[0].get("type") == "application/json"]
    assert attrs["id"] == "report-config"
    assert json.loads(body) == {"period": "2024-03", "datasets": 1}


def test_the_report_config_json_keeps_a_hostile_string_inert() -> None:
    """The report's inline JSON goes through ``|tojson``: a string that would end the script element
    in plain JSON is written with <, >, & and ' as \\u escapes, and reads back unchanged."""
    template = report._templates().get_template("report.html.j2")
    page = template.render(
        data=_report_data(),
        dimensions=DIMENSIONS,
        weights=report.WEIGHTS,
        trend_svg="",
        config={"period": HOSTILE, "datasets": 1},
    )
    parsed = Page(page)
    assert parsed.tags.count("script") == 2 and "img" not in parsed.tags
    [(_, body)] = [s for s in parsed.scripts if s[0].get("id") == "report-config"]
    assert json.loads(body) == {"period": HOSTILE, "datasets": 1}
    assert not re.search(r"[<>&']", body), body
    assert "\\u003c/script\\u003e" in body
