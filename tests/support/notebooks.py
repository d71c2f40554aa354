"""Running the analyst notebooks top to bottom, as CI does: a Jupyter kernel per notebook (nbclient,
what nbmake drives), with a per-cell timeout; a failing cell is reported by its number and first
line, and the outputs are kept so a test can look for the charts."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
CELL_TIMEOUT_SECONDS = 60


class NotebookFailed(AssertionError):
    """A cell raised or timed out; the message names the notebook and the cell."""


@dataclass
class Ran:
    notebook: nbformat.NotebookNode
    seconds: float

    def images(self) -> list[str]:
        """The MIME types of every image output (a chart drawn by matplotlib is ``image/png``)."""
        return [
            mime
            for cell in self.notebook.cells
            if cell.cell_type == "code"
            for output in cell.get("outputs", [])
            for mime in output.get("data", {})
            if mime.startswith("image/")
        ]


def run_notebook(path: Path, env: dict[str, str], notebook: nbformat.NotebookNode | None = None) -> Ran:
    """Execute ``path`` (or ``notebook``, read from there) in a fresh kernel with ``env``."""
    nb = notebook if notebook is not None else nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_SECONDS,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    started = time.monotonic()
    try:
        client.execute(env=env)
    except (CellExecutionError, CellTimeoutError) as exc:
        index = next(
            (i for i, c in enumerate(nb.cells) if c.cell_type == "code" and any(
                o.get("output_type") == "error" for o in c.get("outputs", []))),
            None,
        )  # fmt: skip
        where = "a cell (timeout)" if index is None else f"cell {index + 1}"
        first = nb.cells[index].source.splitlines()[0] if index is not None and nb.cells[index].source else ""
        raise NotebookFailed(f"{path.name}: {where} failed ({first!r}):\n{str(exc)[-3000:]}") from None
    return Ran(nb, time.monotonic() - started)
