"""``ibrain quality-report``: the data-quality report (数据质量报告)."""

from __future__ import annotations

from pathlib import Path

import click

from ibrain_cli.common import logged, quality_dir
from ibrain_cli.console import echo, fail


@click.command("quality-report")
@click.option(
    "--period", help="Month YYYY-MM [default: the latest month in quality.dq_scorecard, up to this one]."
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="HTML file to write [default: quality/quality-report[-PERIOD].html beside a local lake "
    "(var/quality for the default lake); beside DAGSTER_HOME for a lake on S3].",
)
@logged()
def quality_report(period: str | None, out_path: Path | None) -> None:
    """Write the data-quality report (数据质量报告): one self-contained HTML page with the overall
    and per-dimension scores (GB/T 36344), the monthly trend, datasets × dimensions, the failing
    rules, the open issues and quarantined sample rows; print a short summary and its path."""
    from catalog.tables import LakeTables
    from quality.report import QualityReportError, gather, parse_period, render, summary_lines

    try:
        month = parse_period(period) if period else None
        data = gather(LakeTables(), month)
    except QualityReportError as exc:
        fail(str(exc))
    name = f"quality-report-{period}.html" if period else "quality-report.html"
    out = out_path or quality_dir() / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(data), encoding="utf-8")
    for line in summary_lines(data):
        echo(line)
    echo(f"report: {out.resolve()}")
