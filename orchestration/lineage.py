"""Table lineage read from the one Dagster ``Definitions`` (dbt refs and sources included)."""

from __future__ import annotations

import dagster as dg


def asset_table_lineage(defs: dg.Definitions) -> dict[str, set[str]]:
    """``layer.table`` → its upstream ``layer.table`` names, for catalog/lineage.py."""
    graph = defs.resolve_asset_graph()
    out: dict[str, set[str]] = {}
    for key in graph.get_all_asset_keys():
        if len(key.path) != 2:
            continue
        out[".".join(key.path)] = {".".join(p.path) for p in graph.get(key).parent_keys if len(p.path) == 2}
    return out
