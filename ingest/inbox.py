"""The drop zone: ``<root>/landing/_inbox/<source>/``, where senders put files (SFTP, MinIO upload).

Collecting lands every file through the ingest ledger (content hash, unit, period from the file
name) and removes it from the inbox. A file whose name does not tell its unit and period is moved
to ``landing/_rejected/<source>/_unidentified/`` with a reason file, so nothing is lost or stuck.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from catalog.tables import LakeTables
from ibrain.lake import Lake
from ingest.ledger import PENDING, Delivery, IngestLedger, read_ledger_columns
from ingest.sources import Source, get_source, sources

log = logging.getLogger(__name__)


@dataclass
class CollectReport:
    landed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    unidentified: dict[str, str] = field(default_factory=dict)  # file -> where it was moved


def inbox_uri(tables: LakeTables, source: str) -> str:
    return tables.lake.uri("landing", "_inbox", source)


def inbox_files(tables: LakeTables, source: str) -> list[str]:
    return [
        u
        for u in tables.lake.list_files(inbox_uri(tables, source), recursive=False)
        if not posixpath.basename(u).startswith(".")
    ]


def collect(tables: LakeTables, source_name: str) -> CollectReport:
    source = get_source(source_name)
    lake = tables.lake
    report = CollectReport()
    deliveries: list[tuple[str, Delivery]] = []
    for uri in inbox_files(tables, source_name):
        name = posixpath.basename(uri)
        unit, period = source.identify(name)
        if unit is None or period is None:
            target = lake.uri("landing", "_rejected", source_name, "_unidentified", name)
            lake.write_bytes(target, lake.read_bytes(uri))
            lake.write_bytes(
                f"{target}.reason.txt",
                f"{name}: the file name does not match {source.spec.file_pattern}\n".encode(),
            )
            lake.delete(uri)
            report.unidentified[name] = target
            log.error("%s: unidentified file %s moved to %s", source_name, name, target)
            continue
        deliveries.append((uri, Delivery(source_name, name, partial(lake.read_bytes, uri), unit, period)))
    if deliveries:
        result = IngestLedger(tables).land([d for _, d in deliveries])
        report.landed, report.unchanged = result.landed, result.unchanged
        for uri, _ in deliveries:
            lake.delete(uri)
    return report


def inbox_periods_from_names(source: Source, uris: list[str]) -> set[str]:
    """Periods the files waiting in an inbox belong to (for sensors). A name that tells no period
    counts under the current one, so the file is collected (and rejected) rather than left waiting."""
    periods = set()
    for uri in uris:
        name = posixpath.basename(uri)
        if not name.startswith("."):
            periods.add(source.identify(name)[1] or source.current_period())
    return periods


def pending_work(lake: Lake) -> dict[str, list[str]]:
    """Source → periods with deliveries pending in the ledger or files waiting in its inbox
    (without Spark: for sensors)."""
    work: dict[str, set[str]] = {}
    for row in read_ledger_columns(lake, ["source", "period", "status"]):
        if row["status"] == PENDING:
            work.setdefault(row["source"], set()).add(row["period"])
    for name, source in sources().items():
        files = lake.list_files(lake.uri("landing", "_inbox", name), recursive=False)
        periods = inbox_periods_from_names(source, files)
        if periods:
            work.setdefault(name, set()).update(periods)
    return {k: sorted(v) for k, v in sorted(work.items())}


def drop_files(lake: Lake, files: Mapping[str, Iterable[Path]]) -> int:
    """Copy local files, listed per source, into the sources' drop zones, as a sender would (for
    the sensor or ``ibrain ingest`` to collect); the bucket is created first if missing.
    Returns the number of files copied."""
    lake.ensure_bucket()
    count = 0
    for source, paths in files.items():
        for path in paths:
            lake.write_bytes(lake.uri("landing", "_inbox", source, path.name), path.read_bytes())
            count += 1
    return count
