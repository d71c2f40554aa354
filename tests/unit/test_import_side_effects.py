"""Importing the code changes nothing: no environment variable, no file, no process.

Each import runs in a fresh interpreter with an empty DAGSTER_HOME, a lake root and a working
folder of its own; the interpreter compares os.environ and the files under those folders and
directly in the dbt project's target folder, where a parse writes its manifest (names, sizes,
modification times), before and after; its subfolders (created or not) belong to dbt runs of tests
running beside. The
lake root is relative, so a module that resolved it into os.environ would show.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ibrain.settings import REPO_ROOT
from transforms.dbt_launcher import DBT_PROJECT_DIR

LAYERED = ["ibrain", "catalog", "ingest", "transforms", "quality", "serving", "operations", "security",
           "simulators", "orchestration"]  # fmt: skip
# Variables an import used to set (the dbt launcher's environment, Great Expectations' switch).
UNSET = ["DBT_PROFILES_DIR", "DBT_PROJECT_DIR", "DO_NOT_TRACK", "DBT_INDIRECT_SELECTION", "IBRAIN_DBT_TARGET",
         "GX_ANALYTICS_ENABLED", "DAGSTER_IS_DEV_CLI"]  # fmt: skip

PROBE = """
import importlib, json, os, pkgutil, sys
from pathlib import Path

folders = [Path(p) for p in json.loads(sys.argv[1])]
what = sys.argv[2]


def files():
    out = {}
    for folder in folders:
        for path in [folder, *folder.rglob("*")] if folder.exists() else []:
            if folder.name == "target" and (path.parent != folder or path.is_dir()):
                continue  # dbt runs of other tests write their own subfolders; a parse writes files here
            try:
                stat = path.stat()
            except FileNotFoundError:  # removed while listed (a concurrent dbt run)
                continue
            out[str(path)] = (path.is_dir(), stat.st_size if path.is_file() else 0, stat.st_mtime_ns)
    return out


env, before = dict(os.environ), files()
if what == "definitions":
    import orchestration.definitions  # noqa: F401
else:
    for package in what.split(","):
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, package + "."):
            importlib.import_module(info.name)
after = files()
print(json.dumps({
    "env": sorted(k for k in set(env) | set(os.environ) if env.get(k) != os.environ.get(k)),
    "created": sorted(set(after) - set(before)),
    "changed": sorted(p for p in set(after) & set(before) if after[p] != before[p]),
    "removed": sorted(set(before) - set(after)),
    "modules": len(sys.modules),
}))
"""


def import_in_fresh_interpreter(tmp_path: Path, what: str) -> dict:
    cwd, home = tmp_path / "cwd", tmp_path / "dagster_home"
    cwd.mkdir()
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env |= {
        "DAGSTER_HOME": str(home),
        "IBRAIN_LAKE_ROOT": "lake",  # relative: cwd/lake
        "IBRAIN_INBOX": str(tmp_path / "inbox"),
        "PYTHONPATH": str(REPO_ROOT),
    }
    watched = [home, cwd, cwd / "lake", tmp_path / "inbox", DBT_PROJECT_DIR / "target"]
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps([str(p) for p in watched]), what],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_loading_the_definitions_changes_no_variable_and_writes_no_file(tmp_path: Path) -> None:
    if not (DBT_PROJECT_DIR / "target" / "manifest.json").exists():
        pytest.fail("no dbt manifest: run `make manifest` first")
    found = import_in_fresh_interpreter(tmp_path, "definitions")
    assert (found["env"], found["created"], found["changed"], found["removed"]) == ([], [], [], [])


def test_importing_every_module_changes_no_variable_and_writes_no_file(tmp_path: Path) -> None:
    found = import_in_fresh_interpreter(tmp_path, ",".join(LAYERED))
    assert (found["env"], found["created"], found["changed"], found["removed"]) == ([], [], [], [])
    assert found["modules"] > 100  # the packages were imported


def test_definitions_without_a_dbt_manifest_fail_naming_make_manifest(tmp_path: Path) -> None:
    project = tmp_path / "dbt"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    from orchestration.definitions import build_definitions

    with pytest.raises(FileNotFoundError, match=r"dbt manifest not found at .*run `make manifest`"):
        build_definitions(project)
