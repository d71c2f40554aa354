"""``ibrain-dbt``: run dbt in a process whose Spark session is attached to the lake.

Sail's catalog is per session and in memory, so dbt must run where the tables are already
registered, or incremental models would rebuild from scratch (ARCHITECTURE §2). dagster-dbt
uses this as its ``dbt_executable``; people can too: ``ibrain-dbt build --select gold``.
"""

from __future__ import annotations

import os
import sys

from ibrain.settings import REPO_ROOT, get_settings

DBT_PROJECT_DIR = REPO_ROOT / "transforms" / "dbt"
# dbt commands that never touch the warehouse: no engine is started for them.
_OFFLINE = {"parse", "deps", "clean", "init", "debug", "--version", "--help", "-h", "list", "ls"}


def prepare_environment() -> None:
    settings = get_settings()
    os.environ["IBRAIN_LAKE_ROOT"] = settings.lake_root  # resolved, absolute: dbt's location_root
    os.environ["IBRAIN_DBT_TARGET"] = settings.dbt_target
    os.environ.setdefault("DBT_PROFILES_DIR", str(DBT_PROJECT_DIR))
    os.environ.setdefault("DBT_PROJECT_DIR", str(DBT_PROJECT_DIR))
    os.environ.setdefault("DO_NOT_TRACK", "1")
    # Run a test only when every model it reads is selected or upstream of the selection: the
    # dimension group must not run a fact's relationships test before the fact exists (the
    # default, eager, would). Dagster's dbt groups rely on this (orchestration/assets/dbt.py).
    os.environ.setdefault("DBT_INDIRECT_SELECTION", "buildable")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    prepare_environment()
    command = next((a for a in argv if not a.startswith("-")), argv[0] if argv else "--help")
    if command not in _OFFLINE:
        from ibrain.spark import spark_session

        spark_session()
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(argv)
    if result.success:
        return 0
    return 2 if result.exception is not None else 1


if __name__ == "__main__":
    sys.exit(main())
