"""The ingest ledger (``audit.ingest_ledger``) and landing.

Landing is immutable: every delivery is stored once under
``landing/<source>/<period>/<batch_id>__<file name>`` and never overwritten, so any backfill can
replay it. The ledger decides what a delivery means:

- the same content as the current delivery for its source, unit and period → nothing happens;
- new content for a unit and period already loaded → a correction: it is loaded in place of the
  old one (which becomes ``superseded``);
- the same content as a batch an operator withdrew (``withdrawn``, see operations/withdraw.py) for
  its source and period → not landed again: a withdrawn delivery stays out (a corrected one,
  with other content, lands and loads as usual);
- otherwise a new ``pending`` batch.

One file, one fate (issue 12): a delivery that cannot be landed (its period outside the
partitions, a write the store refuses) is rejected on its own — copied to
``landing/_rejected/<source>/<period>/`` with a ``.reason.txt`` naming it and the cause, its ledger
row ``failed`` — and the others land. Stored names are sanitised (:func:`storage_name`); the
ledger's ``file_name`` keeps the name as received.

Crash safety, by the order of the steps: landing files are written before the ledger commit that
lists them, and whatever is removed (the inbox file, a landed file moved to ``_rejected``) is
removed only after the commit that records where it went. A crash leaves at worst a landed file no
ledger row lists, which :func:`sweep_landing` removes (at once when the ledger shows it was
rejected, after a grace period otherwise, since another lander may be about to commit it), and the
re-run lands the file again under the same batch id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import posixpath
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyspark.sql import Row

from catalog import Contract, get_contract
from catalog.spark_schema import struct_type
from catalog.tables import LakeTables
from ibrain.lake import Lake
from ibrain.retry import with_commit_retry
from ingest.sources import get_source

log = logging.getLogger(__name__)

PENDING, LOADED, SUPERSEDED, FAILED = "pending", "loaded", "superseded", "failed"
WITHDRAWN = "withdrawn"  # by an operator; never current, never loaded again
CURRENT_STATUSES = (PENDING, LOADED, FAILED)


def ledger_contract() -> Contract:
    return get_contract("audit", "ingest_ledger")


class LandingError(ValueError):
    pass


@dataclass(frozen=True)
class PeriodRange:
    """The periods a source's deliveries may have: its partitions, first to last key (given by the
    orchestration layer). Keys are ISO-spelled, so string order is time order."""

    first: str
    last: str

    def __contains__(self, period: object) -> bool:
        return isinstance(period, str) and self.first <= period <= self.last

    def __str__(self) -> str:
        return f"{self.first} to {self.last}"

    def outside_reason(self, file_name: str, period: str) -> str:
        return (
            f"{display_name(file_name)}: period {period} is outside the partitions ({self}; "
            "IBRAIN_PARTITIONS_START sets the first)"
        )


# A stored name: <batch id (≤ 24)>__<name>[.reason.txt] must fit the usual 255-byte name limit.
MAX_STORED_NAME_BYTES = 200
_KEEP_SUFFIX = 16  # characters of the extension kept when a long name is shortened


def storage_name(name: str) -> str:
    """``name`` made safe to store: NFC, no path separators, control or format characters (they
    become ``_``), no leading dot, at most MAX_STORED_NAME_BYTES of UTF-8 (shortened in the middle,
    extension kept). The ledger keeps the name as received."""
    clean = "".join(
        "_" if c in "/\\" or unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") else c
        for c in unicodedata.normalize("NFC", name)
    ).strip()
    clean = "_" + clean[1:] if clean.startswith(".") else clean
    clean = clean or "_"
    if len(clean.encode()) <= MAX_STORED_NAME_BYTES:
        return clean
    stem, dot, ext = clean.rpartition(".")
    suffix = f".{ext}" if dot and stem and len(ext) <= _KEEP_SUFFIX else ""
    head = clean[: len(clean) - len(suffix)]
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    budget = MAX_STORED_NAME_BYTES - len(suffix.encode()) - len(digest) - 1
    while len(head.encode()) > budget:
        head = head[:-1]
    return f"{head}~{digest}{suffix}"


def display_name(name: str) -> str:
    """A received name as shown in messages: quoted with escapes when it holds characters a
    terminal or a log line would not show as they are."""
    return name if name.isprintable() else repr(name)


def rejected_uri(lake: Lake, source: str, period: str | None, name: str) -> str:
    """Where a rejected file goes: ``landing/_rejected/<source>/<period or _unidentified>/<name>``."""
    return lake.uri("landing", "_rejected", source, period or "_unidentified", storage_name(name))


def write_rejection(lake: Lake, target: str, data: bytes | None, reason: str) -> None:
    """Store a rejected file (when there are bytes to keep) and its ``.reason.txt``."""
    if data is not None:
        lake.write_bytes(target, data)
    lake.write_bytes(f"{target}.reason.txt", f"{reason}\n".encode())


@dataclass(frozen=True)
class Delivery:
    """One file as received from a source: its bytes, or the path to read them from when landed
    (so landing many large files never holds them all in memory)."""

    source: str
    file_name: str
    content: bytes | Path | Callable[[], bytes]
    reporting_unit: str | None = None
    period: str | None = None
    # When it reached the province, if not now (replayed archives; the simulator's late files).
    arrived_at: dt.datetime | None = None

    @classmethod
    def from_path(
        cls,
        source: str,
        path: Path,
        reporting_unit: str | None = None,
        period: str | None = None,
        arrived_at: dt.datetime | None = None,
    ) -> Delivery:
        return cls(source, path.name, path, reporting_unit, period, arrived_at)

    def read(self) -> bytes:
        if isinstance(self.content, Path):
            return self.content.read_bytes()
        return self.content if isinstance(self.content, bytes) else self.content()


@dataclass
class LandResult:
    landed: list[str] = field(default_factory=list)  # new batch ids
    unchanged: list[str] = field(default_factory=list)  # file names already current
    withdrawn: list[str] = field(default_factory=list)  # file names with a withdrawn batch's content
    rejected: dict[str, str] = field(default_factory=dict)  # file name -> reason (see land)
    unread: dict[str, OSError] = field(default_factory=dict)  # of those, the ones that could not be read


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class IngestLedger:
    def __init__(self, tables: LakeTables) -> None:
        self.tables = tables

    def entries(self, source: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        df = self.tables.read("audit", "ingest_ledger")
        if source is not None:
            df = df.filter(df.source == source)
        if status is not None:
            df = df.filter(df.status == status)
        return [r.asDict() for r in df.orderBy("arrived_at", "batch_id").collect()]

    def land(self, deliveries: list[Delivery], periods: PeriodRange | None = None) -> LandResult:
        """Store new deliveries in landing and register them (one ledger commit): ``pending``, or
        ``failed`` for one that cannot be landed (its period outside ``periods``, a write the
        store refuses), copied to ``_rejected`` with its reason. A delivery whose unit or period
        cannot be told, or whose given period is not one, is the caller's error: LandingError,
        raised before anything is written."""
        result = LandResult()
        if not deliveries:
            return result
        resolved = [(d, *self._unit_period(d)) for d in deliveries]
        existing = self.entries()
        used_ids = {e["batch_id"] for e in existing}
        current = _current_by_unit_period(existing)
        # The same bytes again for the period, under any unit (e.g. an API page re-pulled): a no-op.
        current_shas: dict[tuple[str, str], set[str]] = {}
        for entry in current.values():
            current_shas.setdefault((entry["source"], entry["period"]), set()).add(entry["content_sha256"])
        withdrawn = {  # (source, period, content) → the withdrawn batch
            (e["source"], e["period"], e["content_sha256"]): e["batch_id"]
            for e in existing
            if e["status"] == WITHDRAWN
        }
        new_rows: list[dict[str, Any]] = []
        now = utc_now()
        lake = self.tables.lake
        for position, (delivery, unit, period) in enumerate(resolved):
            shown = display_name(delivery.file_name)
            try:
                data = delivery.read()
            except OSError as exc:  # gone or unreadable before it could be landed: nothing to keep
                reason = f"{shown}: cannot be read ({type(exc).__name__}: {exc})"
                result.rejected[delivery.file_name] = reason
                result.unread[delivery.file_name] = exc
                log.error("%s", reason)
                continue
            sha = hashlib.sha256(data).hexdigest()
            key = (delivery.source, unit, period)
            if (delivery.source, period, sha) in withdrawn:
                log.warning(
                    "%s: same content as withdrawn batch %s (%s %s): not landed again",
                    shown,
                    withdrawn[(delivery.source, period, sha)],
                    delivery.source,
                    period,
                )
                result.withdrawn.append(delivery.file_name)
                continue
            if current.get(key, {}).get("content_sha256") == sha or sha in current_shas.get(
                (delivery.source, period), set()
            ):
                result.unchanged.append(delivery.file_name)
                continue
            batch_id = _batch_id(sha, used_ids)
            used_ids.add(batch_id)
            row = _empty_row() | {
                "batch_id": batch_id,
                "source": delivery.source,
                "reporting_unit": unit,
                "period": period,
                "file_name": delivery.file_name,
                "content_sha256": sha,
                "size_bytes": len(data),
                # deliveries of one call keep their given order (a later one wins its unit-period)
                "arrived_at": delivery.arrived_at or now + dt.timedelta(microseconds=position),
                "status": PENDING,
            }
            stored = f"{batch_id}__{storage_name(delivery.file_name)}"
            reason = (
                None
                if periods is None or period in periods
                else periods.outside_reason(delivery.file_name, period)
            )
            if reason is None:
                landing = lake.uri("landing", delivery.source, period, stored)
                try:
                    lake.write_bytes(landing, data)
                except Exception as exc:  # whatever the store says, this file alone fails
                    reason = f"{shown}: cannot be stored in landing ({type(exc).__name__}: {exc})"
            if reason is not None:
                landing = rejected_uri(lake, delivery.source, period, stored)
                write_rejection(lake, landing, data, reason)
                row |= {"status": FAILED, "processed_at": now, "message": reason}
                result.rejected[delivery.file_name] = reason
                log.error("%s: rejected: %s", delivery.source, reason)
            else:
                result.landed.append(batch_id)
            row["landing_path"] = landing
            new_rows.append(row)
            current[key] = row
            current_shas.setdefault((delivery.source, period), set()).add(sha)
        if new_rows:
            self.add_missing_columns()
            self.tables.append(ledger_contract(), self._frame(new_rows))
            log.info(
                "landed %d deliveries (%d unchanged, %d rejected)",
                len(result.landed),
                len(result.unchanged),
                len(result.rejected),
            )
        return result

    @staticmethod
    def _unit_period(delivery: Delivery) -> tuple[str, str]:
        source = get_source(delivery.source)
        unit, period = delivery.reporting_unit, delivery.period
        if unit is None or period is None:
            found_unit, found_period = source.identify(delivery.file_name)
            unit, period = unit or found_unit, period or found_period
        if unit is None or period is None:
            raise LandingError(
                f"{display_name(delivery.file_name)}: cannot tell the reporting unit and period of this "
                f"{delivery.source} file from its name; give them explicitly"
            )
        if not source.is_period(period):
            raise LandingError(
                f"{display_name(delivery.file_name)}: period {period!r} is not a {source.spec.grain} "
                f"({source.period_spelling})"
            )
        return unit, period

    def update(self, rows: list[dict[str, Any]]) -> None:
        """Write back changed ledger rows (whole rows, matched on batch_id)."""
        if rows:
            self.add_missing_columns()
            self.tables.merge(ledger_contract(), self._frame(rows), keys=["batch_id"])

    def add_missing_columns(self) -> list[str]:
        """Add the contract's columns a ledger written by an older version lacks (nullable, so
        old rows read them as null); the writes above go by the contract. Returns those added."""
        contract = ledger_contract()
        if not self.tables.exists(contract):
            return []
        from deltalake import DeltaTable
        from deltalake.schema import Field, PrimitiveType

        uri = self.tables.ref(contract).uri
        options = self.tables.lake.storage_options()

        def add() -> list[str]:
            table = DeltaTable(uri, storage_options=options)
            have = {f.name for f in table.schema().fields}
            missing = [c for c in contract.columns if c.name not in have]
            if missing:
                table.alter.add_columns(
                    [Field(c.name, PrimitiveType(_DELTA_TYPES[c.type]), nullable=True) for c in missing]
                )
                log.info("%s: added columns %s", contract.name, [c.name for c in missing])
            return [c.name for c in missing]

        return with_commit_retry(add, what=f"add columns to {contract.name}")

    def _frame(self, rows: list[dict[str, Any]]):
        schema = struct_type(ledger_contract())
        return self.tables.spark.createDataFrame(
            [Row(**{c: r.get(c) for c in schema.fieldNames()}) for r in rows], schema
        )


# Contract types of the ledger's columns → Delta primitive types (for add_missing_columns).
_DELTA_TYPES = {"string": "string", "bigint": "long", "int": "integer", "timestamp": "timestamp"}


def _empty_row() -> dict[str, Any]:
    return dict.fromkeys(ledger_contract().column_names)


def _batch_id(sha: str, used: set[str]) -> str:
    base = f"b{sha[:16]}"
    if base not in used:
        return base
    n = 2
    while f"{base}-{n}" in used:
        n += 1
    return f"{base}-{n}"


def _current_by_unit_period(entries: list[dict[str, Any]]) -> dict[tuple, dict[str, Any]]:
    """The latest non-superseded delivery per (source, unit, period)."""
    current: dict[tuple, dict[str, Any]] = {}
    for entry in entries:  # ordered by arrival
        if entry["status"] in CURRENT_STATUSES:
            current[(entry["source"], entry["reporting_unit"], entry["period"])] = entry
    return current


# How old a landed file no ledger row lists must be before it is swept: another lander may have
# written it and not committed yet (a crashed one never will).
SWEEP_GRACE = dt.timedelta(minutes=30)


def _landing_key(uri: str) -> str:
    """A landing URI relative to the lake's landing folder (names hold no "/": storage_name)."""
    return uri[uri.rfind("/landing/") + len("/landing/") :]


def sweep_landing(lake: Lake, source: str, grace: dt.timedelta = SWEEP_GRACE) -> list[str]:
    """Remove the files under ``landing/<source>/`` that no ledger row lists, left by a crash
    between the steps of landing or rejecting (see the module docstring): at once when the ledger
    lists its copy in ``_rejected`` (a rejection whose last step did not run), otherwise once
    older than ``grace``. Returns the URIs removed."""
    listed = {
        _landing_key(r["landing_path"])
        for r in read_ledger_columns(lake, ["source", "landing_path"])
        if r["source"] == source and r["landing_path"]
    }
    cutoff = dt.datetime.now(dt.UTC) - grace
    removed = []
    for uri, mtime in lake.file_times(lake.uri("landing", source)).items():
        key = _landing_key(uri)
        if key in listed:
            continue
        period, name = posixpath.dirname(key).rpartition("/")[2], posixpath.basename(key)
        if f"_rejected/{source}/{period}/{name}" in listed or (mtime is not None and mtime <= cutoff):
            lake.delete(uri)
            removed.append(uri)
            log.warning("%s: removed %s, a landed file no ledger row lists (an interrupted run)", source, uri)
    return removed


def read_ledger_columns(lake: Lake, columns: list[str]) -> list[dict[str, Any]]:
    """The ledger's rows, only ``columns``, read with delta-rs (no Spark session: for sensors);
    [] while the ledger does not exist."""
    from deltalake import DeltaTable

    ref = lake.ref("audit", "ingest_ledger")
    if not lake.is_delta_table(ref.uri):
        return []
    table = DeltaTable(ref.uri, storage_options=lake.storage_options())
    return table.to_pyarrow_table(columns=columns).to_pylist()


def data_months(lake: Lake) -> list[str]:
    """Months (``YYYY-MM``) with a delivery in the ingest ledger, daily periods folded into months."""
    return sorted({r["period"][:7] for r in read_ledger_columns(lake, ["period"]) if r["period"]})


def land_files(
    tables: LakeTables,
    files: Mapping[str, Iterable[Path]],
    arrivals: Mapping[str, dt.datetime] | None = None,
    reporting_unit: str | None = None,
    period: str | None = None,
    periods: PeriodRange | None = None,
) -> LandResult:
    """Land local files, listed per source (``ibrain ingest --path``, a simulation's output), in one
    ledger commit; the bucket is created first if missing. ``arrivals`` gives a file's arrival time
    by file name (default: now); ``reporting_unit`` and ``period`` apply to every file when its
    name does not tell them; a file whose period is outside ``periods`` is rejected."""
    arrivals = arrivals or {}
    tables.lake.ensure_bucket()
    deliveries = [
        Delivery.from_path(source, path, reporting_unit, period, arrived_at=arrivals.get(path.name))
        for source, paths in files.items()
        for path in paths
    ]
    return IngestLedger(tables).land(deliveries, periods)
