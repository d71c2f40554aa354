"""The state database of the security layer: identity, grants and the audit trail.

Why a database beside the lake rather than Delta tables: these rows change in transactions (a
login locks an account, an approval creates a grant, every action writes its audit record in the
same transaction — docs/architecture.md: security), which Delta's table-level commits cannot do.

SQLite in a file beside a local lake by default; PostgreSQL when ``IBRAIN_DB_URL`` says so. The
schema belongs to the Alembic migrations in ``security/migrations``; ``migrate`` brings a database
to the newest revision and is safe to run again.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from ibrain.settings import Settings, SettingsError, get_settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
DEFAULT_DB_NAME = "ibrain-state.db"
# Stable constraint names, so migrations can address them on SQLite and PostgreSQL alike.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
READ_ONLY = "ibrain_read_only"  # execution option: a SQLite transaction that begins DEFERRED
WRITER_WAIT_SECONDS = 30  # as long as SQLite's busy timeout


class Base(DeclarativeBase):
    """Declarative base of every table in the state database."""

    metadata = MetaData(naming_convention=NAMING)


def database_url(settings: Settings | None = None) -> str:
    """``IBRAIN_DB_URL``, else a SQLite file beside a local lake (``<lake>/../ibrain-state.db``).

    A lake on S3 has no "beside": the URL is then required.
    """
    settings = settings or get_settings()
    if settings.db_url:
        return settings.db_url
    if settings.is_s3:
        raise SettingsError("IBRAIN_DB_URL is required when IBRAIN_LAKE_ROOT is on S3 (e.g. postgresql://…)")
    return f"sqlite:///{Path(settings.lake_root).parent / DEFAULT_DB_NAME}"


def _sqlite_immediate(engine: Engine) -> None:
    """Every SQLite transaction begins IMMEDIATE (takes the write lock at BEGIN).

    Why: pysqlite's default deferred BEGIN lets two writers read the same audit chain head and
    fork it, or fail late with "database is locked"; an immediate BEGIN serialises writers, and
    the busy timeout makes them wait instead of failing. WAL keeps readers unblocked.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY)
        connection.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (default: ``database_url()``); a SQLite file's folder is created."""
    url = url or database_url()
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        _sqlite_immediate(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the database to the newest schema (every head); a no-op when it is there already."""
    command.upgrade(alembic_config(engine), "heads")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


_writers: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
_writers_guard = threading.Lock()


def _writer_lock(engine: Engine) -> threading.RLock | None:
    """The in-process lock of a SQLite database's writers (None for other databases).

    Why: SQLite lets one writer in at a time; a thread that finds the write lock taken sleeps in
    its busy handler in growing steps (up to 100 ms) and may wake long after the lock was freed.
    Threads of one process therefore queue on this lock first and are woken as soon as the
    previous writer commits; other processes still meet SQLite's own lock (and busy timeout).
    """
    if engine.dialect.name != "sqlite":
        return None
    with _writers_guard:
        lock = _writers.get(engine)
        if lock is None:
            lock = _writers[engine] = threading.RLock()
        return lock


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back (and re-raised) on an error."""
    lock = _writer_lock(engine)
    # after WRITER_WAIT_SECONDS go on without it: SQLite's busy timeout then decides, as before
    held = lock.acquire(timeout=WRITER_WAIT_SECONDS) if lock is not None else False
    try:
        with session_factory(engine).begin() as session:
            yield session
    finally:
        if held:
            lock.release()


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Session]:
    """A transaction that only reads; it is rolled back at the end.

    On SQLite it begins DEFERRED: it takes no write lock and waits for no writer — WAL gives it a
    snapshot of the last committed state — so reads (a token's account, a caller's grants) do not
    queue behind the writers. The database itself refuses a write inside it (SQLite's
    ``query_only``, PostgreSQL's ``READ ONLY`` transaction): an error, never a change dropped.
    """
    sqlite_db = engine.dialect.name == "sqlite"
    with session_factory(engine.execution_options(**{READ_ONLY: True}))() as session:
        session.begin()
        connection = session.connection()
        connection.exec_driver_sql("PRAGMA query_only = ON" if sqlite_db else "SET TRANSACTION READ ONLY")
        try:
            yield session
        finally:
            if sqlite_db:  # the pooled connection goes back writable
                connection.exec_driver_sql("PRAGMA query_only = OFF")
            session.rollback()
