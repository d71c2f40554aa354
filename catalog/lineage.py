"""Lineage of the lake's tables: table level from the Dagster asset graph (which includes the dbt
manifest's refs and sources), column level for dbt models from their compiled SQL (sqlglot).

Table names are ``layer.table`` as in the catalog. Column lineage needs a manifest with compiled
SQL (``ibrain-dbt compile``); :func:`compile_manifest` produces one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.lineage import lineage as sqlglot_lineage

from catalog.contracts import Contract, load_catalog
from ibrain.settings import REPO_ROOT, get_settings

DBT_DIR = REPO_ROOT / "transforms" / "dbt"
COMPILED_TARGET = DBT_DIR / "target" / "catalog"


class LineageError(RuntimeError):
    pass


@dataclass(frozen=True, order=True)
class ColumnRef:
    table: str  # layer.table
    column: str

    def __str__(self) -> str:
        return f"{self.table}.{self.column}"


@dataclass
class Lineage:
    """Upstream tables per table, and upstream columns per dbt model column."""

    tables: dict[str, set[str]]
    columns: dict[str, dict[str, set[ColumnRef]]] = field(default_factory=dict)

    def upstream(self, table: str) -> set[str]:
        return set(self.tables.get(table, set()))

    def downstream(self, table: str) -> set[str]:
        return {t for t, ups in self.tables.items() if table in ups}

    def all_upstream(self, table: str) -> set[str]:
        seen: set[str] = set()
        todo = list(self.upstream(table))
        while todo:
            t = todo.pop()
            if t not in seen:
                seen.add(t)
                todo.extend(self.upstream(t))
        return seen

    def column_sources(self, table: str, column: str) -> set[ColumnRef]:
        return set(self.columns.get(table, {}).get(column, set()))

    def edges(self) -> Iterable[tuple[str, str]]:
        for table, ups in sorted(self.tables.items()):
            for up in sorted(ups):
                yield up, table


def compile_manifest(target: Path = COMPILED_TARGET) -> Path:
    """``ibrain-dbt compile``; returns ``target``/manifest.json (it has compiled SQL).

    dbt compiles into a folder of this process's own and the manifest is then moved into
    ``target`` in one rename, so two builds at once (two demos, a test beside another) never read
    each other's half-written files.
    """
    launcher = Path(sys.executable).with_name("ibrain-dbt")
    work = target.with_name(f"{target.name}-{os.getpid()}")
    # dbt runs in its project folder: it is given the lake root resolved here (it may be relative)
    env = {**os.environ, "IBRAIN_LAKE_ROOT": get_settings().lake_root}
    proc = subprocess.run(
        [str(launcher), "compile", "--quiet", "--target-path", str(work)],
        cwd=DBT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        shutil.rmtree(work, ignore_errors=True)
        raise LineageError(f"ibrain-dbt compile failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    target.mkdir(parents=True, exist_ok=True)
    os.replace(work / "manifest.json", target / "manifest.json")
    shutil.rmtree(work, ignore_errors=True)
    return target / "manifest.json"


def _schema(catalog: dict[str, Contract]) -> dict[str, dict[str, dict[str, str]]]:
    schema: dict[str, dict[str, dict[str, str]]] = {}
    for contract in catalog.values():
        schema.setdefault(contract.layer, {})[contract.table] = {c.name: c.type for c in contract.columns}
    return schema


def _leaves(node: Any) -> set[ColumnRef]:
    out = set()
    for n in node.walk():
        if not n.downstream and isinstance(n.expression, exp.Table):
            table = n.expression
            out.add(ColumnRef(f"{table.db}.{table.name}", n.name.split(".")[-1]))
    return out


def model_column_lineage(
    sql: str, columns: list[str], catalog: dict[str, Contract]
) -> dict[str, set[ColumnRef]]:
    """Source columns of each output column of one compiled dbt model (Spark SQL)."""
    schema = _schema(catalog)
    out = {}
    for column in columns:
        try:
            out[column] = _leaves(sqlglot_lineage(column, sql, schema=schema, dialect="spark"))
        except SqlglotError as exc:
            raise LineageError(f"column {column}: {exc}") from exc
    return out


def column_lineage(manifest_path: Path, catalog: dict[str, Contract] | None = None) -> dict[str, dict]:
    """``layer.model`` → column → source columns, for every dbt model in a compiled manifest."""
    catalog = catalog or load_catalog()
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    out: dict[str, dict[str, set[ColumnRef]]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["package_name"] != "ibrain":
            continue
        name = f"{node['schema']}.{node['name']}"
        sql = node.get("compiled_code")
        if not sql:
            raise LineageError(f"{manifest_path}: {name} has no compiled SQL (run `ibrain-dbt compile`)")
        contract = catalog.get(name)
        if contract is None:
            continue
        try:
            out[name] = model_column_lineage(sql, [c.name for c in contract.columns], catalog)
        except LineageError as exc:
            raise LineageError(f"{name}: {exc}") from exc
    return out


@dataclass
class LineageBuilder:
    """Builds :class:`Lineage`; column lineage only when a compiled manifest is given.

    ``tables`` is ``layer.table`` → its upstream tables, taken from the asset graph by the caller
    (orchestration/lineage.py): the catalog does not import the orchestration layer.
    """

    tables: dict[str, set[str]]
    manifest_path: Path | None = None

    @cached_property
    def lineage(self) -> Lineage:
        columns = column_lineage(self.manifest_path) if self.manifest_path else {}
        return Lineage(tables=self.tables, columns=columns)


# --------------------------------------------------------------------------- dbt manifest walks


def dbt_model_id(manifest: Mapping[str, Any], layer: str, table: str) -> str | None:
    """The unique id of the dbt model that builds ``layer.table`` (None: no such model)."""
    return next(
        (
            uid
            for uid, node in manifest["nodes"].items()
            if node["resource_type"] == "model" and (node["schema"], node["name"]) == (layer, table)
        ),
        None,
    )


def has_dbt_tag(manifest: Mapping[str, Any], unique_id: str, tag: str) -> bool:
    return tag in manifest["nodes"][unique_id]["config"].get("tags", [])


def dbt_source_inputs(
    manifest: Mapping[str, Any], unique_id: str, source_name: str, through_tag: str
) -> list[str]:
    """The tables of dbt source ``source_name`` that a model reads, directly or through the models
    tagged ``through_tag`` it reads (e.g. the silver tables a monthly model is built from)."""
    nodes, sources = manifest["nodes"], manifest["sources"]
    found: set[str] = set()
    todo, seen = [unique_id], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for parent in nodes[current]["depends_on"]["nodes"]:
            if parent in sources and sources[parent]["source_name"] == source_name:
                found.add(sources[parent]["name"])
            elif parent in nodes and has_dbt_tag(manifest, parent, through_tag):
                todo.append(parent)
    return sorted(found)
