"""Building the data map (数据地图, ``ibrain catalog build``): compile the dbt project for column
lineage, check grading over the lineage (就高从严) and the lake's tables against their contracts,
write the page (catalog/datamap.py) and the OpenLineage events (catalog/openlineage_events.py).

Table lineage comes from the caller (the asset graph, orchestration/lineage.py): the catalog does
not import the orchestration layer.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog.contracts import Contract, ContractError, load_catalog
from catalog.datamap import LAYER_LABELS, datasets, has_scorecard, read_scores, render_datamap
from catalog.grading import check_grading
from catalog.lineage import LineageBuilder, LineageError, compile_manifest
from catalog.openlineage_events import OpenLineageError, run_events, write_events
from catalog.publishing import catalog_api_problems
from ibrain.lake import Lake

OPENLINEAGE_PRODUCER = "urn:industry-brain:ibrain-catalog-build"


class DataMapError(RuntimeError):
    """The data map could not be built (contracts, dbt compile, OpenLineage events)."""


@dataclass
class DataMapBuild:
    """What a build wrote and found."""

    index: Path  # the page
    openlineage_dir: Path
    events: int  # OpenLineage events written
    layers: dict[str, int]  # datasets per layer, in facet order
    scores: int  # datasets with a quality score
    findings: list[str] = field(default_factory=list)  # grading over the lineage; API products
    mismatches: list[str] = field(default_factory=list)  # lake tables against their contracts

    @property
    def datasets(self) -> int:
        return sum(self.layers.values())

    @property
    def ok(self) -> bool:
        return not self.findings and not self.mismatches


def quality_scores(lake: Lake) -> dict[str, dict[str, Any]]:
    """quality.dq_scorecard's latest overall scores, or {} while it does not exist (without
    starting the engine)."""
    if not has_scorecard(lake):
        return {}
    from catalog.tables import LakeTables

    return read_scores(LakeTables(lake=lake))


def lake_mismatches(lake: Lake, contracts: dict[str, Contract]) -> list[str]:
    """The lake's Delta tables against their contracts (none when the lake is still empty)."""
    if not lake.delta_tables():
        return []
    from catalog.consistency import lake_problems
    from catalog.tables import LakeTables

    return lake_problems(lake, LakeTables(lake=lake).spark, contracts)


def build_data_map(
    table_lineage: dict[str, set[str]],
    out_dir: Path,
    lake: Lake | None = None,
    now: dt.datetime | None = None,
    on_step: Callable[[str], None] = lambda step: None,
) -> DataMapBuild:
    """Write ``out_dir/index.html`` and ``out_dir/openlineage/``; ``on_step`` hears what is being
    done (for a progress line). Findings are returned, not raised: the page shows them."""
    lake = lake or Lake()
    now = now or dt.datetime.now(dt.UTC)
    try:
        contracts = load_catalog()
        on_step("compiling the dbt project for column lineage (ibrain-dbt compile)")
        lineage = LineageBuilder(table_lineage, compile_manifest()).lineage
    except (ContractError, LineageError) as exc:
        raise DataMapError(str(exc)) from exc
    graded = check_grading(contracts, lineage)
    on_step("checking the lake's tables against their contracts")
    mismatches = lake_mismatches(lake, contracts)
    on_step("reading the quality scores")
    scores = quality_scores(lake)
    on_step("writing the page and the OpenLineage events")
    out_dir.mkdir(parents=True, exist_ok=True)
    index = out_dir / "index.html"
    page = render_datamap(contracts, lineage, graded, scores, generated_at=now)
    index.write_text(page, encoding="utf-8")
    events = run_events(lineage, contracts, lake.settings.lake_root, OPENLINEAGE_PRODUCER, now)
    try:
        write_events(events, out_dir / "openlineage")
    except OpenLineageError as exc:
        raise DataMapError(f"OpenLineage events not written (the data map is at {index}): {exc}") from exc
    layers = Counter(d.layer for d in datasets(contracts, lineage).values())
    order = [x for x in LAYER_LABELS if x in layers] + sorted(set(layers) - set(LAYER_LABELS))
    return DataMapBuild(
        index=index,
        openlineage_dir=out_dir / "openlineage",
        events=len(events),
        layers={x: layers[x] for x in order},
        scores=len(scores),
        # grading over the lineage, and the API products' publishing check (catalog/publishing.py)
        findings=[str(f) for f in graded] + catalog_api_problems(contracts),
        mismatches=mismatches,
    )
