"""``ibrain brief``: the monthly economic-operation brief (经济运行月报, serving/brief)."""

from __future__ import annotations

import datetime as dt

import click

from ibrain_cli.common import logged
from ibrain_cli.console import echo, fail


@click.command("brief")
@click.option("--period", required=True, help="Month YYYY-MM.")
@click.option("--no-pdf", is_flag=True, help="Write the HTML page only (the PDF needs headless Chromium).")
@logged()
def brief(period: str, no_pdf: bool) -> None:
    """Write the monthly economic-operation brief (经济运行月报) for PERIOD into the lake
    (serving/briefs/<PERIOD>/brief.html, brief.pdf, figures.json): headline figures, city ranking,
    top movers, chain notes and data-quality caveats from theme.economic_operation_month and
    quality.dq_issue. The PDF is printed by Debian's headless Chromium (apt-get install chromium
    fonts-wqy-microhei); without it the command writes the HTML and fails naming what is missing."""
    from ibrain.charts import FontMissing
    from ibrain.lake import Lake
    from serving.brief.figures import BriefError, compute, statistics_deadline
    from serving.brief.render import write_brief

    lake = Lake()
    try:
        figures = compute(lake, period)
        written = write_brief(lake, figures, pdf=not no_pdf)
    except (BriefError, FontMissing) as exc:
        fail(str(exc))
    deadline = statistics_deadline(period)
    if dt.datetime.now(dt.UTC) < deadline:
        echo(
            f"note: {period}'s statistics are due by {deadline:%Y-%m-%d %H:%M} CST; figures may still change"
        )
    p = figures.province
    echo(
        f"{period}: {p.enterprise_count} enterprises, gross output {p.gross_output:,.2f} 万元, "
        f"{len(figures.cities)} cities, {len(figures.chains)} chains, "
        f"{len(figures.issues)} open quality issues"
    )
    echo(f"brief: {written.html_uri}")
    if written.pdf_uri:
        echo(f"pdf:   {written.pdf_uri}")
    elif written.pdf_problem:
        fail(f"no PDF: {written.pdf_problem}")
