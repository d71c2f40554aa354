"""``ibrain-dbt``: run dbt in a process whose Spark session is attached to the lake.

Sail's catalog is per session and in memory, so dbt must run where the tables are already
registered, or incremental models would rebuild from scratch (docs/architecture.md). dagster-dbt
uses this as its ``dbt_executable``; people can too: ``ibrain-dbt build --select gold``.

The environment dbt needs (:func:`dbt_environment`) is set by this launcher's own ``main``; a
parent that starts dbt through a library reading ``os.environ`` sets it for that call only
(:func:`environment_for_dbt`). Importing this module changes nothing.

dbt dies with the process that started it, even one killed with SIGKILL (``main`` asks the kernel
for a parent-death signal, ibrain/process.py): a killed ``ibrain run`` leaves no dbt writing to the
lake beside the next run (issue 12).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from ibrain.process import die_with_parent
from ibrain.settings import REPO_ROOT, Settings

DBT_PROJECT_DIR = REPO_ROOT / "transforms" / "dbt"
# dbt commands that never touch the warehouse: no engine is started for them.
_OFFLINE = {"parse", "deps", "clean", "init", "debug", "--version", "--help", "-h", "list", "ls"}
# Used unless the environment says otherwise.
DEFAULTS = {
    "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
    "DBT_PROJECT_DIR": str(DBT_PROJECT_DIR),
    "DO_NOT_TRACK": "1",
    # Run a test only when every model it reads is selected or upstream of the selection: the
    # dimension group must not run a fact's relationships test before the fact exists (the
    # default, eager, would). Dagster's dbt groups rely on this (orchestration/assets/dbt.py).
    "DBT_INDIRECT_SELECTION": "buildable",
}
# Set by a parent that starts the launcher (environment_for_dbt): its pid, so that a launcher whose
# parent died before it could arrange to die with it exits instead of running on as an orphan.
PARENT_PID = "IBRAIN_DBT_PARENT_PID"


def dbt_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` as dbt needs it: the settings it implies, resolved (an absolute lake root —
    dbt's location_root, rendered from the project in whatever folder dbt runs — and the dbt
    target), over ``environ``, over :data:`DEFAULTS`."""
    settings = Settings.from_env(dict(environ))
    resolved = {"IBRAIN_LAKE_ROOT": settings.lake_root, "IBRAIN_DBT_TARGET": settings.dbt_target}
    return {**DEFAULTS, **environ, **resolved}


def prepare_environment() -> None:
    """Set this process's environment for dbt (the launcher's own process only)."""
    os.environ.update(dbt_environment(os.environ))


@contextmanager
def environment_for_dbt() -> Iterator[None]:
    """Within: ``os.environ`` as dbt needs it; afterwards the variables it set or changed are put
    back. For starting dbt at run time through dagster-dbt, which copies ``os.environ`` into the
    child process and renders the project in-process too. The child is told this process's pid
    (:data:`PARENT_PID`)."""
    wanted = {**dbt_environment(os.environ), PARENT_PID: str(os.getpid())}
    saved = {name: os.environ.get(name) for name in wanted if os.environ.get(name) != wanted[name]}
    os.environ.update({name: wanted[name] for name in saved})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parent = os.environ.pop(PARENT_PID, None)
    die_with_parent(int(parent) if parent else None)
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
