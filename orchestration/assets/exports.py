"""Exports declared in the contracts (``exports:``), as assets under the exchange layer."""

import dagster as dg

from catalog import Contract, load_catalog
from orchestration.resources import SparkResource
from serving.exports import export_table


def export_asset(contract: Contract, export: dict[str, str]) -> dg.AssetsDefinition:
    name = export["name"]

    @dg.asset(
        key=["exchange", name],
        deps=[dg.AssetKey(contract.asset_key)],
        group_name="exchange",
        owners=[contract.owner],
        kinds={"csv"},
        tags={"layer": "exchange", "classification": "general"},
        description=f"{contract.name_zh} → {export['recipient']}: only columns graded 一般.",
    )
    def _export(spark: SparkResource) -> dg.MaterializeResult:
        result = export_table(spark.tables(), contract, name, export["recipient"])
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(result.uri),
                "rows": result.rows,
                "columns": ", ".join(result.columns),
                "withheld": ", ".join(result.withheld) or "none",
                "sha256": result.sha256,
            }
        )

    return _export


def export_assets() -> list[dg.AssetsDefinition]:
    return [
        export_asset(contract, export) for contract in load_catalog().values() for export in contract.exports
    ]
