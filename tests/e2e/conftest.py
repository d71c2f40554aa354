"""The session demo lake, built once with the real CLI and shared read-only by the end-to-end tests,
and copies of it for tests that change a lake.

Contract: a test given ``demo_lake`` only reads it (queries, reports, pages written outside the
lake). A test that writes — a second demo, a backfill, maintenance, a repair — asks for
``lake_copy`` and changes its own copy, so every e2e file passes alone and in any order. The
session checks the contract when it ends: every Delta table of the demo lake must still be at the
version the demo left it at.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from catalog.tables import LakeTables
from ibrain import delta
from ibrain.fingerprint import TableFingerprint, lake_fingerprint
from ibrain.lake import Lake
from ibrain.settings import Settings
from tests.conftest import lake_env
from tests.support.cli import run_cli

DEMO_ARGS = ["demo", "--scale", "0.05", "--months", "2024-01:2025-01"]


@dataclass
class DemoLake:
    env: dict[str, str]
    stdout: str  # what `ibrain demo` printed
    # the session demo lake's, per table, taken right after the demo (ibrain.fingerprint), so a test
    # can compare it with a committed one whatever other tests do later; a copy carries the same
    fingerprint: dict[str, TableFingerprint] = field(repr=False, default_factory=dict)

    @property
    def tables(self) -> LakeTables:
        """Tables of this lake; other tests may have pointed this process's session elsewhere
        since, so the session is (re)attached on each use."""
        return LakeTables(lake=Lake(Settings.from_env(self.env)))


def delta_versions(lake: Lake) -> dict[str, int]:
    return {ref.name: delta.version(lake, ref) for ref in lake.delta_tables()}


@pytest.fixture(scope="session")
def demo_lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoLake]:
    """`ibrain demo` on a fresh lake, its fingerprint taken at once. Read-only: see the module."""
    base = tmp_path_factory.mktemp("demo")
    env = lake_env(base)
    proc = run_cli(DEMO_ARGS, env, timeout=1800)  # a few minutes on 2 idle cores; generous for a busy machine
    tables = LakeTables(lake=Lake(Settings.from_env(env)))
    demo = DemoLake(env=env, stdout=proc.stdout, fingerprint=lake_fingerprint(tables.spark, tables.lake))
    versions = delta_versions(tables.lake)
    yield demo
    changed = {
        name: (versions.get(name), now)
        for name, now in delta_versions(tables.lake).items()
        if versions.get(name) != now
    }
    assert not changed, (
        "a test wrote to the shared demo lake (use the lake_copy fixture); "
        f"table: (version after the demo, version now): {changed}"
    )


def copy_lake(source: DemoLake, base: Path) -> DemoLake:
    """A copy of ``source`` (lake, inbox, Dagster home) under ``base``, with its env.

    Delta logs hold relative file paths, so the copied tables are independent. Values that are
    paths (the ledger's landing_path, bronze's _source_file) still name the source's landing
    files; they are only read (a replay, a withdrawal), and the source is not changed.
    """
    env = lake_env(base)  # the Dagster home may be a link to a folder in memory: copy into it
    shutil.copytree(source.env["IBRAIN_LAKE_ROOT"], env["IBRAIN_LAKE_ROOT"])
    shutil.copytree(source.env["IBRAIN_INBOX"], env["IBRAIN_INBOX"])
    shutil.copytree(source.env["DAGSTER_HOME"], Path(env["DAGSTER_HOME"]).resolve(), dirs_exist_ok=True)
    # beside the lake: the state database (accounts, audit trail, outbox), the demo's keys and the
    # exported audit checkpoints — a copy of the site, not of its lake alone
    site, copy = Path(source.env["IBRAIN_LAKE_ROOT"]).parent, Path(env["IBRAIN_LAKE_ROOT"]).parent
    for folder in ("keys", "audit-checkpoints"):
        if (site / folder).is_dir():
            shutil.copytree(site / folder, copy / folder)
    state = site / "ibrain-state.db"
    if state.exists():
        with closing(sqlite3.connect(state)) as origin, closing(sqlite3.connect(copy / state.name)) as target:
            origin.backup(target)  # consistent, WAL included
    return DemoLake(env=env, stdout=source.stdout, fingerprint=source.fingerprint)


@pytest.fixture
def lake_copy(demo_lake: DemoLake, tmp_path: Path) -> DemoLake:
    """A private copy of the session demo lake, for a test that changes it."""
    return copy_lake(demo_lake, tmp_path / "copy")
