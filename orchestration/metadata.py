"""Dagster asset metadata derived from catalog contracts (never written twice by hand)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import dagster as dg

from catalog import LEVEL_TAGS, Contract


def column_schema(contract: Contract) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=c.name,
                type=c.type,
                description=f"{c.name_zh}" + (f" — {c.description}" if c.description else ""),
                constraints=dg.TableColumnConstraints(nullable=c.nullable),
                tags={"classification": LEVEL_TAGS[c.classification]},
            )
            for c in contract.columns
        ]
    )


def contract_metadata(contract: Contract) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "dagster/column_schema": column_schema(contract),
        "dagster/table_name": contract.name,
        "name_zh": contract.name_zh,
        "name_en": contract.name_en,
        "grain": contract.grain,
        "primary_key": ", ".join(contract.primary_key),
        "classification": contract.classification,
        "update_frequency": contract.update_frequency,
    }
    if contract.sla:
        meta["sla"] = contract.sla
    if contract.source_system:
        meta["source_system"] = contract.source_system
    if contract.path:
        meta["contract"] = dg.MetadataValue.path(str(contract.path))
    return meta


# How long after its last materialisation an asset with an SLA counts as stale (Dagster freshness
# FAIL), by the contract's update frequency: one period plus the SLA's grace (a monthly table is due
# by the 5th-15th of the following month: 40 days). Frequencies without a period (on_arrival,
# on_change, per_run) get no policy.
FRESHNESS_WINDOWS = {
    "hourly": dt.timedelta(hours=3),
    "daily": dt.timedelta(hours=26),
    "monthly": dt.timedelta(days=40),
    "quarterly": dt.timedelta(days=100),
    "yearly": dt.timedelta(days=380),
}


def freshness_policy(contract: Contract) -> dg.FreshnessPolicy | None:
    """A time-window freshness policy for a contract with an SLA, from its update frequency."""
    window = FRESHNESS_WINDOWS.get(contract.update_frequency)
    if not contract.sla or window is None:
        return None
    return dg.FreshnessPolicy.time_window(fail_window=window)


def contract_tags(contract: Contract) -> dict[str, str]:
    return {"layer": contract.layer, "classification": LEVEL_TAGS[contract.classification]}


def asset_spec(
    contract: Contract, deps: Iterable[Sequence[str] | dg.AssetKey] = (), kinds: set[str] | None = None
) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=contract.asset_key,
        deps=[dg.AssetKey(d) if not isinstance(d, dg.AssetKey) else d for d in deps],
        description=f"{contract.name_zh} — {contract.description}",
        metadata=contract_metadata(contract),
        owners=[contract.owner],
        tags=contract_tags(contract),
        group_name=contract.layer,
        kinds=kinds or {"delta", "spark"},
        skippable=True,
        freshness_policy=freshness_policy(contract),
    )


def external_spec(contract: Contract) -> dg.AssetSpec:
    """A table written as a side effect (landing, API pulls, review decisions), shown for lineage."""
    return dg.AssetSpec(
        key=contract.asset_key,
        description=f"{contract.name_zh} — {contract.description}",
        metadata=contract_metadata(contract),
        owners=[contract.owner],
        group_name=contract.layer,
        kinds={"delta"},
    )
