"""bronze.gov_stats_monthly → silver.enterprise_month_stats (+ quarantine).

Incremental by period: a period is rebuilt when the set of batches bronze holds for it differs
from the set silver and its quarantine were built from (a new delivery, a correction, a withdrawn
batch). Each rebuilt period is replaced atomically in both tables, so re-running changes nothing.

Every bronze row lands in exactly one of silver or quarantine; the first rule it breaks is the
one recorded, in the order uscc_check_digit, report_period, numeric_format, then duplicate.
Among duplicates (same USCC and period) the survivor is the row of the latest batch, then the
lowest line number.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from catalog import get_contract
from ibrain.delta import in_predicate
from ibrain.tables import LakeTables
from ibrain.uscc import ALPHABET, spark_check_char_sql, spark_is_valid_sql
from transforms.silver.text import clean_text, number_text, period_from_text

BRONZE = get_contract("bronze", "gov_stats_monthly")
SILVER = get_contract("silver", "enterprise_month_stats")
QUARANTINE = get_contract("quarantine", "silver_enterprise_month_stats")
LINEAGE = ["_batch_id", "_source_file", "_row_number", "_record_hash", "_ingested_at"]
AMOUNTS = ["gross_output", "revenue", "total_profit", "energy_consumption"]


@dataclass
class SilverReport:
    periods: list[str] = field(default_factory=list)
    rows_in: int = 0
    rows_silver: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)

    def as_metadata(self) -> dict[str, object]:
        return {
            "periods_rebuilt": ", ".join(self.periods) or "none",
            "rows_in": self.rows_in,
            "rows_silver": self.rows_silver,
            **{f"quarantined_{k}": v for k, v in sorted(self.quarantined.items())},
        }


def stale_periods(tables: LakeTables) -> list[str]:
    """Periods (YYYY-MM) whose bronze batches differ from those silver was built from."""
    bronze = tables.read(BRONZE.layer, BRONZE.table).select("period", "_batch_id").distinct()
    silver = tables.read(SILVER.layer, SILVER.table).select(
        F.date_format("period", "yyyy-MM").alias("period"), "_batch_id"
    )
    quarantine = tables.read(QUARANTINE.layer, QUARANTINE.table).select("period", "_batch_id")
    built = silver.unionByName(quarantine).distinct()
    changed = bronze.exceptAll(built).unionByName(built.exceptAll(bronze))
    return sorted({r.period for r in changed.select("period").distinct().collect()})


def _located(field_zh: str, value: str, problem: F.Column) -> F.Column:
    """'<file> line <n>: <field> '<value as received>' <problem>' — where and what, for people."""
    return F.concat(
        F.col("_source_file"),
        F.lit(" line "),
        F.col("_row_number").cast("string"),
        F.lit(f": {field_zh} '"),
        F.coalesce(F.col(value), F.lit("")),
        F.lit("' "),
        problem,
    )


def standardise(bronze: DataFrame) -> DataFrame:
    """Typed, cleaned columns plus ``rule_id``/``reason`` for the first rule each row breaks."""
    numeric = [*AMOUNTS, "avg_employees"]
    df = bronze.withColumns(
        {
            "uscc_n": F.upper(F.regexp_replace(clean_text(F.col("uscc")), r"\s+", "")),
            "enterprise_name_n": clean_text(F.col("enterprise_name")),
            "region_code_n": clean_text(F.col("region_code")),
            "industry_code_n": F.regexp_replace(F.upper(clean_text(F.col("industry_code"))), "^[A-T]", ""),
            "period_n": period_from_text(F.col("report_period")),
            "batch_period": F.to_date(F.concat(F.col("period"), F.lit("-01"))),
            **{f"{c}_t": number_text(F.col(c)) for c in numeric},
        }
    )
    df = df.withColumns(
        {
            **{f"{c}_n": F.expr(f"try_cast({c}_t AS decimal(18,2))") for c in AMOUNTS},
            "avg_employees_n": F.expr("try_cast(avg_employees_t AS int)"),
        }
    )
    uscc_problem = (
        F.when(F.col("uscc_n").isNull(), F.lit("is empty"))
        .when(
            F.length("uscc_n") != 18,
            F.concat(F.lit("has length "), F.length("uscc_n").cast("string"), F.lit(", expected 18")),
        )
        .when(
            ~F.col("uscc_n").rlike(f"^[{ALPHABET}]{{18}}$"),
            F.lit("has characters outside the GB 32100 alphabet"),
        )
        .otherwise(
            F.concat(
                F.lit("has check digit "),
                F.substring("uscc_n", 18, 1),
                F.lit(", expected "),
                F.expr(spark_check_char_sql("uscc_n")),
            )
        )
    )
    period_problem = F.when(F.col("period_n").isNull(), F.lit("cannot be read as a month")).otherwise(
        F.concat(F.lit("differs from the delivery's period "), F.col("period"))
    )
    checks: list[tuple[str, F.Column, F.Column]] = [
        (
            "uscc_check_digit",
            ~F.expr(spark_is_valid_sql("uscc_n")),
            _located("统一社会信用代码", "uscc", uscc_problem),
        ),
        (
            "report_period",
            F.col("period_n").isNull() | (F.col("period_n") != F.col("batch_period")),
            _located("报告期", "report_period", period_problem),
        ),
    ]
    checks += [
        (
            "numeric_format",
            F.col(f"{c}_t").isNotNull() & F.col(f"{c}_n").isNull(),
            _located(BRONZE.column(c).name_zh, c, F.lit("is not a number")),
        )
        for c in numeric
    ]
    rule_id = reason = None
    for rule, failed, text in checks:
        rule_id = F.when(failed, F.lit(rule)) if rule_id is None else rule_id.when(failed, F.lit(rule))
        reason = F.when(failed, text) if reason is None else reason.when(failed, text)
    return df.withColumns({"rule_id": rule_id, "reason": reason})


def mark_duplicates(df: DataFrame) -> DataFrame:
    """Flag all but one row per (USCC, period) among rows that passed the other rules."""
    window = Window.partitionBy("uscc_n", "period_n").orderBy(
        F.col("_ingested_at").desc(), F.col("_batch_id").desc(), F.col("_row_number").asc()
    )
    ranked = df.withColumns(
        {
            "_rank": F.when(F.col("rule_id").isNull(), F.row_number().over(window)),
            "_survivor_hash": F.first("_record_hash").over(window),
            "_survivor_at": F.first(
                F.concat_ws(" line ", "_source_file", F.col("_row_number").cast("string"))
            ).over(window),
        }
    )
    is_dup = F.col("_rank") > 1
    return ranked.withColumns(
        {
            "rule_id": F.when(is_dup, F.lit("duplicate")).otherwise(F.col("rule_id")),
            "reason": F.when(
                is_dup,
                F.concat(
                    F.col("_source_file"),
                    F.lit(" line "),
                    F.col("_row_number").cast("string"),
                    F.lit(": duplicate of USCC "),
                    F.col("uscc_n"),
                    F.lit(" for this period; kept "),
                    F.col("_survivor_at"),
                    F.lit(" (record hash "),
                    F.col("_survivor_hash"),
                    F.lit(")"),
                ),
            ).otherwise(F.col("reason")),
        }
    )


def to_silver(df: DataFrame) -> DataFrame:
    return df.filter(F.col("rule_id").isNull()).select(
        F.col("uscc_n").alias("uscc"),
        F.col("enterprise_name_n").alias("enterprise_name"),
        F.col("region_code_n").alias("region_code"),
        F.col("industry_code_n").alias("industry_code"),
        F.col("period_n").alias("period"),
        *[F.col(f"{c}_n").alias(c) for c in [*AMOUNTS, "avg_employees"]],
        "reporting_unit",
        *LINEAGE,
    )


def to_quarantine(df: DataFrame) -> DataFrame:
    raw = F.to_json(F.struct(*[F.col(c) for c in BRONZE.column_names if BRONZE.column(c).source_header]))
    return df.filter(F.col("rule_id").isNotNull()).select(
        *LINEAGE,
        "reporting_unit",
        "period",
        "rule_id",
        "reason",
        raw.alias("raw"),
        F.current_timestamp().alias("quarantined_at"),
    )


def build(tables: LakeTables, periods: list[str] | None = None) -> SilverReport:
    """Rebuild the given periods (default: the stale ones) of silver and its quarantine."""
    periods = stale_periods(tables) if periods is None else sorted(periods)
    report = SilverReport(periods=periods)
    if not periods:
        return report
    bronze = tables.read(BRONZE.layer, BRONZE.table).filter(in_predicate("period", periods))
    checked = mark_duplicates(standardise(bronze))
    silver = to_silver(checked)
    quarantine = to_quarantine(checked)
    silver_scope = in_predicate("period", [dt.date.fromisoformat(f"{p}-01") for p in periods])
    quarantine_scope = in_predicate("period", periods)
    tables.replace_where(SILVER, silver, silver_scope)
    tables.replace_where(QUARANTINE, quarantine, quarantine_scope)

    silver_now = tables.read(SILVER.layer, SILVER.table).filter(silver_scope)
    quarantine_now = tables.read(QUARANTINE.layer, QUARANTINE.table).filter(quarantine_scope)
    report.rows_in = bronze.count()
    report.rows_silver = silver_now.count()
    report.quarantined = {r.rule_id: r["count"] for r in quarantine_now.groupBy("rule_id").count().collect()}
    return report
