"""Decisions on silver.enterprise_match_review: a person confirms (or rejects) a candidate.

Confirming one candidate rejects the row's other candidates; the next silver run of the source
table resolves the row to the confirmed enterprise and releases it from quarantine.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import functions as F

from catalog import Contract, get_contract
from catalog.tables import LakeTables


def review_contract() -> Contract:
    """silver.enterprise_match_review: candidates waiting for (or given) a person's decision."""
    return get_contract("silver", "enterprise_match_review")


class ReviewError(ValueError):
    pass


def pending(tables: LakeTables) -> list[dict]:
    df = tables.read("silver", "enterprise_match_review").filter(F.col("status") == "pending")
    return [
        r.asDict() for r in df.orderBy("source_table", "_batch_id", "_row_number", "confidence").collect()
    ]


def decide(tables: LakeTables, review_id: str, decision: str, by: str) -> dict:
    if decision not in ("confirmed", "rejected"):
        raise ReviewError(f"decision must be confirmed or rejected, not {decision!r}")
    reviews = tables.read("silver", "enterprise_match_review")
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
