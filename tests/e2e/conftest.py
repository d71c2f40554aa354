"""One demo lake shared by every end-to-end test (ARCHITECTURE §6), built with the real CLI."""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from catalog.tables import LakeTables
from ibrain.lake import Lake
from ibrain.settings import Settings
from tests.conftest import lake_env
from tests.support.cli import run_cli

DEMO_ARGS = ["demo", "--scale", "0.05", "--months", "2024-01:2025-01"]


@dataclass
class DemoLake:
    env: dict[str, str]
    stdout: str

    @property
    def tables(self) -> LakeTables:
        """Tables of the demo lake; other tests may have pointed this process's session elsewhere
        since, so the session is (re)attached on each use."""
        return LakeTables(lake=Lake(Settings.from_env(self.env)))


@pytest.fixture(scope="session")
def demo_lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoLake]:
    base = tmp_path_factory.mktemp("demo")
    env = lake_env(base)
    proc = run_cli(DEMO_ARGS, env)
    yield DemoLake(env=env, stdout=proc.stdout)
