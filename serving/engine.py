"""Reads for the data service: delta-rs' DataFusion query builder over Delta tables.

Why this engine: a request must answer in milliseconds on one machine, so no Spark job per
request. Measured on a 200,000-row partitioned table on this 2-core machine under load (script in
benchmarks/bench_api_latency.py, figures in the README's Data service section): a filtered, ordered
100-row page ~23 ms and a 1,000-row page ~27 ms through DataFusion, against ~39 ms for the same
page through a pyarrow dataset scan and sort; loading a table handle ~1.6 ms, registering it
~0.2 ms. Handles are cached per (table, version): the newest version is looked up at most once
per ``refresh_seconds``, and a cursor's pinned version is loaded once and kept (a small LRU).

Each handle also keeps its registered query builder (a DataFusion session): the session caches the
Parquet files' metadata, which a new session per query read again every time (EXPLAIN ANALYZE on
that table: ~140 ms of metadata loading summed over the files, ~0.2 ms in a reused session). A
session is safe to query from several threads at once. At most ``slots`` queries run at a time
(default: the number of CPUs): DataFusion spreads each query over every core, so more at once only
share the cores and memory and all finish later, while a request that waits keeps its place.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import pyarrow as pa
from deltalake import DeltaTable, QueryBuilder
from deltalake.exceptions import DeltaError, TableNotFoundError

from catalog.contracts import Contract
from ibrain.lake import Lake

TABLE = "t"  # the one table name every query reads


def plain_types(table: pa.Table) -> pa.Table:
    """DataFusion's view types (Utf8View) as plain string/binary: what every Arrow reader, CSV
    writer and type check downstream expects."""
    fields = []
    for field in table.schema:
        if pa.types.is_string_view(field.type) or pa.types.is_large_string(field.type):
            field = field.with_type(pa.string())
        elif pa.types.is_binary_view(field.type):
            field = field.with_type(pa.binary())
        fields.append(field)
    schema = pa.schema(fields)
    return table if schema.equals(table.schema) else table.cast(schema)


class TableUnavailable(LookupError):
    """The dataset's table (or the version a cursor names) cannot be read."""


@dataclass
class _Latest:
    handle: DeltaTable
    checked: float


class Reader:
    """Table handles per Delta version and queries over them (thread-safe)."""

    def __init__(
        self, lake: Lake, refresh_seconds: float = 1.0, pinned: int = 64, slots: int | None = None
    ) -> None:
        self.lake = lake
        self.refresh_seconds = refresh_seconds
        self._latest: dict[str, _Latest] = {}
        self._pinned: OrderedDict[tuple[str, int], DeltaTable] = OrderedDict()
        # id(handle) -> (handle, its query builder); the handle is kept so its id is not reused
        self._builders: OrderedDict[int, tuple[DeltaTable, QueryBuilder]] = OrderedDict()
        self._slots = threading.BoundedSemaphore(slots or os.cpu_count() or 2)
        self._as_of: dict[tuple[str, int], str | None] = {}
        self._counts: OrderedDict[tuple[str, int, str], int] = OrderedDict()
        self._pinned_max = pinned
        self._lock = threading.Lock()

    def _uri(self, contract: Contract) -> str:
        return self.lake.table_uri(contract.layer, contract.table)

    def latest(self, contract: Contract) -> tuple[int, DeltaTable]:
        """The newest version of the dataset's table and its handle."""
        uri = self._uri(contract)
        now = time.monotonic()
        with self._lock:
            found = self._latest.get(uri)
            if found is not None and now - found.checked < self.refresh_seconds:
                return found.handle.version(), found.handle
        try:
            handle = DeltaTable(uri, storage_options=self.lake.storage_options())
        except (TableNotFoundError, DeltaError, OSError) as exc:
            raise TableUnavailable(f"{contract.name} has no data yet") from exc
        with self._lock:
            self._latest[uri] = _Latest(handle, now)
            self._pinned.setdefault((uri, handle.version()), handle)
        return handle.version(), handle

    def at(self, contract: Contract, version: int) -> DeltaTable:
        """The handle of ``version`` (a cursor's); :class:`TableUnavailable` when it is gone."""
        uri = self._uri(contract)
        with self._lock:
            handle = self._pinned.get((uri, version))
            if handle is not None:
                self._pinned.move_to_end((uri, version))
                return handle
        try:
            handle = DeltaTable(uri, version=version, storage_options=self.lake.storage_options())
        except (TableNotFoundError, DeltaError, OSError) as exc:
            raise TableUnavailable(f"{contract.name} version {version} is no longer readable") from exc
        with self._lock:
            self._pinned[(uri, version)] = handle
            while len(self._pinned) > self._pinned_max:
                self._pinned.popitem(last=False)
        return handle

    def _builder(self, handle: DeltaTable) -> QueryBuilder:
        """The query builder with ``handle`` registered as ``t`` (one per handle, kept while the
        handle is among the newest ``pinned`` used)."""
        key = id(handle)
        with self._lock:
            found = self._builders.get(key)
            if found is not None and found[0] is handle:
                self._builders.move_to_end(key)
                return found[1]
        builder = QueryBuilder().register(TABLE, handle)
        with self._lock:
            self._builders[key] = (handle, builder)
            while len(self._builders) > self._pinned_max:
                self._builders.popitem(last=False)
        return builder

    def query(self, handle: DeltaTable, sql: str) -> pa.Table:
        """Run ``sql`` (which reads the table as ``t``) over ``handle``."""
        builder = self._builder(handle)
        with self._slots:
            result = builder.execute(sql).read_all()
        return plain_types(pa.table(result))

    def count(self, contract: Contract, version: int, handle: DeltaTable, sql: str) -> int:
        """The row count ``sql`` (``SELECT count(*) AS n …``) gives at ``version``; cached, since a
        version never changes — the pages after the first of a paged read cost no count."""
        key = (self._uri(contract), version, sql)
        with self._lock:
            if key in self._counts:
                self._counts.move_to_end(key)
                return self._counts[key]
        total = int(self.query(handle, sql).column("n")[0].as_py())
        with self._lock:
            self._counts[key] = total
            while len(self._counts) > 4096:
                self._counts.popitem(last=False)
        return total

    def as_of(self, contract: Contract, version: int, handle: DeltaTable) -> str | None:
        """The data's as-of date: the maximum of the contract's ``as_of`` column at that version
        (cached per version); None when the contract names none or the table is empty."""
        api = contract.api
        if api is None or api.as_of is None:
            return None
        key = (self._uri(contract), version)
        with self._lock:
            if key in self._as_of:
                return self._as_of[key]
        result = self.query(handle, f'SELECT max("{api.as_of}") AS as_of FROM {TABLE}')
        value = result.column("as_of")[0].as_py()
        text = value.isoformat() if value is not None else None
        with self._lock:
            self._as_of[key] = text
        return text
