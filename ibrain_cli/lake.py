"""``ibrain lake fingerprint``: prove that the lake holds the same data as before."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ibrain_cli.common import logged
from ibrain_cli.console import echo, fail, stage


@click.group()
def lake() -> None:
    """The lake's Delta tables as a whole."""


def format_fingerprints(prints: dict) -> str:
    """One aligned line per table: name, rows, hash (run-log tables: rows and content not compared)."""
    width = max([len(name) for name in prints] + [5])
    lines = [f"{'table':<{width}}  {'rows':>9}  hash"]
    for name, fp in prints.items():
        rows = "-" if fp.rows < 0 else f"{fp.rows:,}"
        lines.append(f"{name:<{width}}  {rows:>9}  {fp.hash}")
    return "\n".join(lines)


@lake.command("fingerprint")
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the fingerprint (JSON) to this file.",
)
@click.option(
    "--compare",
    "compare_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Compare with a fingerprint written before; exit 1 listing the differences.",
)
@logged()
def lake_fingerprint(out_path: Path | None, compare_path: Path | None) -> None:
    """Print every Delta table's rows and a hash of its rows that ignores their order and the
    columns that differ between runs (times, run ids; see ibrain/fingerprint.py). Two lakes built
    from the same inputs have the same fingerprint, so a refactor can prove it changed no data."""
    from ibrain import fingerprint
    from ibrain.lake import Lake
    from ibrain.spark import spark_session

    expected = None
    if compare_path:
        try:
            expected = fingerprint.load(compare_path)
        except (ValueError, KeyError, TypeError) as exc:
            fail(f"{compare_path} is not a lake fingerprint ({type(exc).__name__}: {exc})")
    lake_ = Lake()
    with stage("fingerprint"):
        prints = fingerprint.lake_fingerprint(spark_session(lake_.settings), lake_)
    echo(format_fingerprints(prints))
    if out_path:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(fingerprint.to_json(prints), encoding="utf-8")
        echo(f"wrote {out_path}")
    if expected is not None:
        problems = fingerprint.differences(expected, prints)
        for problem in problems:
            echo(f"  {problem}", fg="red")
        if problems:
            total = len(expected.keys() | prints.keys())
            echo(f"{len(problems)} of {total} tables differ from {compare_path}", fg="red", err=True)
            sys.exit(1)
        echo(f"same data as {compare_path} ({len(prints)} tables)")
