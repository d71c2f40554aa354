"""The brief's page from hand-made figures (no lake): numbers as shown, names escaped, charts as
inline SVG with Chinese text and no missing glyph; the CJK font and Chromium fail clearly."""

from __future__ import annotations

import datetime as dt
import warnings
from decimal import Decimal

import pytest

from ibrain import charts
from serving.brief import render
from serving.brief.figures import Figures, Row, Totals, growth


def totals(output: str, yoy: float | None) -> Totals:
    return Totals(enterprise_count=3, gross_output=Decimal(output), revenue=Decimal("10.00"),
                  total_profit=Decimal("-1.50"), gross_output_mom_pct=None, gross_output_yoy_pct=yoy,
                  revenue_yoy_pct=None, profit_yoy_pct=None)  # fmt: skip


def figures() -> Figures:
    evil = "<script>alert(1)</script>大连"
    return Figures(
        period=dt.date(2025, 1, 1),
        version=7,
        province=totals("1234567.89", 12.345),
        cities=[Row("210200", evil, totals("1000000.00", -3.06)),
                Row("210100", "沈阳市", totals("234567.89", None))],
        chains=[Row("robotics", "机器人", totals("5000.00", 1.0), note="占全省工业总产值 0.4%")],
        risers=[Row("210200/robotics", f"{evil} · 机器人", totals("5000.00", 1.0), Decimal("250.50"))],
        fallers=[],
        trend=[(dt.date(2024, 12, 1), Decimal("1100000")), (dt.date(2025, 1, 1), Decimal("1234567.89"))],
        issues=[{"issue_id": "I1", "dataset": "silver.x", "rule_id": "r", "dimension": "完整性",
                 "severity": "ERROR", "affected_rows": "4", "failing_periods": "2025-01",
                 "this_month": "True"}],
    )  # fmt: skip


def test_growth_of_totals() -> None:
    assert growth(Decimal("110"), Decimal("100")) == pytest.approx(10.0)
    assert growth(Decimal("90"), Decimal("0")) is None and growth(None, Decimal("1")) is None


def test_page_shows_the_figures_and_escapes_names() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing CJK glyph is a warning: none allowed
        html = render.render_html(figures(), built_at=dt.datetime(2025, 2, 11, 0, 0, tzinfo=dt.UTC))
    assert '<td class="num" data-figure="province.gross_output">1,234,567.89</td>' in html
    assert "+12.3%" in html and "-3.1%" in html  # growth to one decimal, signed
    assert 'data-figure="riser.210200/robotics">250.50<' in html
    assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;大连" in html
    assert html.count("<svg") == 3 and "<!--" not in html  # charts inline, label text only as outlines
    assert "2025年1月 全省规上工业经济运行月报" in html and "编制时间 2025-02-11 08:00" in html
    assert "其中 1 个涉及本报告期" in html


def test_missing_font_and_missing_chromium_fail_clearly(monkeypatch, tmp_path) -> None:
    with pytest.raises(charts.FontMissing, match="fonts-wqy-microhei"):
        charts.use_cjk_font({"IBRAIN_CJK_FONT": str(tmp_path / "none.ttc")})
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(render.PdfUnavailable, match="apt-get install chromium"):
        render.print_pdf("<html></html>")
