"""silver.enterprise: the enterprise master (一企一档) as an SCD type-2 table.

The versions are derived from silver.registry_record: per enterprise, ordered by ``updated_at``,
a new version starts whenever the tracked attributes change (``attributes_hash``); it is valid
until the next one starts. The derived history is MERGEd into the table on (enterprise_id,
valid_from): a new version inserts a row and closes the previous one (valid_to, is_current),
an unchanged history writes nothing — re-running adds no SCD2 rows.

The table's own check, :data:`ONE_CURRENT_VERSION`: every enterprise has exactly one current
version (B = the enterprises, A = B − how far the current rows are from one per enterprise).
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from catalog import Contract, QualityRule, get_contract
from catalog.tables import LakeTables

ONE_CURRENT_VERSION = QualityRule(
    id="one_current_version",
    dimension="一致性",
    severity="ERROR",
    threshold=1.0,
    description_zh="每个企业恰有一条当前版本",
)
TRACKED = [
    "enterprise_name",
    "legal_representative",
    "registered_capital",
    "established_on",
    "address",
    "region_code",
    "industry_code",
    "reg_status",
    "enterprise_type",
]


@dataclass
class MasterReport:
    enterprises: int
    versions: int
    current: int
    version_before: int | None
    version_after: int | None

    def as_metadata(self) -> dict[str, object]:
        return {
            "enterprises": self.enterprises,
            "versions": self.versions,
            "current_rows": self.current,
            "delta_version": self.version_after if self.version_after is not None else "none",
            "changed": self.version_before != self.version_after,
        }

    @property
    def current_version_errors(self) -> int:
        """How far the current rows are from one per enterprise."""
        return abs(self.current - self.enterprises)

    @property
    def one_current_version(self) -> bool:
        return self.current == self.enterprises


def master_contract() -> Contract:
    return get_contract("silver", "enterprise")


def history(records: DataFrame) -> DataFrame:
    attrs = F.sha2(
        F.concat_ws("\x1f", *[F.coalesce(F.col(c).cast("string"), F.lit("\x00")) for c in TRACKED]), 256
    )
    ordered = Window.partitionBy("enterprise_id").orderBy("updated_at", "_record_hash")
    df = records.withColumn("attributes_hash", attrs).withColumn(
        "_previous", F.lag("attributes_hash").over(ordered)
    )
    versions = df.filter(F.col("_previous").isNull() | (F.col("_previous") != F.col("attributes_hash")))
    by_start = Window.partitionBy("enterprise_id").orderBy("updated_at")
    versions = versions.withColumns(
        {
            "valid_from": F.col("updated_at"),
            "valid_to": F.lead("updated_at").over(by_start),
        }
    ).withColumn("is_current", F.col("valid_to").isNull())
    return versions.select(*master_contract().column_names)


def build(tables: LakeTables) -> MasterReport:
    from ibrain import delta

    contract = master_contract()
    ref = tables.ref(contract)
    before = delta.version(tables.lake, ref) if tables.exists(contract) else None
    records = tables.read("silver", "registry_record")
    tables.merge(contract, history(records), keys=["enterprise_id", "valid_from"], replace_all=True)
    master = tables.read(contract.layer, contract.table)
    after = delta.version(tables.lake, ref) if tables.exists(contract) else None
    return MasterReport(
        enterprises=master.select("enterprise_id").distinct().count(),
        versions=master.count(),
        current=master.filter("is_current").count(),
        version_before=before,
        version_after=after,
    )
