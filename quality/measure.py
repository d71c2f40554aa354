"""Measure quarantine-enforced rules as GB/T 36344 indicators X = A / B.

For a table whose rules are enforced by quarantining rows, B = rows checked (kept + quarantined)
and A = rows not quarantined for the rule. A rule passes when X ≥ its threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from catalog import Contract, QualityRule


@dataclass(frozen=True)
class RuleResult:
    rule: QualityRule
    checked: int  # B
    failed: int  # B - A
    sample: list[str] = field(default_factory=list)

    @property
    def passed_rows(self) -> int:  # A
        return self.checked - self.failed

    @property
    def ratio(self) -> float:  # X
        return 1.0 if self.checked == 0 else self.passed_rows / self.checked

    @property
    def passed(self) -> bool:
        return self.ratio >= self.rule.threshold

    def as_metadata(self) -> dict[str, object]:
        return {
            "dimension": self.rule.dimension,
            "severity": self.rule.severity,
            "description_zh": self.rule.description_zh,
            "A_rows_passing": self.passed_rows,
            "B_rows_checked": self.checked,
            "X": round(self.ratio, 6),
            "threshold": self.rule.threshold,
            "failing_sample": "\n".join(self.sample) or "none",
        }


def measure_quarantine_rules(
    contract: Contract, kept: DataFrame, quarantined: DataFrame, sample_size: int = 5
) -> list[RuleResult]:
    """One result per rule of ``contract``, over the rows of ``kept`` and ``quarantined``: a rule
    fails on the rows it quarantined and on the kept rows it flagged (``dq_flags``)."""
    checked = kept.count() + quarantined.count()
    by_rule = quarantined.groupBy("rule_id").agg(F.count("*").alias("n")).collect()
    counts = {r.rule_id: r["n"] for r in by_rule}
    flagged: dict[str, int] = {}
    if "dq_flags" in kept.columns:
        flags = kept.select(F.explode(F.split("dq_flags", ";")).alias("flag")).groupBy("flag").count()
        flagged = {r.flag: r["count"] for r in flags.collect() if r.flag}
    results = []
    for rule in contract.quality_rules:
        sample: list[str] = []
        if counts.get(rule.id):
            rows = quarantined.filter(F.col("rule_id") == rule.id).orderBy("_batch_id", "_row_number")
            sample = [r.reason for r in rows.select("reason").limit(sample_size).collect()]
        elif flagged.get(rule.id):
            rows = kept.filter(F.array_contains(F.split("dq_flags", ";"), rule.id)).orderBy(
                "_batch_id", "_row_number"
            )
            sample = [
                f"{r._source_file} line {r._row_number}: kept, flagged {rule.id}"
                for r in rows.limit(sample_size).collect()
            ]
        failed = sum(counts.get(r, 0) for r in (rule.id, *rule.implied_by)) + flagged.get(rule.id, 0)
        results.append(RuleResult(rule, checked, failed, sample))
    unknown = sorted(set(counts) - {r.id for r in contract.quality_rules})
    if unknown:
        raise ValueError(f"{contract.name}: quarantine has rows for rules not in its contract: {unknown}")
    return results


@dataclass(frozen=True)
class Reconciliation:
    """Per batch: upstream rows = kept rows + quarantined rows (+ skipped, for files)."""

    mismatches: list[dict[str, object]]
    batches: int

    @property
    def passed(self) -> bool:
        return not self.mismatches


def reconcile(upstream: DataFrame, kept: DataFrame, quarantined: DataFrame) -> Reconciliation:
    """Compare row counts per ``_batch_id``; every upstream row must be kept or quarantined."""

    def per_batch(df: DataFrame, name: str) -> DataFrame:
        return df.groupBy("_batch_id").agg(F.count("*").alias(name))

    joined = (
        per_batch(upstream, "upstream")
        .join(per_batch(kept, "kept"), "_batch_id", "full_outer")
        .join(per_batch(quarantined, "quarantined"), "_batch_id", "full_outer")
        .fillna(0, ["upstream", "kept", "quarantined"])
    )
    bad = joined.filter(F.col("upstream") != F.col("kept") + F.col("quarantined"))
    return Reconciliation(
        mismatches=[r.asDict() for r in bad.orderBy("_batch_id").limit(20).collect()],
        batches=joined.count(),
    )


def reconcile_ledger(ledger: DataFrame, bronze: DataFrame, quarantined: DataFrame) -> Reconciliation:
    """For every loaded batch of the ledger: rows_read = rows_bronze + rows_quarantined +
    rows_skipped, and bronze / quarantine really hold rows_bronze / rows_quarantined rows."""

    def per_batch(df: DataFrame, name: str) -> DataFrame:
        counted = df.groupBy("_batch_id").agg(F.count("*").alias(name))
        return counted.withColumnRenamed("_batch_id", "batch_id")

    loaded = ledger.filter(F.col("status") == "loaded").select(
        "batch_id", "rows_read", "rows_bronze", "rows_quarantined", "rows_skipped"
    )
    joined = (
        loaded.join(per_batch(bronze, "in_bronze"), "batch_id", "left")
        .join(per_batch(quarantined, "in_quarantine"), "batch_id", "left")
        .fillna(0, ["in_bronze", "in_quarantine"])
    )
    stray = (
        per_batch(bronze, "in_bronze")
        .select("batch_id")
        .unionByName(per_batch(quarantined, "in_quarantine").select("batch_id"))
        .join(loaded, "batch_id", "left_anti")
        .distinct()
    )
    bad = joined.filter(
        (F.col("rows_read") != F.col("rows_bronze") + F.col("rows_quarantined") + F.col("rows_skipped"))
        | (F.col("rows_bronze") != F.col("in_bronze"))
        | (F.col("rows_quarantined") != F.col("in_quarantine"))
    )
    mismatches = [r.asDict() for r in bad.orderBy("batch_id").limit(20).collect()]
    mismatches += [
        {"batch_id": r.batch_id, "problem": "rows in bronze for a batch the ledger does not list as loaded"}
        for r in stray.limit(20).collect()
    ]
    return Reconciliation(mismatches=mismatches, batches=joined.count())
