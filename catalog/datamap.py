"""The data map (数据地图): the portal's listing of every data product, from the catalog.

:func:`datasets` joins the contracts, the lineage and the grading findings into one
:class:`Dataset` per table; :func:`render_datamap` writes them, with the quality scores
(:func:`read_scores`), as ONE self-contained, searchable HTML page (inline CSS and vanilla JS, no
external URL), :func:`format_dataset` as text for the terminal (``ibrain catalog show``).
``ibrain catalog build`` writes the page.

Besides the lake's tables, the map lists the landing sources: one entry per bronze table that
has an ingest block (``landing.<source>``: the files as delivered), upstream of that bronze table,
its bronze quarantine and the ingest ledger (the asset graph does not show landing).
A dataset belongs to a pilot chain (catalog/reference/chains.yaml) when its table name, names or
description mention the chain (its code, its Chinese name or one of :data:`CHAIN_ALIASES`).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from catalog import code_paths
from catalog.contracts import CATALOG_DIR, LEVEL_TAGS, Column, Contract
from catalog.lineage import Lineage

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
def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _level(level: str) -> str:
    return f'<span class="level level-{LEVEL_TAGS.get(level, "general")}">{_e(level)}</span>'


def _table_link(name: str, known: Mapping[str, Dataset]) -> str:
    if name in known:
        return f'<a href="#ds-{_e(name)}">{_e(name)}</a>'
    return f'<span class="external" title="不在数据地图中（导出文件等）">{_e(name)}</span>'


def _table_list(css: str, names: list[str], known: Mapping[str, Dataset], empty: str) -> str:
    if not names:
        return f'<ul class="{css}"><li class="none">{_e(empty)}</li></ul>'
    items = "".join(f"<li>{_table_link(n, known)}</li>" for n in names)
    return f'<ul class="{css}">{items}</ul>'


def _column_ref_link(ref: str, known: Mapping[str, Dataset]) -> str:
    table = ref.rsplit(".", 1)[0]
    if table in known:
        return f'<a href="#ds-{_e(table)}">{_e(ref)}</a>'
    return _e(ref)


def _columns_html(ds: Dataset, known: Mapping[str, Dataset], any_column_lineage: bool) -> str:
    if ds.source_headers:
        rows = "".join(
            f"<tr><td>{_e(h)}</td><td><code>{_e(col)}</code></td><td>{_e(zh)}</td></tr>"
            for h, col, zh in ds.source_headers
        )
        return (
            f'<details class="columns"><summary>源表头 → 贴源列（{len(ds.source_headers)}）</summary>'
            "<table><thead><tr><th>源表头</th><th>bronze 列</th><th>中文名</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></details>"
        )
    if not ds.columns:
        return ""
    lineage_col = ds.column_sources is not None
    head = "".join(
        f"<th>{h}</th>" for h in ("列名", "中文名", "类型", "分级", "个人信息", "脱敏", "降级说明")
    )
    if lineage_col:
        head += "<th>来源列（列级血缘）</th>"
    rows = []
    for c in ds.columns:
        downgrade = f"由{c.downgrade['from']}降级：{c.downgrade['reason']}" if c.downgrade else ""
        cells = (
            f"<td><code>{_e(c.name)}</code></td><td>{_e(c.name_zh)}"
            + (f'<div class="hint">{_e(c.description)}</div>' if c.description else "")
            + f"</td><td><code>{_e(c.type)}</code></td><td>{_level(c.classification)}</td>"
            f"<td>{'<b>是</b>' if c.pii else '否'}</td>"
            f"<td>{'—' if c.masking == 'none' else f'<code>{_e(c.masking)}</code>'}</td>"
            f"<td>{_e(downgrade)}</td>"
        )
        if lineage_col:
            refs = (ds.column_sources or {}).get(c.name, [])
            links = (
                "<br>".join(_column_ref_link(r, known) for r in refs)
                or '<span class="hint">（计算列）</span>'
            )
            cells += f'<td class="sources">{links}</td>'
        rows.append(f'<tr data-column="{_e(c.name)}">{cells}</tr>')
    note = ""
    if ds.is_dbt_model and not lineage_col:
        note = (
            '<p class="hint">列级血缘：本表无（dbt seed）。</p>'
            if any_column_lineage
            else '<p class="hint">列级血缘需编译的 dbt manifest：运行 <code>ibrain catalog build</code>。</p>'
        )
    return (
        f'<details class="columns"><summary>字段（{len(ds.columns)}）'
        + ("，含列级血缘" if lineage_col else "")
        + f"</summary><table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{note}"
        "</details>"
    )


def _entry_html(
    ds: Dataset,
    known: Mapping[str, Dataset],
    chain_names: Mapping[str, str],
    score: Mapping[str, Any] | None,
    today: dt.date,
    any_column_lineage: bool,
) -> str:
    chains = "".join(f'<span class="chip">{_e(chain_names.get(c, c))}</span>' for c in ds.chains)
    facts = [
        ("负责人", _e(ds.owner)),
        ("更新频率", _e(ds.update_frequency)),
        ("SLA", _e(ds.sla or "—")),
        ("粒度", _e(ds.grain)),
        ("主键", ", ".join(f"<code>{_e(k)}</code>" for k in ds.primary_key) or "—"),
    ]
    if ds.partition_by:
        facts.append(("分区", ", ".join(f"<code>{_e(k)}</code>" for k in ds.partition_by)))
    if ds.source_system:
        facts.append(("来源系统", _e(ds.source_system)))
    if ds.produced_by:
        facts.append(("生产方式", _e(ds.produced_by)))
    if ds.landing_path:
        facts.append(("文件位置", f"<code>&lt;lake&gt;/{_e(ds.landing_path)}</code>"))
    score_html = (
        f'<span class="score">{_e(_format_score(score))}</span>'
        if score
        else f'<span class="score none">{NO_SCORE}</span>'
    )
    facts.append(("质量评分", score_html))
    for export in ds.exports:
        facts.append(
            ("对外导出", _e(f"{export.get('name')}（{export.get('format')}）→ {export.get('recipient')}"))
        )
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    findings = ""
    if ds.findings:
        items = "".join(f"<li>{_e(f)}</li>" for f in ds.findings)
        findings = f'<div class="findings"><h4>分级检查发现（{len(ds.findings)}）</h4><ul>{items}</ul></div>'
    query = ds.sample_query(today)
    query_html = (
        f'<details class="sample"><summary>示例查询</summary><pre><code>{_e(query)}</code></pre></details>'
        if query
        else ""
    )
    return f"""
<article class="dataset" id="{_e(ds.anchor)}" data-name="{_e(ds.name)}" data-layer="{_e(ds.layer)}"
 data-chains="{_e(" ".join(ds.chains))}" data-search="{_e(ds.search_text())}">
<header><h3><a class="self" href="#{_e(ds.anchor)}">{_e(ds.name)}</a> {_level(ds.classification)}</h3>
<p class="names"><span class="zh">{_e(ds.name_zh)}</span> · <span class="en">{_e(ds.name_en)}</span>
<span class="layer-chip">{_e(LAYER_LABELS.get(ds.layer, ds.layer))}</span>{chains}</p></header>
<p class="desc">{_e(ds.description)}</p>
<dl class="facts">{dl}</dl>
{findings}
<div class="lineage"><div><h4>上游</h4>{_table_list("upstream", ds.upstream, known, "无（源头）")}</div>
<div><h4>下游</h4>{_table_list("downstream", ds.downstream, known, "无")}</div></div>
{_columns_html(ds, known, any_column_lineage)}
{query_html}
</article>"""


def _facet(name: str, title: str, options: list[tuple[str, str, int]]) -> str:
    items = "".join(
        f'<label><input type="checkbox" name="{name}" value="{_e(v)}"> {_e(label)} '
        f'<span class="n" data-facet-count="{_e(v)}">{n}</span></label>'
        for v, label, n in options
    )
    return f'<fieldset class="facet" id="facet-{name}"><legend>{_e(title)}</legend>{items}</fieldset>'


def render_datamap(
    catalog: Mapping[str, Contract],
    lineage: Lineage,
    findings: Iterable[_Finding],
    scores: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    generated_at: dt.datetime,
) -> str:
    """The data map: one self-contained HTML page (UTF-8, zh-CN)."""
    findings = list(findings)
    chains = load_chains()
    entries = datasets(catalog, lineage, findings, chains)
    scores = scores or {}
    chain_names = {c.code: c.name_zh for c in chains}
    layers = sorted({d.layer for d in entries.values()}, key=lambda x: _order_key(f"{x}."))
    layer_options = [(x, LAYER_LABELS.get(x, x), sum(d.layer == x for d in entries.values())) for x in layers]
    chain_options = [(c.code, c.name_zh, sum(c.code in d.chains for d in entries.values())) for c in chains]
    any_column_lineage = bool(lineage.columns)
    today = generated_at.date()
    body = "".join(
        _entry_html(d, entries, chain_names, scores.get(name), today, any_column_lineage)
        for name, d in entries.items()
    )
    total = len(entries)
    stamp = generated_at.strftime("%Y-%m-%d %H:%M %Z").strip()
    banner = (
        f'<p class="banner bad" id="findings-banner">分级检查：{len(findings)} 项发现，见各数据集条目。</p>'
        if findings
        else '<p class="banner ok" id="findings-banner">分级检查：一致（就高从严，无发现）。</p>'
    )
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="ibrain catalog build">
<title>数据地图 · 产业大脑 产业数据仓</title>
<style>{_CSS}</style>
</head>
<body>
<header class="top">
<h1>数据地图 <small>产业大脑 产业数据仓 · Data map</small></h1>
<p class="meta">{total} 个数据集 · 生成于 {_e(stamp)} ·
由 <code>ibrain catalog build</code> 从 catalog/contracts 与血缘生成</p>
{banner}
</header>
<div class="layout">
<aside class="side">
<label for="search" class="search-label">搜索
<span class="hint">表名、中英文名、描述、字段（按 / 聚焦）</span></label>
<input type="search" id="search" name="q" autocomplete="off"
 placeholder="例如 fct_enterprise_month、工业总产值、菱镁">
<p class="count">显示 <span id="match-count">{total}</span> / {total} 个数据集
<button type="button" id="clear">清除筛选</button></p>
{_facet("layer", "分层", layer_options)}
{_facet("chain", "产业链", chain_options)}
<p class="legend">分级（GB/T 43697）：{_level("一般")} {_level("重要")} {_level("核心")}</p>
</aside>
<main id="datasets">
<p id="no-match" hidden>没有匹配的数据集。</p>
{body}
</main>
</div>
<script>{_JS}</script>
</body>
</html>
"""


_CSS = """
:root { --fg: #1f2933; --muted: #616e7c; --line: #d9e2ec; --bg: #f5f7fa; --accent: #0b69a3; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: var(--bg); font: 14px/1.55 system-ui, -apple-system,
  "Segoe UI", "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif; }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12.5px; }
a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
header.top { background: #102a43; color: #f0f4f8; padding: 14px 24px; }
header.top h1 { margin: 0; font-size: 22px; } header.top small { font-size: 14px; color: #9fb3c8; }
header.top .meta { margin: 4px 0; color: #bcccdc; } header.top code { color: #f0f4f8; }
.banner { margin: 6px 0 0; padding: 4px 10px; border-radius: 4px; display: inline-block; }
.banner.ok { background: #1f6f43; } .banner.bad { background: #b42318; }
.layout { display: flex; align-items: flex-start; gap: 20px; padding: 16px 24px; }
.side { position: sticky; top: 12px; width: 290px; flex: none; background: #fff;
  border: 1px solid var(--line); border-radius: 8px; padding: 14px;
  max-height: calc(100vh - 24px); overflow: auto; }
.search-label { display: block; font-weight: 600; margin-bottom: 4px; }
#search { width: 100%; padding: 8px 10px; font-size: 15px; border: 1px solid #9fb3c8; border-radius: 6px; }
#search:focus { outline: 2px solid var(--accent); border-color: var(--accent); }
.count { margin: 8px 0; color: var(--muted); } #match-count { font-weight: 700; color: var(--fg); }
#clear { float: right; font-size: 12px; cursor: pointer; }
.facet { border: 0; border-top: 1px solid var(--line); margin: 10px 0 0; padding: 8px 0 0; }
.facet legend { font-weight: 600; padding: 0 4px 0 0; }
.facet label { display: flex; align-items: center; gap: 6px; padding: 1px 0; cursor: pointer; }
.facet .n { margin-left: auto; color: var(--muted); font-size: 12px; }
.legend { border-top: 1px solid var(--line); padding-top: 8px; color: var(--muted); }
main { flex: 1; min-width: 0; }
#no-match { background: #fff; padding: 16px; border-radius: 8px; border: 1px solid var(--line); }
article.dataset { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px;
  margin-bottom: 12px; scroll-margin-top: 12px; }
article.dataset:target { border-color: var(--accent); box-shadow: 0 0 0 3px rgba(11, 105, 163, .2); }
article.dataset h3 { margin: 0; font-size: 17px; font-family: ui-monospace, Menlo, Consolas, monospace; }
article.dataset h3 a.self { color: var(--fg); }
.names { margin: 2px 0 6px; } .names .zh { font-weight: 600; } .names .en { color: var(--muted); }
.chip, .layer-chip { display: inline-block; font-size: 12px; padding: 0 7px; border-radius: 10px;
  margin-left: 6px; background: #e3f8ff; color: #035388; }
.layer-chip { background: #f0f4f8; color: #334e68; }
.level { display: inline-block; font-size: 12px; font-weight: 600; padding: 0 7px; border-radius: 4px;
  font-family: system-ui, sans-serif; vertical-align: middle; white-space: nowrap; }
.level-general { background: #e3f9e5; color: #1f6f43; }
.level-important { background: #fff3c4; color: #8d2b0b; }
.level-core { background: #ffe3e3; color: #a61b1b; }
.desc { margin: 4px 0 8px; white-space: pre-line; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0 0 8px; }
.facts dt { color: var(--muted); } .facts dd { margin: 0; }
.score.none { color: var(--muted); }
.lineage { display: flex; gap: 24px; flex-wrap: wrap; }
.lineage > div { flex: 1; min-width: 240px; }
.lineage h4, .findings h4 { margin: 4px 0; font-size: 13px; color: var(--muted); }
.lineage ul { margin: 0; padding-left: 18px; font-size: 12.5px;
  font-family: ui-monospace, Menlo, Consolas, monospace; }
.lineage .none { list-style: none; margin-left: -18px; color: var(--muted);
  font-family: system-ui, sans-serif; }
.external { color: var(--muted); }
.findings { background: #fff1f0; border: 1px solid #ffa39e; border-radius: 6px; padding: 4px 10px;
  margin: 6px 0; }
.findings ul { margin: 0; padding-left: 18px; }
details { margin-top: 8px; } summary { cursor: pointer; font-weight: 600; color: #334e68; }
details table { border-collapse: collapse; width: 100%; margin-top: 6px; font-size: 13px; }
details th, details td { border-bottom: 1px solid var(--line); text-align: left; padding: 3px 8px;
  vertical-align: top; }
details th { background: #f0f4f8; font-weight: 600; white-space: nowrap; }
td.sources { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
.hint { color: var(--muted); font-size: 12px; }
pre { background: #102a43; color: #f0f4f8; padding: 10px 12px; border-radius: 6px; overflow: auto; }
@media (max-width: 900px) { .layout { flex-direction: column; } .side { position: static; width: 100%; } }
"""

_JS = r"""
(function () {
  "use strict";
  const box = document.getElementById("search");
  const countEl = document.getElementById("match-count");
  const noMatch = document.getElementById("no-match");
  const list = document.getElementById("datasets");
  const entries = Array.from(document.querySelectorAll("article.dataset"));
  const boxes = (name) => Array.from(document.querySelectorAll('input[name="' + name + '"]'));
  const checked = (name) => boxes(name).filter((b) => b.checked).map((b) => b.value);
  const chainsOf = (el) => (el.dataset.chains || "").split(" ").filter(Boolean);
  const tokens = (q) => q.toLowerCase().split(/\s+/).filter(Boolean);

  function textMatch(el, toks) {
    const text = el.dataset.search || "";
    return toks.every((t) => text.includes(t));
  }
  function layerMatch(el, layers) { return !layers.length || layers.includes(el.dataset.layer); }
  function chainMatch(el, chains) {
    return !chains.length || chainsOf(el).some((c) => chains.includes(c));
  }

  // Entries named by the query come first: 0 = the query is the table's name, 1 = the name
  // contains every word, 2 = other matches (description, columns); document order otherwise.
  function rank(el, toks) {
    const name = el.dataset.name, table = name.slice(name.indexOf(".") + 1);
    const q = toks.join(" ");
    if (q === name || q === table) return 0;
    return toks.length && toks.every((t) => name.includes(t)) ? 1 : 2;
  }
  function order(toks) {
    const sorted = entries.slice();
    if (toks.length) {
      const position = new Map(entries.map((el, i) => [el, i]));
      sorted.sort((a, b) => rank(a, toks) - rank(b, toks) || position.get(a) - position.get(b));
    }
    sorted.forEach((el) => list.appendChild(el));
  }

  function setFacetCounts(name, count) {
    boxes(name).forEach((b) => {
      const n = b.parentNode.querySelector(".n");
      if (n) n.textContent = String(count(b.value));
    });
  }

  function syncUrl(q, layers, chains) {
    const params = new URLSearchParams();
    if (q) params.set("q", q);
    if (layers.length) params.set("layer", layers.join(","));
    if (chains.length) params.set("chain", chains.join(","));
    const search = params.toString();
    try {
      history.replaceState(null, "", (search ? "?" + search : location.pathname) + location.hash);
    } catch (e) { /* file:// in some browsers: the URL simply does not follow */ }
  }

  function apply(updateUrl) {
    const q = box.value.trim();
    const toks = tokens(q), layers = checked("layer"), chains = checked("chain");
    let shown = 0;
    entries.forEach((el) => {
      const show = textMatch(el, toks) && layerMatch(el, layers) && chainMatch(el, chains);
      if (show) { el.removeAttribute("hidden"); shown += 1; } else { el.setAttribute("hidden", ""); }
    });
    countEl.textContent = String(shown);
    noMatch.hidden = shown !== 0;
    setFacetCounts("layer", (v) => entries.filter((el) =>
      el.dataset.layer === v && textMatch(el, toks) && chainMatch(el, chains)).length);
    setFacetCounts("chain", (v) => entries.filter((el) =>
      chainsOf(el).includes(v) && textMatch(el, toks) && layerMatch(el, layers)).length);
    order(toks);
    const visible = entries.filter((el) => !el.hidden);
    visible.forEach((el) => {
      if (q && (visible.length <= 3 || rank(el, toks) === 0)) {
        el.querySelectorAll("details").forEach((d) => { d.open = true; });
      }
    });
    if (updateUrl) syncUrl(q, layers, chains);
    return shown;
  }

  function clearFilters() {
    box.value = "";
    box.setAttribute("value", "");
    boxes("layer").concat(boxes("chain")).forEach((b) => { b.checked = false; });
  }

  function revealTarget() {
    if (!location.hash) return;
    const target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (!target || !target.classList.contains("dataset")) return;
    if (target.hidden) { clearFilters(); apply(true); }
    target.querySelectorAll("details").forEach((d) => { d.open = true; });
    target.scrollIntoView();
  }

  const params = new URLSearchParams(location.search);
  const q = params.get("q") || "";
  box.value = q;
  box.setAttribute("value", q);
  ["layer", "chain"].forEach((name) => {
    const wanted = (params.get(name) || "").split(",");
    boxes(name).forEach((b) => { b.checked = wanted.includes(b.value); });
  });

  box.addEventListener("input", () => apply(true));
  boxes("layer").concat(boxes("chain")).forEach((b) => b.addEventListener("change", () => apply(true)));
  document.getElementById("clear").addEventListener("click", () => { clearFilters(); apply(true); });
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "/" && document.activeElement !== box) { ev.preventDefault(); box.focus(); }
  });
  window.addEventListener("hashchange", revealTarget);

  const shown = apply(false);
  revealTarget();
  document.body.dataset.ready = "1";
  console.info("datamap ready: " + shown + " of " + entries.length + " datasets shown");
})();
"""
