"""Shared fixtures: temporary lakes, a real SeaweedFS S3 server, and CLI runs in subprocesses."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog.tables import LakeTables
from ibrain.lake import Lake
from ibrain.settings import Settings
from tests.support.postgres import PostgresServer, PostgresUnavailable, start_postgres
from tests.support.seaweed import SeaweedS3, start_seaweed

# A tmpfs for the tests' Dagster homes, where the machine has one.
MEMORY = Path("/dev/shm")
_MEMORY_PREFIX = "ibrain-test-dagster-"


def dagster_home(base: Path) -> Path:
    """``base/dagster``; where the machine has a tmpfs at /dev/shm, a link to a new folder there.

    Why: Dagster's SQLite storage commits every event — a pipeline run writes thousands (each
    asset check is planned, evaluated and output) — and on a disk every commit waits for fsync,
    which made those writes the larger part of a small pipeline run. The folder is removed at the
    end of the test session (see ``_memory_dagster_homes``).
    """
    home = base / "dagster"
    if home.exists() or home.is_symlink() or not (MEMORY.is_dir() and os.access(MEMORY, os.W_OK)):
        return home
    target = tempfile.mkdtemp(prefix=f"{_MEMORY_PREFIX}{os.getpid()}-", dir=MEMORY)
    base.mkdir(parents=True, exist_ok=True)
    home.symlink_to(target, target_is_directory=True)
    return home


def lake_env(base: Path) -> dict[str, str]:
    """Environment for a lake of its own under ``base`` (lake, inbox, Dagster home), in demo mode
    (keys default to ``base/keys``; the state database is ``base/ibrain-state.db``)."""
    return {
        "IBRAIN_ENV": "demo",
        "IBRAIN_LAKE_ROOT": str(base / "lake"),
        "IBRAIN_INBOX": str(base / "inbox"),
        "DAGSTER_HOME": str(dagster_home(base)),
    }


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@pytest.fixture(scope="session", autouse=True)
def _memory_dagster_homes() -> Iterator[None]:
    """Remove the Dagster homes this session put in memory, and those of sessions that died."""

    def ours(pid: int | None) -> list[Path]:
        if not MEMORY.is_dir():
            return []
        found = []
        for path in MEMORY.glob(f"{_MEMORY_PREFIX}*"):
            owner = path.name.removeprefix(_MEMORY_PREFIX).split("-", 1)[0]
            if owner.isdigit() and (int(owner) == pid if pid else not _process_alive(int(owner))):
                found.append(path)
        return found

    for path in ours(None):
        shutil.rmtree(path, ignore_errors=True)  # best effort: another user's may not be ours to remove
    yield
    for path in ours(os.getpid()):
        shutil.rmtree(path)


@pytest.fixture
def tmp_lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LakeTables:
    """A fresh local lake, with the environment pointing at it for code that reads settings."""
    for key, value in lake_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    return LakeTables(lake=Lake(Settings.from_env()))


@pytest.fixture(scope="session")
def seaweed() -> Iterator[SeaweedS3]:
    server = start_seaweed()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the session (tests/support/postgres.py); skipped where the
    binaries are missing, except under CI=true, where a missing server fails the tests."""
    try:
        server = start_postgres()
    except PostgresUnavailable as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and no PostgreSQL server: {exc}")
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def state_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a new, empty state database (security/db.py), once per backend: a SQLite file in
    the test's folder, or a new database on the session's PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database()
