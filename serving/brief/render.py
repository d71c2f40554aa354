"""The brief as one printable HTML page (charts as inline SVG) and as a PDF, and where it is kept.

Page: a Jinja2 template (ibrain/pages.py: autoescaped, strict), CSS inline, charts drawn by
matplotlib with the CJK font (ibrain/charts.py) as inline SVG with text as outlines — no script,
no request to any host, readable offline and printable. PDF: Debian's headless Chromium prints
the page (``chromium --headless --print-to-pdf``); no Python library renders CJK HTML to PDF
offline as faithfully. Chromium is needed for the PDF only: without it the command says so and
writes the HTML.

Briefs are kept in the lake beside the tables, ``<lake>/serving/briefs/<YYYY-MM>/`` (brief.html,
brief.pdf, figures.json), so the data service can list and serve them (serving/brief/routes.py).
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from markupsafe import Markup

from ibrain import charts
from ibrain.lake import Lake
from ibrain.pages import environment
from serving.brief.figures import Figures

BRIEFS = ("serving", "briefs")
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
PDF_TIMEOUT_SECONDS = 120


class PdfUnavailable(RuntimeError):
    """Headless Chromium is missing or failed: no PDF."""


def amount(value: Decimal | float | None) -> str:
    """万元 with thousands separators and two decimals (the theme's own precision)."""
    return "—" if value is None else f"{value:,.2f}"


def title(figures: Figures) -> str:
    return f"{figures.period.year}年{figures.period.month}月 全省规上工业经济运行月报"


def summary(f: Figures) -> str:
    """The lead sentence: output and its growth, the largest city and chain."""
    p = f.province
    parts = [
        f"{f.period.month}月全省 {p.enterprise_count} 家规上工业企业"
        f"实现工业总产值 {amount(p.gross_output)} 万元"
    ]
    if p.gross_output_yoy_pct is not None:
        parts.append(
            f"同比{'增长' if p.gross_output_yoy_pct >= 0 else '下降'} {abs(p.gross_output_yoy_pct):.1f}%"
        )
    if p.gross_output_mom_pct is not None:
        parts.append(
            f"环比{'增长' if p.gross_output_mom_pct >= 0 else '下降'} {abs(p.gross_output_mom_pct):.1f}%"
        )
    text = "，".join(parts) + "。"
    if f.cities:
        text += f"产值最大的地市为{f.cities[0].name}（{amount(f.cities[0].totals.gross_output)} 万元）"
    if f.chains:
        text += f"；试点产业链中{f.chains[0].name}规模最大（{amount(f.chains[0].totals.gross_output)} 万元）"
    return text + "。"


def draw_charts(f: Figures) -> dict[str, Markup]:
    """The three charts as inline SVG (trusted: matplotlib's output, text as outlines, no comments)."""
    charts.use_cjk_font()
    from matplotlib.figure import Figure  # no pyplot: no backend, no global figure registry

    def subplots(width: float, height: float) -> tuple[Figure, Any]:
        figure = Figure(figsize=(width, height))
        return figure, figure.subplots()

    out: dict[str, Markup] = {}

    fig, ax = subplots(7.2, 2.4)
    labels = [m.strftime("%y-%m") for m, _ in f.trend]
    ax.plot(labels, [float(v) for _, v in f.trend], marker="o", color="#0b3c75")
    ax.set_ylabel("万元")
    ax.grid(axis="y", alpha=0.3)
    ax.tick_params(axis="x", labelsize=8)
    out["trend"] = Markup(charts.svg(fig))

    fig, ax = subplots(7.2, 0.35 * max(len(f.cities), 3) + 0.6)
    names = [r.name for r in reversed(f.cities)]
    values = [float(r.totals.gross_output) for r in reversed(f.cities)]
    bars = ax.barh(names, values, color="#3b6ea8")
    for bar, row in zip(bars, reversed(f.cities), strict=True):
        yoy = row.totals.gross_output_yoy_pct
        ax.annotate(
            "同比 —" if yoy is None else f"同比 {yoy:+.1f}%",
            (bar.get_width(), bar.get_y() + bar.get_height() / 2),
            xytext=(4, 0), textcoords="offset points", va="center", fontsize=8,
        )  # fmt: skip
    ax.set_xlabel("工业总产值（万元）")
    ax.margins(x=0.18)
    out["cities"] = Markup(charts.svg(fig))

    fig, ax = subplots(7.2, 0.4 * max(len(f.chains), 3) + 0.6)
    ax.barh([r.name for r in reversed(f.chains)], [float(r.totals.gross_output) for r in reversed(f.chains)],
            color="#c8102e")  # fmt: skip
    ax.set_xlabel("工业总产值（万元）")
    out["chains"] = Markup(charts.svg(fig))
    return out


def render_html(f: Figures, built_at: dt.datetime | None = None) -> str:
    env = environment("serving.brief")
    env.filters["amount"] = amount
    built_at = built_at or dt.datetime.now(dt.UTC)
    return env.get_template("brief.html.j2").render(
        f=f,
        title=title(f),
        summary=summary(f),
        charts=draw_charts(f),
        built_at=built_at.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M"),
        this_month=sum(1 for i in f.issues if i.get("this_month") == "True"),
    )


def chromium() -> str:
    """The headless Chromium executable, or :class:`PdfUnavailable` saying how to get it."""
    for candidate in CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    raise PdfUnavailable(
        "the PDF is printed by headless Chromium, which is not installed "
        "(Debian: apt-get install chromium fonts-wqy-microhei); the HTML brief is written without it"
    )


def print_pdf(html: str) -> bytes:
    """``html`` printed to PDF (A4, as the page's @page rule says) by headless Chromium, offline:
    the page makes no request (its CSP allows none)."""
    exe = chromium()
    with tempfile.TemporaryDirectory(prefix="ibrain-brief-") as folder:
        page = Path(folder) / "brief.html"
        pdf = Path(folder) / "brief.pdf"
        page.write_text(html, encoding="utf-8")
        args = [
            exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
            "--disable-dev-shm-usage", f"--user-data-dir={Path(folder) / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}", page.as_uri(),
        ]  # fmt: skip
        try:
            proc = subprocess.run(args, capture_output=True, text=True, timeout=PDF_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            raise PdfUnavailable(f"chromium did not print the brief within {PDF_TIMEOUT_SECONDS}s") from None
        if proc.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
            raise PdfUnavailable(
                f"chromium could not print the brief (exit {proc.returncode}): {proc.stderr[-800:]}"
            )
        return pdf.read_bytes()


@dataclass(frozen=True)
class Written:
    period: str
    html_uri: str
    pdf_uri: str | None
    pdf_problem: str | None


def brief_uri(lake: Lake, period: str, name: str = "") -> str:
    return lake.uri(*BRIEFS, period, name)


def write_brief(lake: Lake, f: Figures, pdf: bool = True) -> Written:
    """Write brief.html, figures.json and (when ``pdf``) brief.pdf for ``f``'s month. A PDF that
    cannot be printed is reported (``pdf_problem``), the HTML is written all the same."""
    period = f.period.strftime("%Y-%m")
    html = render_html(f)
    pdf_bytes, problem = None, None
    if pdf:
        try:
            pdf_bytes = print_pdf(html)
        except PdfUnavailable as exc:
            problem = str(exc)
    lake.write_bytes(brief_uri(lake, period, "figures.json"), f.to_json().encode("utf-8"))
    lake.write_bytes(brief_uri(lake, period, "brief.html"), html.encode("utf-8"))
    pdf_uri = None
    if pdf_bytes is not None:
        pdf_uri = brief_uri(lake, period, "brief.pdf")
        lake.write_bytes(pdf_uri, pdf_bytes)
    elif lake.exists(brief_uri(lake, period, "brief.pdf")):
        lake.delete(brief_uri(lake, period, "brief.pdf"))  # an older PDF would not match the new page
    return Written(period, brief_uri(lake, period, "brief.html"), pdf_uri, problem)


def list_briefs(lake: Lake) -> list[dict[str, object]]:
    """The briefs kept in the lake, newest month first: period and which files exist."""
    root = lake.uri(*BRIEFS)
    if not lake.exists(root):
        return []
    found = []
    for period in lake.list_dirs(root):
        if len(period) != 7 or period[4] != "-" or not (period[:4] + period[5:]).isdigit():
            continue
        files = {p.rsplit("/", 1)[-1] for p in lake.list_files(brief_uri(lake, period), recursive=False)}
        if "brief.html" in files:
            found.append({"period": period, "html": True, "pdf": "brief.pdf" in files})
    return sorted(found, key=lambda b: str(b["period"]), reverse=True)
