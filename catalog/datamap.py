"""The data map (数据地图): the portal's listing of every data product, from the catalog.

:func:`datasets` joins the contracts, the lineage and the grading findings into one
:class:`Dataset` per table; :func:`render_datamap` writes them, with the quality scores
(:func:`read_scores`), as ONE self-contained, searchable HTML page (templates/datamap.html.j2,
with its CSS and vanilla JS inlined: no external URL), :func:`format_dataset` as text for the
terminal (``ibrain catalog show``). ``ibrain catalog build`` writes the page.

Besides the lake's tables, the map lists the landing sources: one entry per bronze table that
has an ingest block (``landing.<source>``: the files as delivered), upstream of that bronze table,
its bronze quarantine and the ingest ledger (the asset graph does not show landing).
A dataset belongs to a pilot chain (catalog/reference/chains.yaml) when its table name, names or
description mention the chain (its code, its Chinese name or one of :data:`CHAIN_ALIASES`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from catalog import code_paths
from catalog.contracts import CATALOG_DIR, LEVEL_TAGS, Column, Contract
from catalog.lineage import Lineage
from ibrain.pages import environment

CHAINS_PATH = CATALOG_DIR / "reference" / "chains.yaml"

# Facet order and labels; layers not listed here (none today) come last under their own name.
LAYER_LABELS: dict[str, str] = {
    "landing": "源文件 landing",
    "bronze": "贴源层 bronze",
    "silver": "标准层 silver",
    "gold": "模型层 gold",
    "theme": "主题库 theme",
    "topic": "专题库 topic",
    "indicator": "指标库 indicator",
    "quality": "质量 quality",
    "quarantine": "隔离区 quarantine",
    "audit": "审计 audit",
}

# Words that mark a dataset as part of a chain, besides the chain's code and Chinese name.
CHAIN_ALIASES: dict[str, tuple[str, ...]] = {
    "cnc_machine_tools": ("cnc", "数控"),
    "industrial_robots": ("robot", "机器人"),
    "magnesite": ("magnesite", "菱镁"),
    "fine_chemicals": ("fine-chemicals", "fine chemicals", "精细化工"),
    "biomedicine": ("biomedicine", "生物医药"),
}

SAMPLE_COLUMNS = 6  # columns named in the sample query
NO_SCORE = "暂无质量评分"
YES_NO = {True: "是", False: "否"}


class _Finding(Protocol):
    table: str


@dataclass(frozen=True)
class Chain:
    code: str
    name_zh: str
    keywords: tuple[str, ...]

    def mentioned_in(self, text: str) -> bool:
        text = text.lower()
        return any(k.lower() in text for k in self.keywords)


def load_chains(path: Path = CHAINS_PATH) -> list[Chain]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        Chain(c["code"], c["name_zh"], (c["code"], c["name_zh"], *CHAIN_ALIASES.get(c["code"], ())))
        for c in data["chains"]
    ]


@dataclass
class Dataset:
    """One entry of the data map."""

    layer: str
    table: str
    name_zh: str
    name_en: str
    description: str
    owner: str
    classification: str
    update_frequency: str
    sla: str | None
    grain: str
    primary_key: tuple[str, ...]
    partition_by: tuple[str, ...] = ()
    produced_by: str | None = None
    source_system: str | None = None
    columns: tuple[Column, ...] = ()
    upstream: list[str] = field(default_factory=list)
    downstream: list[str] = field(default_factory=list)
    column_sources: dict[str, list[str]] | None = None  # dbt models, when lineage has them
    chains: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    exports: tuple[dict[str, str], ...] = ()
    source_headers: list[tuple[str, str, str]] = field(default_factory=list)  # landing: header, col, zh
    landing_path: str | None = None
    code_path: str | None = None  # repo-relative: the code that writes the table (catalog/code_paths.py)

    @property
    def name(self) -> str:
        return f"{self.layer}.{self.table}"

    @property
    def anchor(self) -> str:
        return f"ds-{self.name}"

    @property
    def is_dbt_model(self) -> bool:
        return self.produced_by == "dbt"

    def search_text(self) -> str:
        parts = [self.name, self.table, self.name_zh, self.name_en, self.description]
        parts += [p for c in self.columns for p in (c.name, c.name_zh)]
        parts += [p for h in self.source_headers for p in h]
        return " ".join(" ".join(parts).lower().split())

    def sample_query(self, today: dt.date) -> str | None:
        if self.layer == "landing":
            return None
        names = [c.name for c in self.columns if not c.name.startswith("_")] or [c.name for c in self.columns]
        sql = f"SELECT {', '.join(names[:SAMPLE_COLUMNS])}\nFROM {self.name}"
        if "period" in self.partition_by:
            sql += f"\nWHERE period = {self._period_example(today)}"
        return sql + "\nLIMIT 10"

    def _period_example(self, today: dt.date) -> str:
        column = next(c for c in self.columns if c.name == "period")
        daily = self.update_frequency in {"daily", "hourly"}
        if daily:
            day = today - dt.timedelta(days=1)
        else:
            first = today.replace(day=1) - dt.timedelta(days=1)  # last day of the previous month
            month = first.month if self.update_frequency != "quarterly" else (first.month - 1) // 3 * 3 + 1
            day = first.replace(month=month, day=1)
        if column.type == "date":
            return f"DATE '{day.isoformat()}'"
        return f"'{day.isoformat() if daily else day.isoformat()[:7]}'"


def _from_contract(contract: Contract, catalog: Mapping[str, Contract]) -> Dataset:
    return Dataset(
        layer=contract.layer,
        table=contract.table,
        name_zh=contract.name_zh,
        name_en=contract.name_en,
        description=contract.description,
        owner=contract.owner,
        classification=contract.classification,
        update_frequency=contract.update_frequency,
        sla=contract.sla,
        grain=contract.grain,
        primary_key=contract.primary_key,
        partition_by=contract.partition_by,
        produced_by=contract.produced_by,
        source_system=contract.source_system,
        columns=contract.columns,
        exports=contract.exports,
        code_path=code_paths.code_path(contract, catalog),
    )


def _landing(bronze: Contract) -> Dataset:
    spec = bronze.ingest
    assert spec is not None
    how = "API pages saved as delivered" if spec.api else f"{spec.format} files as delivered"
    return Dataset(
        layer="landing",
        table=bronze.table,
        name_zh=re.sub(r"（贴源）$", "", bronze.name_zh) + "（源文件）",
        name_en=re.sub(r"\s*\(raw\)$", "", bronze.name_en) + " (source files)",
        description=(
            f"{bronze.source_system or bronze.table}: {how}, immutable; one delivery per "
            f"{spec.grain}, file names matching {spec.file_pattern}. Each delivery is recorded in "
            f"audit.ingest_ledger and parsed into {bronze.name} (rows that cannot be parsed: "
            f"quarantine.bronze_{bronze.table})."
        ),
        owner=bronze.owner,
        classification=bronze.classification,
        update_frequency=bronze.update_frequency,
        sla=bronze.sla,
        grain=f"one file (or API page) per delivery and {spec.grain}",
        primary_key=(),
        produced_by="ingest",
        source_system=bronze.source_system,
        source_headers=[(c.source_header, c.name, c.name_zh) for c in bronze.columns if c.source_header],
        landing_path=f"landing/{bronze.table}/<period>/<batch_id>__<file name>",
        code_path=code_paths.source_definition_path(bronze.table),
    )


def datasets(
    catalog: Mapping[str, Contract],
    lineage: Lineage,
    findings: Iterable[_Finding] = (),
    chains: list[Chain] | None = None,
) -> dict[str, Dataset]:
    """Every entry of the map, keyed ``layer.table``, in facet order."""
    chains = load_chains() if chains is None else chains
    found: dict[str, Dataset] = {}
    for contract in catalog.values():
        if contract.layer == "bronze" and contract.ingest is not None:
            landing = _landing(contract)
            found[landing.name] = landing
        found[contract.name] = _from_contract(contract, catalog)

    for ds in found.values():
        if ds.layer == "landing":
            ds.downstream = [
                n
                for n in (f"bronze.{ds.table}", f"quarantine.bronze_{ds.table}", "audit.ingest_ledger")
                if n in found
            ]
            continue
        ds.upstream = sorted(lineage.upstream(ds.name), key=_order_key)
        ds.downstream = sorted(lineage.downstream(ds.name), key=_order_key)
        if ds.name in lineage.columns:
            ds.column_sources = {
                col: sorted(str(ref) for ref in refs) for col, refs in lineage.columns[ds.name].items()
            }
    for landing in [ds for ds in found.values() if ds.layer == "landing"]:
        for name in landing.downstream:
            if name in found:
                found[name].upstream = sorted({*found[name].upstream, landing.name}, key=_order_key)
    for ds in found.values():
        text = " ".join((ds.table, ds.name_zh, ds.name_en, ds.description))
        ds.chains = [c.code for c in chains if c.mentioned_in(text)]
    for ds in found.values():
        if ds.layer == "landing":  # the source files carry what their bronze table carries
            ds.chains = found[f"bronze.{ds.table}"].chains
    for finding in findings:
        if finding.table in found:
            found[finding.table].findings.append(str(finding))
    return {name: found[name] for name in sorted(found, key=_order_key)}


def _order_key(name: str) -> tuple[int, str]:
    layer = name.split(".", 1)[0]
    order = list(LAYER_LABELS)
    return (order.index(layer) if layer in order else len(order), name)


def _format_score(entry: Mapping[str, Any] | None) -> str:
    if not entry:
        return NO_SCORE
    score = f"{float(entry['score']):.2f}".rstrip("0").rstrip(".")
    return f"{score}（{entry.get('period', '')}）" if entry.get("period") else score


# -- quality scores ---------------------------------------------------------------------------
SCORECARD = ("quality", "dq_scorecard")


def has_scorecard(lake) -> bool:
    """Whether ``quality.dq_scorecard`` exists in ``lake`` (an :class:`ibrain.lake.Lake`)."""
    from ibrain import delta

    return delta.table_exists(lake, lake.ref(*SCORECARD))


def read_scores(tables) -> dict[str, dict[str, Any]]:
    """``layer.table`` → {"score", "period"}: the latest period's overall score of each dataset in
    ``quality.dq_scorecard``, or {} while that table does not exist (``tables``: LakeTables)."""
    if not has_scorecard(tables.lake):
        return {}
    from pyspark.sql import functions as F

    from ibrain import delta

    df = delta.read(tables.spark, tables.lake.ref(*SCORECARD)).where(F.col("dimension") == "overall")
    latest = df.groupBy("dataset").agg(F.max("period").alias("period"))
    rows = df.join(latest, ["dataset", "period"]).select("dataset", "period", "score").collect()
    return {
        r["dataset"]: {"score": float(r["score"]), "period": str(r["period"])}
        for r in rows
        if r["score"] is not None
    }


# -- terminal ---------------------------------------------------------------------------------
def format_dataset(
    ds: Dataset, *, today: dt.date | None = None, score: Mapping[str, Any] | None = None
) -> str:
    """One entry as plain text (``ibrain catalog show``)."""
    today = today or dt.date.today()
    lines = [
        f"{ds.name}  {ds.name_zh} / {ds.name_en}",
        f"  分级 level:        {ds.classification}",
        f"  负责人 owner:      {ds.owner}",
        f"  更新 frequency:    {ds.update_frequency}    SLA: {ds.sla or '-'}",
        f"  粒度 grain:        {ds.grain}",
        f"  主键 primary key:  {', '.join(ds.primary_key) or '-'}"
        + (f"    分区 partition: {', '.join(ds.partition_by)}" if ds.partition_by else ""),
        f"  生产 produced by:  {ds.produced_by or '-'}"
        + (f"    来源系统 source: {ds.source_system}" if ds.source_system else ""),
        f"  代码 code:         {ds.code_path or '-'}",
        f"  质量 quality:      {_format_score(score)}",
    ]
    if ds.chains:
        lines.append(f"  产业链 chains:     {', '.join(ds.chains)}")
    lines += ["", *("  " + line for line in _wrap(ds.description, 96)), ""]
    if ds.landing_path:
        lines.append(f"  files: <lake>/{ds.landing_path}")
    if ds.source_headers:
        lines.append(f"source headers ({len(ds.source_headers)}):")
        lines += [f"  {h}  →  {col} ({zh})" for h, col, zh in ds.source_headers]
    if ds.columns:
        lines.append(f"columns ({len(ds.columns)}):")
        width = max(len(c.name) for c in ds.columns)
        type_width = max(len(c.type) for c in ds.columns)
        for c in ds.columns:
            extra = []
            if c.pii:
                extra.append("PII")
            if c.masking != "none":
                extra.append(f"masking={c.masking}")
            if c.downgrade:
                extra.append(f"downgraded from {c.downgrade['from']}: {c.downgrade['reason']}")
            if ds.column_sources is not None:
                extra.append("← " + (", ".join(ds.column_sources.get(c.name, [])) or "(computed)"))
            lines.append(
                f"  {c.name:<{width}}  {c.type:<{type_width}}  {c.classification}  {c.name_zh}"
                + (f"  [{'; '.join(extra)}]" if extra else "")
            )
    lines.append(f"upstream ({len(ds.upstream)}): {', '.join(ds.upstream) or '-'}")
    lines.append(f"downstream ({len(ds.downstream)}): {', '.join(ds.downstream) or '-'}")
    for export in ds.exports:
        lines.append(f"export: {export.get('name')} ({export.get('format')}) → {export.get('recipient')}")
    if ds.findings:
        lines.append(f"grading findings ({len(ds.findings)}):")
        lines += [f"  {f}" for f in ds.findings]
    query = ds.sample_query(today)
    if query:
        lines += ["sample query:", *("  " + q for q in query.splitlines())]
    return "\n".join(lines)


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(" ".join(text.split()), width) or [""]


# -- HTML -------------------------------------------------------------------------------------
def render_datamap(
    catalog: Mapping[str, Contract],
    lineage: Lineage,
    findings: Iterable[_Finding],
    scores: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    generated_at: dt.datetime,
) -> str:
    """The data map: one self-contained HTML page (UTF-8, zh-CN), from templates/datamap.html.j2."""
    findings = list(findings)
    chains = load_chains()
    entries = datasets(catalog, lineage, findings, chains)
    layers = sorted({d.layer for d in entries.values()}, key=lambda x: _order_key(f"{x}."))
    return (
        environment("catalog")
        .get_template("datamap.html.j2")
        .render(
            entries=entries,
            findings=findings,
            scores=scores or {},
            chain_names={c.code: c.name_zh for c in chains},
            layer_options=[
                (x, LAYER_LABELS.get(x, x), sum(d.layer == x for d in entries.values())) for x in layers
            ],
            chain_options=[
                (c.code, c.name_zh, sum(c.code in d.chains for d in entries.values())) for c in chains
            ],
            any_column_lineage=bool(lineage.columns),
            today=generated_at.date(),
            stamp=generated_at.strftime("%Y-%m-%d %H:%M %Z").strip(),
            layer_labels=LAYER_LABELS,
            level_tags=LEVEL_TAGS,
            format_score=_format_score,
            no_score=NO_SCORE,
        )
    )
