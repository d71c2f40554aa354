"""silver.enterprise_match_review: candidate enterprises for rows no enterprise could be resolved for.

The silver run of a fact table records the candidates of its unresolved rows
(:func:`record_candidates`, see resolution.py); a person confirms (or rejects) one
(:func:`decide`, ``ibrain review confirm``). Confirming one candidate rejects the row's other
candidates; the next silver run of the source table resolves the row to the confirmed enterprise
and releases it from quarantine.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from catalog import Contract, get_contract
from catalog.tables import LakeTables
from transforms.silver.resolution import ROW_KEY, EnterpriseRef, candidates

if TYPE_CHECKING:
    from transforms.silver.framework import Entity
    from transforms.silver.refs import Refs


def review_contract() -> Contract:
    """silver.enterprise_match_review (read on first use, not at import)."""
    return get_contract("silver", "enterprise_match_review")


class ReviewError(ValueError):
    pass


def unresolved_rows(df: DataFrame, ref: EnterpriseRef) -> DataFrame:
    """The rows of ``df`` (resolved by :func:`~transforms.silver.resolution.resolve`) left
    unresolved for this role: they wait for a person in the review table."""
    role = ref.role
    return df.filter(
        (F.col("rule_id") == "unresolved_enterprise")
        & F.col(f"_res_{role}").isNull()
        & ~F.col(f"_valid_{role}")
    )


def candidate_reviews(df: DataFrame, ref: EnterpriseRef, entity: Entity, refs: Refs) -> DataFrame:
    """The review rows (status pending) of this role's unresolved rows in ``df`` against the
    current master: one per candidate, or one without a candidate when there is none."""
    role = ref.role
    unresolved = unresolved_rows(df, ref)
    rows = unresolved.select(
        *ROW_KEY,
        "_record_hash",
        F.col(ref.uscc_col).alias("reported_uscc"),
        F.col(ref.name_col).alias("reported_name"),
        (F.col(ref.city_col) if ref.city_col else F.lit(None).cast("string")).alias("reported_region"),
    )
    scored = candidates(unresolved, ref, refs)
    with_candidates = rows.join(scored.drop("_record_hash", "_city", "_n"), ROW_KEY, "left")
    return with_candidates.select(
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


def recorded_reviews(tables: LakeTables, entity: Entity, role: str, rows: DataFrame) -> DataFrame:
    """The review rows recorded for this entity and role about the rows of ``rows`` (any status)."""
    contract = review_contract()
    hashes = rows.select("_record_hash").distinct()
    return (
        tables.read(contract.layer, contract.table)
        .filter((F.col("source_table") == entity.silver.name) & (F.col("role") == role))
        .join(hashes, "_record_hash", "left_semi")
    )


def record_candidates(
    df: DataFrame, ref: EnterpriseRef, entity: Entity, refs: Refs, tables: LakeTables
) -> None:
    """Make the review rows about the rows of ``df`` (the rows a silver build evaluated) say what
    is waiting now: decisions (confirmed, rejected) are kept as they are; pending rows are the
    current candidates of this role's unresolved rows — new candidates are added, pending rows
    whose row has since been resolved (the registry arrived after the facts) or whose candidate
    left the master are removed, and a pending candidate's confidence follows the master. So the
    table does not depend on the order in which the registry and the facts arrived. One MERGE."""
    contract = review_contract()
    current = candidate_reviews(df, ref, entity, refs)
    recorded = recorded_reviews(tables, entity, ref.role, df)
    scope = sorted(r.review_id for r in recorded.select("review_id").collect())
    if not scope:  # nothing recorded about these rows: add the candidates, if any
        if current.limit(1).count():
            tables.merge(contract, current, keys=["review_id"], insert_only=True)
        else:
            tables.ensure(contract)  # the table people look into exists even while nothing waits
        return
    decided = recorded.filter(F.col("status") != "pending").select(*contract.column_names)
    waiting = current.join(decided.select("review_id"), "review_id", "left_anti")
    wanted = decided.unionByName(waiting.select(*contract.column_names))
    tables.merge(contract, wanted, keys=["review_id"], replace_column="review_id", replace_values=scope)


def pending(tables: LakeTables) -> list[dict]:
    df = tables.read(review_contract().layer, review_contract().table).filter(F.col("status") == "pending")
    return [
        r.asDict() for r in df.orderBy("source_table", "_batch_id", "_row_number", "confidence").collect()
    ]


def decide(tables: LakeTables, review_id: str, decision: str, by: str) -> dict:
    if decision not in ("confirmed", "rejected"):
        raise ReviewError(f"decision must be confirmed or rejected, not {decision!r}")
    reviews = tables.read(review_contract().layer, review_contract().table)
    found = reviews.filter(F.col("review_id") == review_id).collect()
    if not found:
        raise ReviewError(f"no review {review_id!r} in silver.enterprise_match_review")
    row = found[0].asDict()
    if row["candidate_enterprise_id"] is None and decision == "confirmed":
        raise ReviewError(f"review {review_id} has no candidate enterprise to confirm")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    same_row = reviews.filter((F.col("source_table") == row["source_table"]) & (F.col("role") == row["role"])
                              & (F.col("_record_hash") == row["_record_hash"]))  # fmt: skip
    status = F.when(F.col("review_id") == review_id, F.lit(decision))
    if decision == "confirmed":
        status = status.otherwise(F.lit("rejected"))
    else:
        status = status.otherwise(F.col("status"))
    updated = same_row.withColumns(
        {
            "status": status,
            "decided_by": F.when(F.col("review_id") == review_id, F.lit(by)).otherwise(F.col("decided_by")),
            "decided_at": F.when(F.col("review_id") == review_id, F.lit(now)).otherwise(F.col("decided_at")),
        }
    )
    tables.merge(review_contract(), updated, keys=["review_id"])
    return row | {"status": decision, "decided_by": by}
