"""Table contracts: the one source of truth for names, schemas, classification and rules.

Each table has ``catalog/contracts/<layer>/<table>.yaml`` validated against
``catalog/contract.schema.json``. Shared column sets (lineage, quarantine) live in
``catalog/fragments`` and are pulled in with ``includes``. Rules that apply to every dataset of a
layer (timeliness, accessibility) are declared once in ``catalog/quality_rules.yaml``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

CATALOG_DIR = Path(__file__).resolve().parent
CONTRACTS_DIR = CATALOG_DIR / "contracts"
FRAGMENTS_DIR = CATALOG_DIR / "fragments"
SCHEMA_PATH = CATALOG_DIR / "contract.schema.json"
GENERIC_RULES_PATH = CATALOG_DIR / "quality_rules.yaml"

LEVELS = ("一般", "重要", "核心")  # GB/T 43697-2024, lowest to highest
LEVEL_TAGS = {"一般": "general", "重要": "important", "核心": "core"}  # ASCII for Dagster tags
EXPORTABLE_LEVEL = "一般"
# GB/T 36344 data-quality dimensions
DIMENSIONS = ("规范性", "完整性", "准确性", "一致性", "时效性", "可访问性")


class ContractError(ValueError):
    """A contract file is invalid; the message names the file and the field."""


def highest_level(levels: list[str]) -> str:
    """就高从严: the highest classification level among ``levels`` (一般 when empty)."""
    return max(levels, key=LEVELS.index, default=LEVELS[0])


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    name_zh: str
    classification: str
    description: str = ""
    pii: bool = False
    masking: str = "none"
    nullable: bool = True
    source_header: str | None = None
    required: bool = False
    downgrade: dict[str, str] | None = None
    accepted_values: tuple[str | int | bool, ...] = ()
    references: str | None = None  # layer.table.column
    range: dict[str, float] | None = None
    unit: str | None = None  # 元, 万元, 吨 …: what round_10k rounds in
    # whether the contract states ``masking`` (a published 重要 column must: catalog/publishing.py)
    masking_declared: bool = field(default=False, compare=False)

    @property
    def exportable(self) -> bool:
        return self.classification == EXPORTABLE_LEVEL


@dataclass(frozen=True)
class QualityRule:
    id: str
    dimension: str
    severity: str
    threshold: float
    description_zh: str
    columns: tuple[str, ...] = ()
    action: str = "reject"
    implied_by: tuple[str, ...] = ()
    measure: str = ""  # generic rules (catalog/quality_rules.yaml): how X = A/B is measured

    @property
    def blocking(self) -> bool:
        return self.severity == "ERROR"


@dataclass(frozen=True)
class IngestSpec:
    """How a source delivers a bronze table (the contract's ``ingest`` block)."""

    format: str  # tabular (CSV/XLSX) | jsonl | json
    grain: str  # month | day: the delivery period and Dagster partition
    file_pattern: str
    unit: str | None = None
    records_key: str | None = None
    api: bool = False
    encodings: tuple[str, ...] = ("utf-8-sig", "gb18030")
    # When a delivery is due, e.g. {"days_after_period": 10} (see quality/timeliness.py).
    deadline: dict[str, int] | None = None
    # When a correction (a new file for a unit-period already loaded) is credible (ingest/bronze.py):
    # below this share of its rows accepted it is rejected and the loaded delivery stays; losing
    # more than this share of the loaded rows, it waits for `ibrain ingest --accept-shrink`.
    min_correction_share: float = 0.5
    max_correction_shrink: float = 0.5


OPERATORS = ("eq", "ne", "in", "gt", "gte", "lt", "lte")
FORMATS = ("json", "csv", "arrow")
SCOPE_DIMENSIONS = ("city", "chain", "enterprise")


@dataclass(frozen=True)
class ApiSpec:
    """The contract's ``api`` block: the table published as a data-service API product
    (``/v<version>/<layer>/<table>``, serving/api); checked by ``catalog.publishing``."""

    version: int = 1
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)  # column -> operators
    sort: tuple[str, ...] = ()
    default_page_size: int = 100
    max_page_size: int = 1000
    formats: tuple[str, ...] = FORMATS
    scope: dict[str, str] = field(default_factory=dict)  # city|chain|enterprise -> column
    as_of: str | None = None
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class Contract:
    table: str
    layer: str
    name_zh: str
    name_en: str
    description: str
    owner: str
    grain: str
    primary_key: tuple[str, ...]
    update_frequency: str
    columns: tuple[Column, ...]
    partition_by: tuple[str, ...] = ()
    sla: str | None = None
    source_system: str | None = None
    ingest: IngestSpec | None = None
    produced_by: str | None = None
    declared_classification: str | None = None
    quality_rules: tuple[QualityRule, ...] = ()
    exports: tuple[dict[str, str], ...] = ()
    data_tests: tuple[dict[str, Any], ...] = ()  # table-level dbt business-rule tests
    # GB/T 36344 dimensions without a rule for this table -> why the dimension does not apply
    quality_exemptions: dict[str, str] = field(default_factory=dict)
    api: ApiSpec | None = None
    path: Path | None = field(default=None, compare=False)

    @property
    def name(self) -> str:
        return f"{self.layer}.{self.table}"

    @property
    def asset_key(self) -> list[str]:
        return [self.layer, self.table]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def classification(self) -> str:
        """Table level: the declared one or the highest column level, whichever is higher."""
        levels = [c.classification for c in self.columns]
        if self.declared_classification:
            levels.append(self.declared_classification)
        return highest_level(levels)

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")

    def rule(self, rule_id: str) -> QualityRule:
        for rule in self.quality_rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(f"{self.name} has no quality rule {rule_id!r}")

    @property
    def source_headers(self) -> dict[str, str]:
        """Source header text -> column name, for bronze parsing."""
        return {c.source_header: c.name for c in self.columns if c.source_header}


@cache
def _schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@cache
def _fragment(name: str) -> tuple[dict[str, Any], ...]:
    return tuple(yaml.safe_load((FRAGMENTS_DIR / f"{name}.yaml").read_text(encoding="utf-8")))


def parse_contract(data: dict[str, Any], path: Path | None = None) -> Contract:
    where = str(path) if path else "<contract>"
    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        loc = "/".join(str(p) for p in first.absolute_path) or "(top level)"
        raise ContractError(f"{where}: {loc}: {first.message}")

    raw_columns: list[dict[str, Any]] = list(data["columns"])
    includes = data.get("includes", [])
    if "quarantine" in includes and "lineage" not in includes:
        includes = ["lineage", *includes]
    if "ingest" in data and data["layer"] != "bronze":
        raise ContractError(f"{where}: only bronze tables have an ingest block")
    for fragment in includes:
        raw_columns.extend(dict(c) for c in _fragment(fragment))
    columns = tuple(
        Column(
            **{**c, "accepted_values": tuple(c.get("accepted_values", []))},
            masking_declared="masking" in c,
        )
        for c in raw_columns
    )
    if not columns:
        raise ContractError(f"{where}: a contract needs at least one column")

    names = [c.name for c in columns]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ContractError(f"{where}: duplicate columns {duplicates}")
    for key in ("primary_key", "partition_by"):
        missing = [k for k in data.get(key, []) if k not in names]
        if missing:
            raise ContractError(f"{where}: {key} names unknown columns {missing}")
    for rule in data.get("quality_rules", []):
        missing = [k for k in rule.get("columns", []) if k not in names]
        if missing:
            raise ContractError(f"{where}: rule {rule['id']} names unknown columns {missing}")
    for col in columns:
        if col.downgrade and LEVELS.index(col.downgrade["from"]) <= LEVELS.index(col.classification):
            raise ContractError(f"{where}: column {col.name}: a downgrade must lower the level")

    return Contract(
        table=data["table"],
        layer=data["layer"],
        name_zh=data["name_zh"],
        name_en=data["name_en"],
        description=data["description"].strip(),
        owner=data["owner"],
        grain=data["grain"],
        primary_key=tuple(data["primary_key"]),
        update_frequency=data["update_frequency"],
        columns=columns,
        partition_by=tuple(data.get("partition_by", [])),
        sla=data.get("sla"),
        source_system=data.get("source_system"),
        ingest=_ingest_spec(data.get("ingest")),
        produced_by=data.get("produced_by"),
        declared_classification=data.get("classification"),
        quality_rules=tuple(
            QualityRule(
                **{**r, "columns": tuple(r.get("columns", [])), "implied_by": tuple(r.get("implied_by", []))}
            )
            for r in data.get("quality_rules", [])
        ),
        exports=tuple(data.get("exports", [])),
        data_tests=tuple(data.get("data_tests", [])),
        quality_exemptions=dict(data.get("quality_exemptions", {})),
        api=_api_spec(data.get("api")),
        path=path,
    )


def _api_spec(block: dict[str, Any] | None) -> ApiSpec | None:
    if block is None:
        return None
    page = block.get("page_size", {})
    return ApiSpec(
        version=block.get("version", 1),
        filters={column: tuple(ops) for column, ops in block.get("filters", {}).items()},
        sort=tuple(block.get("sort", [])),
        default_page_size=page.get("default", 100),
        max_page_size=page.get("max", 1000),
        formats=tuple(block.get("formats", FORMATS)),
        scope=dict(block.get("scope", {})),
        as_of=block.get("as_of"),
        exclude=tuple(block.get("exclude", [])),
    )


def _ingest_spec(block: dict[str, Any] | None) -> IngestSpec | None:
    if block is None:
        return None
    if "encodings" in block:
        block = {**block, "encodings": tuple(block["encodings"])}
    return IngestSpec(**block)


def load_contract_file(path: Path) -> Contract:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ContractError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ContractError(f"{path}: expected a mapping at the top level")
    contract = parse_contract(data, path)
    expected = (path.parent.name, path.stem)
    if (contract.layer, contract.table) != expected:
        raise ContractError(
            f"{path}: declares {contract.layer}.{contract.table} but its path says "
            f"{expected[0]}.{expected[1]}"
        )
    return contract


@cache
def load_catalog(contracts_dir: Path = CONTRACTS_DIR) -> dict[str, Contract]:
    """Every contract, keyed ``layer.table``."""
    found: dict[str, Contract] = {}
    for path in sorted(contracts_dir.glob("*/*.yaml")):
        contract = load_contract_file(path)
        found[contract.name] = contract
    return found


@cache
def _generic_rules() -> tuple[tuple[frozenset[str], QualityRule], ...]:
    path = GENERIC_RULES_PATH
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ContractError(f"{path}: not valid YAML: {exc}") from exc
    schema = {**_schema()["$defs"]["generic_rules"], "$defs": _schema()["$defs"]}
    errors = sorted(
        jsonschema.Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.absolute_path)
    )
    if errors:
        loc = "/".join(str(p) for p in errors[0].absolute_path) or "(top level)"
        raise ContractError(f"{path}: {loc}: {errors[0].message}")
    ids = [r["id"] for r in data["rules"]]
    if len(set(ids)) != len(ids):
        raise ContractError(f"{path}: duplicate rule ids {sorted({i for i in ids if ids.count(i) > 1})}")
    return tuple(
        (frozenset(r["layers"]), QualityRule(**{k: v for k, v in r.items() if k != "layers"}))
        for r in data["rules"]
    )


def generic_rules(contract: Contract) -> list[QualityRule]:
    """The rules of ``catalog/quality_rules.yaml`` that apply to ``contract`` (by its layer)."""
    return [rule for layers, rule in _generic_rules() if contract.layer in layers]


def get_contract(layer: str, table: str) -> Contract:
    catalog = load_catalog()
    try:
        return catalog[f"{layer}.{table}"]
    except KeyError:
        raise ContractError(f"no contract for {layer}.{table} in {CONTRACTS_DIR}") from None
