"""The Spark session: a Spark Connect client to ``SPARK_REMOTE`` or to an embedded Sail server.

Why the extra work: Sail's catalog lives in memory, per Spark Connect session, so a new session
sees no tables. Every session handed out here is *attached to the lake* (each Delta table under
the root registered as ``<layer>.<table>``), and the embedded server is kept referenced for the
life of the process, because a collected server shuts down while clients retry silently for
minutes (docs/architecture.md: the engine).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field

from pyspark.sql import SparkSession

from ibrain.lake import Lake, TableRef
from ibrain.settings import Settings, get_settings

log = logging.getLogger(__name__)

_LOCK = threading.RLock()
_EMBEDDED: dict[str, object] = {}  # "server" -> the Sail server; a module global keeps it alive


@dataclass
class _Attached:
    remote: str
    lake_root: str
    session: SparkSession
    registered: set[str] = field(default_factory=set)


_CURRENT: _Attached | None = None


def _start_embedded_server() -> str:
    """Start Sail in this process once and return its ``sc://`` address.

    The address is also put into ``os.environ["SPARK_REMOTE"]`` so that child processes (dbt,
    Dagster step workers) reach the same server instead of starting their own.
    """
    with _LOCK:
        server = _EMBEDDED.get("server")
        if server is None:
            os.environ.setdefault("RUST_LOG", "warn")
            from pysail.spark import SparkConnectServer

            server = SparkConnectServer(ip="127.0.0.1", port=0)
            server.start(background=True)
            _EMBEDDED["server"] = server
        host, port = server.listening_address  # type: ignore[attr-defined]
        remote = f"sc://{host}:{port}"
        os.environ["SPARK_REMOTE"] = remote
        return remote


def stop_embedded_server() -> None:
    """Stop this process's embedded Sail server (and the session attached to it), if one runs.

    The CLI does so before it gives the terminal back: the engine logs its shutdown, and those
    lines belong in the log file with its other logs. A later :func:`spark_session` starts anew.
    """
    global _CURRENT
    with _LOCK:
        server = _EMBEDDED.pop("server", None)
        if server is None:
            return
        host, port = server.listening_address  # type: ignore[attr-defined]
        remote = f"sc://{host}:{port}"
        if _CURRENT is not None and _CURRENT.remote == remote:
            _CURRENT.session.stop()
            _CURRENT = None
        if os.environ.get("SPARK_REMOTE") == remote:
            del os.environ["SPARK_REMOTE"]
        server.stop()  # type: ignore[attr-defined]


def spark_session(settings: Settings | None = None, *, attach: bool = True) -> SparkSession:
    """A Spark Connect session attached to the lake of ``settings`` (default: from env).

    One session per process and lake root; asking for another root replaces it (tests do).
    Each call registers tables that appeared since the last call (written by other processes).
    """
    global _CURRENT
    settings = settings or get_settings()
    with _LOCK:
        remote = settings.spark_remote or _start_embedded_server()
        current = _CURRENT
        if current is None or current.remote != remote or current.lake_root != settings.lake_root:
            if current is not None:
                current.session.stop()
            session = SparkSession.builder.remote(remote).create()
            # Timestamps in the lake are UTC; sources record their own zone where it matters.
            session.conf.set("spark.sql.session.timeZone", "UTC")
            current = _Attached(remote=remote, lake_root=settings.lake_root, session=session)
            _CURRENT = current
        if attach:
            attach_lake(current, Lake(settings))
        return current.session


def _register_sql(ref: TableRef) -> str:
    return f"CREATE TABLE IF NOT EXISTS {ref.layer}.{ref.table} USING delta LOCATION '{ref.uri}'"


def attach_lake(attached: _Attached, lake: Lake) -> None:
    spark = attached.session
    for ref in lake.delta_tables():
        if ref.name in attached.registered:
            continue
        spark.sql(f"CREATE SCHEMA IF NOT EXISTS {ref.layer}")
        spark.sql(_register_sql(ref))
        attached.registered.add(ref.name)


def register_table(spark: SparkSession, ref: TableRef) -> None:
    """Register a table just written for the first time, so SQL can name it at once."""
    with _LOCK:
        spark.sql(f"CREATE SCHEMA IF NOT EXISTS {ref.layer}")
        spark.sql(_register_sql(ref))
        if _CURRENT is not None and _CURRENT.session is spark:
            _CURRENT.registered.add(ref.name)
