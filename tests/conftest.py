"""Shared fixtures: temporary lakes, a real SeaweedFS S3 server, and CLI runs in subprocesses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog.tables import LakeTables
from ibrain.lake import Lake
from ibrain.settings import Settings
from tests.support.seaweed import SeaweedS3, start_seaweed


def lake_env(base: Path) -> dict[str, str]:
    """Environment for a lake of its own under ``base`` (lake, inbox, Dagster home)."""
    return {
        "IBRAIN_LAKE_ROOT": str(base / "lake"),
        "IBRAIN_INBOX": str(base / "inbox"),
        "DAGSTER_HOME": str(base / "dagster"),
    }


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
