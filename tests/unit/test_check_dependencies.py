"""tools/check_dependencies.py on a fixture tree, and on the repository itself."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from ibrain.settings import REPO_ROOT

SCRIPT = REPO_ROOT / "tools" / "check_dependencies.py"

PYPROJECT = """\
[project]
name = "fixture"
version = "0"
dependencies = ["PyYAML==6.0.4", "tenacity >= 9"]

[project.optional-dependencies]
dev = ["pytest==9.2.0"]
"""

FILES = {
    "ibrain/__init__.py": "",
    "ibrain/sibling.py": "",
    "ibrain/fine.py": (
        "import os\n"
        "import json, yaml\n"
        "from tenacity import Retrying\n"
        "from ibrain import sibling\n"
        "from . import sibling as again\n"
        "import catalog.contracts\n"  # the project's own layer, absent from this tree
    ),
    "ibrain/undeclared.py": '"""Uses requests, which is installed but not declared."""\n\nimport requests\n',
    "ibrain/dev_in_runtime.py": "import typing\n\n\ndef f():\n    import pytest\n",
    "ingest/__init__.py": "",
    "ingest/missing.py": "from no_such_package_xyz import thing\n",
    "transforms/__init__.py": "",
    "transforms/dbt/models/m.sql": "select 1\n",  # the dbt project folder is no Python module
    "transforms/launcher.py": "from dbt.cli.main import dbtRunner\n",
    "tests/__init__.py": "",
    "tests/test_a.py": "import pytest\nimport yaml\nfrom tests import support\n",
    "benchmarks/common.py": "import time\n",
    "benchmarks/bench.py": "from common import Stages\n",
    "tools/not_walked.py": "import requests\n",
}


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_dependencies", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while the class is built
    spec.loader.exec_module(module)
    return module


def fixture_tree(root: Path) -> Path:
    (root / "pyproject.toml").write_text(PYPROJECT)
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_undeclared_imports_are_named_with_file_and_line(tmp_path: Path) -> None:
    script = load_script()
    problems = script.check(fixture_tree(tmp_path))
    found = sorted((str(p.path), p.line, p.module) for p in problems)
    assert found == [
        ("ibrain/dev_in_runtime.py", 5, "pytest"),
        ("ibrain/undeclared.py", 3, "requests"),
        ("ingest/missing.py", 1, "no_such_package_xyz"),
        ("transforms/launcher.py", 1, "dbt"),
    ]
    messages = {p.module: p.message for p in problems}
    assert "'requests' is not declared in pyproject.toml" in messages["requests"]
    assert "declared only as a dev dependency" in messages["pytest"]
    assert "no installed distribution provides it" in messages["no_such_package_xyz"]
    assert "'dbt-adapters or dbt-core or dbt-spark' is not declared" in messages["dbt"]


def test_declaring_the_distribution_fixes_it(tmp_path: Path) -> None:
    root = fixture_tree(tmp_path)
    (root / "pyproject.toml").write_text(
        PYPROJECT.replace('"tenacity >= 9"', '"tenacity >= 9", "requests==2.34.2", "dbt-core==1.11.16"')
    )
    for name in ("ibrain/dev_in_runtime.py", "ingest/missing.py"):
        (root / name).unlink()
    assert load_script().check(root) == []


def test_command_line_exit_status(tmp_path: Path) -> None:
    root = fixture_tree(tmp_path)
    failed = subprocess.run(
        [sys.executable, str(SCRIPT), "--root", str(root)], capture_output=True, text=True, check=False
    )
    assert failed.returncode == 1
    assert "ibrain/undeclared.py:3: import 'requests'" in failed.stdout
    assert "4 undeclared import(s)" in failed.stderr


def test_the_repository_declares_what_it_imports() -> None:
    problems = load_script().check(REPO_ROOT)
    assert [str(p) for p in problems] == []
