"""Entity resolution: which enterprise a fact row is about.

USCC first: a valid USCC identifies the enterprise (``enterprise_id`` = E + 16 hex of its
SHA-256, the same on every rebuild). A row without a valid USCC is matched on the canonical
company name against the master's current names: a single match in the row's own city (or, for
sources without a region, a single match at all) resolves it with confidence 0.95 (0.9), and the
row is kept with the ``uscc_check_digit`` flag. Anything less goes to quarantine as
``unresolved_enterprise`` and its candidates are written to ``silver.enterprise_match_review``;
a candidate a person confirms there resolves the row on the next run (``resolution = review``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from ibrain.uscc import spark_is_valid_sql
from transforms.silver.review import review_contract

if TYPE_CHECKING:
    from catalog.tables import LakeTables
    from transforms.silver.framework import Entity
    from transforms.silver.refs import Refs

AUTO_CONFIDENCE = 0.9
_KEY = ["_batch_id", "_row_number"]


@dataclass(frozen=True)
class EnterpriseRef:
    """One enterprise a row refers to. Resolution adds ``_id_<role>``, ``_uscc_<role>`` (the
    resolved enterprise), ``_res_<role>`` (uscc | name | name_region | review) and ``_flag_<role>``."""

    role: str  # enterprise | buyer | supplier
    uscc_col: str  # the standardised reported USCC
    name_col: str | None = None  # the reported name (resolution by name when present)
    city_col: str | None = None  # the row's city code (narrows the name match)
    bronze_uscc: str = "uscc"  # bronze columns named in reasons
    bronze_name: str | None = None


def resolved_columns(reported: str, role: str = "enterprise") -> list[Column]:
    """The silver columns of a row's resolved enterprise: id, USCC, the USCC as reported when it
    differs (after standardising), and how it was resolved."""
    return [
        F.col(f"_id_{role}").alias("enterprise_id"),
        F.col(f"_uscc_{role}").alias("uscc"),
        F.when(F.col(reported) != F.col(f"_uscc_{role}"), F.col(reported)).alias("uscc_reported"),
        F.col(f"_res_{role}").alias("resolution"),
    ]


def enterprise_id(uscc: Column) -> Column:
    return F.concat(F.lit("E"), F.substring(F.sha2(uscc, 256), 1, 16))


def enterprise_id_py(uscc: str) -> str:
    return "E" + hashlib.sha256(uscc.encode()).hexdigest()[:16]


def candidates(rows: DataFrame, ref: EnterpriseRef, refs: Refs) -> DataFrame:
    """Master enterprises with the same canonical name as each row's reported name, scored."""
    from transforms.silver.text import canonical_name

    city = F.col(ref.city_col) if ref.city_col else F.lit(None).cast("string")
    named = rows.select(
        *_KEY, "_record_hash", canonical_name(F.col(ref.name_col)).alias("_name_c"), city.alias("_city")
    )
    master = refs.master_current
    found = named.join(master, named["_name_c"] == master["name_canonical"]).select(
        *_KEY, "_record_hash", "_city", "enterprise_id", "uscc", "enterprise_name", "city_code"
    )
    counts = found.groupBy(*_KEY).agg(F.count("*").alias("_n"))
    confidence = (
        F.when(F.col("_n") > 1, F.lit(0.5))
        .when(F.col("_city").isNull(), F.lit(0.9))
        .when(F.col("_city") == F.col("city_code"), F.lit(0.95))
        .otherwise(F.lit(0.6))
    )
    return found.join(counts, _KEY).withColumn("confidence", confidence)


def resolve(df: DataFrame, ref: EnterpriseRef, entity: Entity, refs: Refs) -> DataFrame:
    role = ref.role
    valid = F.expr(spark_is_valid_sql(ref.uscc_col))
    df = df.withColumn(f"_valid_{role}", valid)
    if ref.name_col is None:  # identity by USCC only (an invalid one is rejected by a rule)
        return df.withColumns(
            {
                f"_id_{role}": F.when(valid, enterprise_id(F.col(ref.uscc_col))),
                f"_uscc_{role}": F.when(valid, F.col(ref.uscc_col)),
                f"_res_{role}": F.when(valid, F.lit("uscc")),
                f"_flag_{role}": F.lit(None).cast("string"),
            }
        )

    pending = df.filter(~F.col(f"_valid_{role}") & F.col("rule_id").isNull())
    scored = candidates(pending, ref, refs)
    auto = scored.filter(F.col("confidence") >= AUTO_CONFIDENCE).select(
        *_KEY, F.col("enterprise_id").alias("_auto_id"), F.col("uscc").alias("_auto_uscc")
    )
    confirmed = (
        refs.confirmed_matches.filter((F.col("source_table") == entity.silver.name) & (F.col("role") == role))
        .select(
            F.col("_record_hash").alias("_conf_hash"),
            F.col("candidate_enterprise_id").alias("_conf_id"),
            F.col("candidate_uscc").alias("_conf_uscc"),
        )
        .dropDuplicates(["_conf_hash"])
    )
    df = df.join(auto, _KEY, "left").join(confirmed, F.col("_record_hash") == F.col("_conf_hash"), "left")

    uscc = F.col(ref.uscc_col)
    by_name = "name_region" if ref.city_col else "name"
    resolution = (
        F.when(F.col(f"_valid_{role}"), F.lit("uscc"))
        .when(F.col("_conf_id").isNotNull(), F.lit("review"))
        .when(F.col("_auto_id").isNotNull(), F.lit(by_name))
    )
    unresolved = F.col("rule_id").isNull() & resolution.isNull()
    bronze = entity.bronze
    reason = F.concat(
        F.col("_source_file"),
        F.lit(" line "),
        F.col("_row_number").cast("string"),
        F.lit(f": {bronze.column(ref.bronze_uscc).name_zh} '"),
        F.coalesce(F.col(ref.bronze_uscc), F.lit("")),
        F.lit("' is not a valid USCC and "),
        F.lit(f"{bronze.column(ref.bronze_name).name_zh} '" if ref.bronze_name else "the name '"),
        F.coalesce(F.col(ref.bronze_name or ref.name_col), F.lit("")),
        F.lit(
            "' matches no single enterprise"
            + (" in its city" if ref.city_col else "")
            + "; candidates in silver.enterprise_match_review"
        ),
    )
    df = df.withColumns(
        {
            f"_id_{role}": F.when(F.col(f"_valid_{role}"), enterprise_id(uscc)).otherwise(
                F.coalesce(F.col("_conf_id"), F.col("_auto_id"))
            ),
            f"_uscc_{role}": F.when(F.col(f"_valid_{role}"), uscc).otherwise(
                F.coalesce("_conf_uscc", "_auto_uscc")
            ),
            f"_res_{role}": resolution,
            f"_flag_{role}": F.when(
                ~F.col(f"_valid_{role}") & resolution.isNotNull(), F.lit("uscc_check_digit")
            ),
            "rule_id": F.when(unresolved, F.lit("unresolved_enterprise")).otherwise(F.col("rule_id")),
            "reason": F.when(unresolved, reason).otherwise(F.col("reason")),
        }
    ).drop("_auto_id", "_auto_uscc", "_conf_hash", "_conf_id", "_conf_uscc")
    return df


def record_reviews(df: DataFrame, ref: EnterpriseRef, entity: Entity, refs: Refs, tables: LakeTables) -> None:
    """Write the candidates of this role's unresolved rows (new ones only: decisions are kept)."""
    role = ref.role
    unresolved = df.filter(
        (F.col("rule_id") == "unresolved_enterprise")
        & F.col(f"_res_{role}").isNull()
        & ~F.col(f"_valid_{role}")
    )
    rows = unresolved.select(
        *_KEY,
        "_record_hash",
        F.col(ref.uscc_col).alias("reported_uscc"),
        F.col(ref.name_col).alias("reported_name"),
        (F.col(ref.city_col) if ref.city_col else F.lit(None).cast("string")).alias("reported_region"),
    )
    scored = candidates(unresolved, ref, refs)
    with_candidates = rows.join(scored.drop("_record_hash", "_city", "_n"), _KEY, "left")
    review = with_candidates.select(
        F.sha2(
            F.concat_ws(
                "|",
                F.lit(entity.silver.name),
                F.lit(role),
                "_record_hash",
                F.coalesce("enterprise_id", F.lit("-")),
            ),
            256,
        ).alias("review_id"),
        F.lit(entity.silver.name).alias("source_table"),
        F.lit(role).alias("role"),
        "_record_hash",
        "_batch_id",
        "_row_number",
        "reported_uscc",
        "reported_name",
        "reported_region",
        F.col("enterprise_id").alias("candidate_enterprise_id"),
        F.col("uscc").alias("candidate_uscc"),
        F.col("enterprise_name").alias("candidate_name"),
        "confidence",
        F.lit("pending").alias("status"),
        F.lit(None).cast("string").alias("decided_by"),
        F.lit(None).cast("timestamp").alias("decided_at"),
    )
    if review.limit(1).count():
        tables.merge(review_contract(), review, keys=["review_id"], insert_only=True)
    else:
        tables.ensure(review_contract())  # the table people look into exists even while nothing waits
