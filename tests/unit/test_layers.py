"""The import-linter contracts of pyproject.toml catch a broken layer, and the code keeps them.

The contracts are the real ones (``lint-imports --config pyproject.toml``), run on a fixture tree
of empty packages named like the real ones, where each contract is broken by one small module.
The same tree without those modules passes, so each failure is the fixture's doing.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from ibrain.settings import REPO_ROOT

PYPROJECT = REPO_ROOT / "pyproject.toml"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
CONFIG = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"]

# contract id -> (fixture module, its source, what import-linter reports about it)
VIOLATIONS = {
    "layers": (
        "catalog/upward.py",
        "import orchestration.jobs\n",
        ["catalog is not allowed to import orchestration", "- catalog.upward -> orchestration.jobs (l.1)"],
    ),
    "simulators": (
        "simulators/reads_landing.py",
        "\nfrom ingest import landing\n",
        ["simulators is not allowed to import ingest", "- simulators.reads_landing -> ingest.landing (l.2)"],
    ),
    "no-simulators-in-product": (
        "quality/fakes_data.py",
        "import simulators\n",
        ["quality is not allowed to import simulators", "- quality.fakes_data -> simulators (l.1)"],
    ),
    "dagster-only-in-orchestration": (
        "serving/schedules.py",
        "import dagster as dg\n",
        ["serving is not allowed to import dagster", "- serving.schedules -> dagster (l.1)"],
    ),
    "dbt-only-in-transforms": (
        "ingest/runs_dbt.py",
        "from dbt.cli.main import dbtRunner\n",
        ["ingest is not allowed to import dbt", "- ingest.runs_dbt -> dbt (l.1)"],
    ),
}
ALLOWED = {  # imports the contracts permit, so the passing tree is not empty of dependencies
    "orchestration/jobs.py": "import catalog.contracts\nimport dagster\n",
    "catalog/contracts.py": "import ibrain.lake\n",
    "ibrain/lake.py": "",
    "ingest/landing.py": "import catalog.contracts\n",
    "transforms/launcher.py": "import dbt\n",
}


def unwrap(text: str) -> str:
    """import-linter wraps long contract names over lines; join every run of whitespace."""
    return re.sub(r"\s+", " ", text)


def fixture_tree(root: Path, *, broken: bool) -> Path:
    for package in CONFIG["root_packages"]:
        (root / package).mkdir(parents=True, exist_ok=True)
        (root / package / "__init__.py").write_text("")
    files = dict(ALLOWED)
    if broken:
        files.update({path: source for path, source, _ in VIOLATIONS.values()})
    for name, source in files.items():
        (root / name).write_text(source)
    return root


def run(root: Path) -> tuple[int, str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", "--config", str(PYPROJECT)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, unwrap(done.stdout + done.stderr)


def test_every_contract_has_a_fixture_that_breaks_it() -> None:
    assert {c["id"] for c in CONFIG["contracts"]} == set(VIOLATIONS)


def test_each_broken_contract_is_reported_with_the_fixture_module(tmp_path: Path) -> None:
    status, output = run(fixture_tree(tmp_path, broken=True))
    assert status == 1, output
    contracts = CONFIG["contracts"]
    assert f"Contracts: 0 kept, {len(contracts)} broken." in output
    for contract in contracts:
        assert f"{unwrap(contract['name'])} BROKEN" in output
        for line in VIOLATIONS[contract["id"]][2]:
            assert unwrap(line) in output


def test_the_same_tree_without_the_upward_imports_passes(tmp_path: Path) -> None:
    status, output = run(fixture_tree(tmp_path, broken=False))
    assert status == 0, output
    assert f"Contracts: {len(CONFIG['contracts'])} kept, 0 broken." in output
    files = len(CONFIG["root_packages"]) + len(ALLOWED) + 2  # the external dagster and dbt count too
    assert f"Analyzed {files} files, 5 dependencies." in output  # the five imports of ALLOWED


def test_the_code_keeps_the_contracts() -> None:
    status, output = run(REPO_ROOT)
    assert status == 0, output
    assert f"Contracts: {len(CONFIG['contracts'])} kept, 0 broken." in output
