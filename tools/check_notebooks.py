"""Check the analyst notebooks (notebooks/*.ipynb): committed without outputs, and in sync with
their jupytext percent-format pair (``<name>.py``), which is what reviews and diffs read.

Run by ``make lint``; ``tests/unit/test_notebooks.py`` shows it failing. To fix: edit either side
and ``jupytext --sync notebooks/<name>.ipynb``; to drop outputs, re-create the notebook from its
pair, ``jupytext --to ipynb notebooks/<name>.py`` (the pair holds no outputs).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jupytext

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def cells(notebook: object) -> list[tuple[str, str]]:
    """What the pair must agree on: each cell's type and source (not the jupytext header)."""
    return [(c.cell_type, c.source.strip()) for c in notebook.cells]  # type: ignore[attr-defined]


def problems(folder: Path = NOTEBOOKS) -> list[str]:
    found = []
    for path in sorted(folder.glob("*.ipynb")):
        document = json.loads(path.read_text(encoding="utf-8"))
        for i, cell in enumerate(document.get("cells", []), 1):
            if cell.get("cell_type") == "code" and (
                cell.get("outputs") or cell.get("execution_count") is not None
            ):
                found.append(f"{path.name}: cell {i} has outputs or an execution count (commit it cleared)")
        pair = path.with_suffix(".py")
        if not pair.is_file():
            found.append(f"{path.name}: no paired {pair.name} (jupytext --to py:percent {path.name})")
            continue
        if cells(jupytext.read(path)) != cells(jupytext.read(pair)):
            found.append(
                f"{path.name} and {pair.name} differ: jupytext --sync {path.relative_to(folder.parent)}"
            )
    return found


def main() -> int:
    found = problems()
    for problem in found:
        print(problem, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
