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


@lake.command("init")
@click.option(
    "--landing-bucket", default=None, help="Landing bucket (object lock). Default: <lake bucket>-landing."
)
@click.option(
    "--audit-bucket",
    default=None,
    help="Audit-archive bucket (object lock). Default: <lake bucket>-audit-archive.",
)
@click.option(
    "--encryption/--no-encryption",
    default=True,
    show_default=True,
    help="Set SSE-S3 default encryption on every bucket (needs the server's KMS, e.g. MINIO_KMS_SECRET_KEY).",
)
def lake_init(landing_bucket: str | None, audit_bucket: str | None, encryption: bool) -> None:
    """Create or check the buckets of an S3 lake: the lake (versioning, no lock: Delta rewrites files),
    landing and the audit archive (versioning and object lock, enabled at creation), each with
    lifecycle rules and default encryption. A bucket needing the lock that exists without it is
    refused (exit 1) before anything changes; a second run changes nothing (ibrain/object_store.py)."""
    from minio.error import S3Error

    from ibrain import object_store
    from ibrain.settings import SettingsError, get_settings

    def report(result: object_store.BucketResult) -> None:
        what = ", ".join(result.changes) if result.changes else "unchanged"
        echo(f"{result.plan.role:<13}  {result.plan.name}: {what}")

    try:
        settings = get_settings()
        plans = object_store.plan_buckets(settings, landing_bucket, audit_bucket)
        client = object_store.client_from_settings(settings)
        object_store.init_buckets(client, plans, encryption=encryption, progress=report)
    except (SettingsError, object_store.ObjectStoreError) as exc:
        fail(str(exc))
    except S3Error as exc:
        fail(f"S3 request {exc.code} on {exc.bucket_name or exc.resource}: {exc.message}")


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
