"""The analyst notebooks are committed without outputs and in sync with their percent-format pairs
(tools/check_notebooks.py, run by make lint), and the check catches both faults."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import nbformat

from ibrain.settings import REPO_ROOT

_spec = importlib.util.spec_from_file_location("check_notebooks", REPO_ROOT / "tools" / "check_notebooks.py")
assert _spec is not None and _spec.loader is not None
check_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_notebooks)
NOTEBOOKS, problems = check_notebooks.NOTEBOOKS, check_notebooks.problems

NAMES = ("economic_operation", "chain_resilience", "capacity_sharing")


def test_committed_notebooks_are_clean_and_paired() -> None:
    assert {p.stem for p in NOTEBOOKS.glob("*.ipynb")} >= set(NAMES)
    assert problems() == []


def test_outputs_and_a_stale_pair_are_reported(tmp_path: Path) -> None:
    for name in ("capacity_sharing.ipynb", "capacity_sharing.py", "chain_resilience.ipynb"):
        shutil.copy(NOTEBOOKS / name, tmp_path / name)
    nb = nbformat.read(tmp_path / "capacity_sharing.ipynb", as_version=4)
    nb.cells[3].outputs = [nbformat.v4.new_output("stream", text="42\n")]
    nb.cells[3].execution_count = 1
    nbformat.write(nb, tmp_path / "capacity_sharing.ipynb")
    pair = tmp_path / "capacity_sharing.py"
    pair.write_text(
        pair.read_text(encoding="utf-8").replace("use_cjk_font()\n", "use_cjk_font()\nx = 1\n", 1)
    )
    assert problems(tmp_path) == [
        "capacity_sharing.ipynb: cell 4 has outputs or an execution count (commit it cleared)",
        "capacity_sharing.ipynb and capacity_sharing.py differ: jupytext --sync "
        f"{tmp_path.name}/capacity_sharing.ipynb",
        "chain_resilience.ipynb: no paired chain_resilience.py "
        "(jupytext --to py:percent chain_resilience.ipynb)",
    ]
