"""Measure quarantine-enforced rules as GB/T 36344 indicators X = A / B.

For a table whose rules are enforced by quarantining rows, B = rows checked (kept + quarantined)
and A = rows not quarantined for the rule. A rule passes when X ≥ its threshold.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from catalog import Contract, QualityRule


@dataclass(frozen=True)
class RuleResult:
    rule: QualityRule
    checked: int  # B
    failed: int  # B - A
    sample: list[str] = field(default_factory=list)
    period: dt.date | None = None  # the month of the batch (None: the whole table)
    batch_id: str | None = None  # the delivery batch measured (None: a whole month or table)
    # A batch with fewer than MIN_ROWS rows is too small to judge alone (one bad row of three is
    # not a 33 % defect rate): below the threshold, it passes or fails with its month's X (or the
    # table's, if the month is small too). A clean batch always passes.
    pooled_ratio: float | None = None

    @property
    def passed_rows(self) -> int:  # A
        return self.checked - self.failed

    @property
    def ratio(self) -> float:  # X
        return 1.0 if self.checked == 0 else self.passed_rows / self.checked

    @property
    def judged_ratio(self) -> float:
        """X as judged: a small batch below the threshold is judged with its month (or table)."""
        if self.pooled_ratio is None or self.ratio >= self.rule.threshold:
            return self.ratio
        return self.pooled_ratio

    @property
    def passed(self) -> bool:
        return self.judged_ratio >= self.rule.threshold


MIN_ROWS = 50  # below this, a batch under its threshold is judged with its month (or table)


def month_of(column: str = "period"):
    """The month (first day) of a period column that is a date or YYYY-MM[-DD] text."""
    text = F.substring(F.col(column).cast("string"), 1, 7)
    return F.to_date(F.concat(text, F.lit("-01")))


def _ratio(checked: int, failed: int) -> float:
    return 1.0 if checked == 0 else 1 - failed / checked


def measure_quarantine_rules(
    contract: Contract, kept: DataFrame, quarantined: DataFrame, sample_size: int = 5
) -> list[RuleResult]:
    """One result per rule of ``contract`` and delivery batch (``_batch_id``), over the rows of
    ``kept`` and ``quarantined``: a rule fails on the rows it quarantined and on the kept rows it
    flagged (``dq_flags``).

    Measured per batch, as GB/T 36344 asks (X = rows kept / rows checked of the batch), so one bad
    delivery shows by itself rather than diluted by a year of good ones.
    """
    keys = ["_batch_id", "_month"]
    kept_m, quarantined_m = (
        kept.withColumn("_month", month_of()),
        quarantined.withColumn("_month", month_of()),
    )
    checked: dict[tuple[str, dt.date], int] = {}
    for df in (kept_m, quarantined_m):
        for r in df.groupBy(*keys).count().collect():
            checked[(r._batch_id, r._month)] = checked.get((r._batch_id, r._month), 0) + r["count"]
    counts = {
        (r._batch_id, r._month, r.rule_id): r["n"]
        for r in quarantined_m.groupBy(*keys, "rule_id").agg(F.count("*").alias("n")).collect()
    }
    flagged: dict[tuple[str, dt.date, str], int] = {}
    if "dq_flags" in kept.columns:
        flags = kept_m.select(*keys, F.explode(F.split("dq_flags", ";")).alias("flag"))
        flagged = {
            (r._batch_id, r._month, r.flag): r["count"]
            for r in flags.groupBy(*keys, "flag").count().collect()
            if r.flag
        }
    unknown = sorted({k[2] for k in counts} - {r.id for r in contract.quality_rules})
    if unknown:
        raise ValueError(f"{contract.name}: quarantine has rows for rules not in its contract: {unknown}")

    results = []
    for rule in contract.quality_rules:
        failed = {
            batch: sum(counts.get((*batch, r), 0) for r in (rule.id, *rule.implied_by))
            + flagged.get((*batch, rule.id), 0)
            for batch in checked
        }
        samples = _samples(kept_m, quarantined_m, rule, sample_size) if any(failed.values()) else {}
        month_checked: dict[dt.date, int] = {}
        month_failed: dict[dt.date, int] = {}
        for (_, month), n in checked.items():
            month_checked[month] = month_checked.get(month, 0) + n
            month_failed[month] = month_failed.get(month, 0) + failed[(_, month)]
        table_ratio = _ratio(sum(checked.values()), sum(failed.values()))
        for batch_id, month in sorted(checked, key=lambda b: (b[1], b[0] or "")):
            n = checked[(batch_id, month)]
            pooled = None
            if n < MIN_ROWS:
                small_month = month_checked[month] < MIN_ROWS
                pooled = table_ratio if small_month else _ratio(month_checked[month], month_failed[month])
            results.append(
                RuleResult(
                    rule, n, failed[(batch_id, month)], samples.get(batch_id, []), month, batch_id, pooled
                )
            )
    return results


def _samples(kept: DataFrame, quarantined: DataFrame, rule: QualityRule, size: int) -> dict[str, list[str]]:
    """Up to ``size`` failing rows per batch (quarantine reasons, then flagged kept rows): one query."""
    order = Window.partitionBy("_batch_id").orderBy("_row_number")
    rows = quarantined.filter(F.col("rule_id").isin(rule.id, *rule.implied_by)).select(
        "_batch_id", "_row_number", F.col("reason").alias("text")
    )
    if "dq_flags" in kept.columns:
        flagged = kept.filter(F.array_contains(F.split("dq_flags", ";"), rule.id)).select(
            "_batch_id",
            "_row_number",
            F.concat_ws("", F.col("_source_file"), F.lit(" line "), F.col("_row_number").cast("string"),
                        F.lit(f": kept, flagged {rule.id}")).alias("text"),
        )  # fmt: skip
        rows = rows.unionByName(flagged)
    picked = rows.withColumn("_n", F.row_number().over(order)).filter(F.col("_n") <= size)
    out: dict[str, list[str]] = {}
    for r in picked.orderBy("_batch_id", "_n").collect():
        out.setdefault(r._batch_id, []).append(r.text)
    return out


@dataclass(frozen=True)
class Reconciliation:
    """Per batch: upstream rows = kept rows + quarantined rows (+ skipped, for files)."""

    mismatches: list[dict[str, object]]  # the first ones, for people to read
    batches: int
    mismatched: int = 0  # how many batches do not reconcile

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
        mismatched=bad.count(),
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
    return Reconciliation(
        mismatches=mismatches, batches=joined.count(), mismatched=bad.count() + stray.count()
    )
