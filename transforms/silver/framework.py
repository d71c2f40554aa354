"""The silver engine every entity uses: bronze → typed rows, rules, resolution, de-duplication.

An entity declares how to type its bronze rows (``prepare``), its rules in order (``rules``: the
first one a row breaks rejects it to quarantine), the flags that keep a row but mark it
(``flags``), which enterprises it refers to (``refs``, resolved by USCC or, failing that, by
canonical name and region), its de-duplication key and its own columns (``columns``; the period,
delivery, lineage and flags are added for all). The engine does the rest the same way for
all: find the stale periods, build them, split into silver and quarantine, write both with one
``replaceWhere`` each. Invariant per batch: bronze rows = silver rows + quarantined rows.

Stale periods: a period is rebuilt when the set of bronze batches it holds differs from the set
silver and its quarantine were built from, when a person confirmed an enterprise match for one
of its quarantined rows since, or when the enterprise master changed so that one of its rows
quarantined as ``unresolved_enterprise`` would now be resolved or have other candidates
(:func:`reresolved_periods`): the lake's content does not depend on whether the registry arrived
before or after the facts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from catalog import Contract, get_contract
from catalog.staging import SparkStaging
from catalog.tables import LakeTables
from ibrain.delta import in_predicate
from transforms.silver.enterprise_match_review import candidate_reviews, record_candidates, recorded_reviews
from transforms.silver.refs import Refs
from transforms.silver.resolution import ROW_KEY, EnterpriseRef, resolve

LINEAGE = ["_batch_id", "_source_file", "_row_number", "_record_hash", "_ingested_at"]


def common_columns() -> list[Column | str]:
    """Every silver fact table ends with these: the period as a date, the delivery, lineage, flags.
    (A function: Columns can only be built once a Spark Connect session exists.)"""
    return [F.col("period_date").alias("period"), "reporting_unit", *LINEAGE, "dq_flags"]


@dataclass(frozen=True)
class Rule:
    """A rule that rejects the row when ``fails``; ``reason`` says where and what."""

    id: str
    fails: Column
    reason: Column


@dataclass(frozen=True)
class Flag:
    """A rule that keeps the row (already corrected by ``prepare``) and lists it in dq_flags."""

    id: str
    when: Column


@dataclass
class Entity:
    silver: Contract
    bronze: Contract
    prepare: Callable[[DataFrame, Refs], DataFrame]
    rules: Callable[[Refs], list[Rule]]
    columns: Callable[[], list[Column | str]]  # the entity's own silver columns, from typed rows
    dedupe_keys: Sequence[str] = ()
    flags: Callable[[Refs], list[Flag]] = lambda refs: []
    refs: Sequence[EnterpriseRef] = ()
    bronze_filter: str | None = None  # when several entities share one bronze table
    grain: str = "month"

    @property
    def quarantine(self) -> Contract:
        return get_contract("quarantine", f"silver_{self.silver.table}")

    @property
    def name(self) -> str:
        return self.silver.table

    def check_rules_are_declared(self, refs: Refs) -> None:
        """Every rule the code applies has its requirement (threshold, severity) in the contract,
        and the contract's action says what the code does with it (reject or flag)."""
        actions = {r.id: r.action for r in self.silver.quality_rules}
        by_name = any(r.name_col for r in self.refs)
        flagged = {f.id for f in self.flags(refs)} | ({"uscc_check_digit"} if by_name else set())
        rejected = {r.id for r in self.rules(refs)} | ({"duplicate"} if self.dedupe_keys else set())
        rejected |= {"unresolved_enterprise"} if by_name else set()
        missing = sorted((flagged | rejected) - set(actions))
        if missing:
            raise ValueError(f"{self.silver.name}: rules {missing} are applied but not in its contract")
        wrong = sorted(r for r in flagged - rejected if actions[r] != "flag")
        wrong += sorted(r for r in rejected - flagged if actions[r] != "reject")
        if wrong:
            raise ValueError(f"{self.silver.name}: rules {wrong} act otherwise than their contract's action")


@dataclass
class SilverReport:
    periods: list[str] = field(default_factory=list)
    rows_in: int = 0
    rows_silver: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)
    flagged: dict[str, int] = field(default_factory=dict)

    def as_metadata(self) -> dict[str, object]:
        return {
            "periods_rebuilt": ", ".join(self.periods) or "none",
            "rows_in": self.rows_in,
            "rows_silver": self.rows_silver,
            **{f"quarantined_{k}": v for k, v in sorted(self.quarantined.items())},
            **{f"flagged_{k}": v for k, v in sorted(self.flagged.items())},
        }


def located(bronze: Contract, column: str, problem: Column | str) -> Column:
    """'<file> line <n>: <field> '<value as received>' <problem>' — where and what, for people."""
    problem_col = F.lit(problem) if isinstance(problem, str) else problem
    return F.concat(
        F.col("_source_file"),
        F.lit(" line "),
        F.col("_row_number").cast("string"),
        F.lit(f": {bronze.column(column).name_zh} '"),
        F.coalesce(F.col(column), F.lit("")),
        F.lit("' "),
        problem_col,
    )


def period_value(grain: str) -> Column:
    """The bronze period text as the silver period date (first of month, or the day)."""
    text = F.col("period")
    return F.to_date(F.concat(text, F.lit("-01"))) if grain == "month" else F.to_date(text)


def period_text(column: str, grain: str) -> Column:
    return F.date_format(column, "yyyy-MM" if grain == "month" else "yyyy-MM-dd")


def bronze_rows(tables: LakeTables, entity: Entity) -> DataFrame:
    df = tables.read(entity.bronze.layer, entity.bronze.table)
    return df.filter(entity.bronze_filter) if entity.bronze_filter else df


def stale_periods(tables: LakeTables, entity: Entity, refs: Refs | None = None) -> list[str]:
    bronze = bronze_rows(tables, entity).select("period", "_batch_id").distinct()
    silver = tables.read(entity.silver.layer, entity.silver.table).select(
        period_text("period", entity.grain).alias("period"), "_batch_id"
    )
    quarantine = tables.read(entity.quarantine.layer, entity.quarantine.table).select("period", "_batch_id")
    built = silver.unionByName(quarantine).distinct()
    changed = bronze.exceptAll(built).unionByName(built.exceptAll(bronze))
    periods = {r.period for r in changed.select("period").distinct().collect()}
    periods |= released_periods(tables, entity)
    return sorted(periods | reresolved_periods(tables, entity, refs or Refs.load(tables), periods))


def released_periods(tables: LakeTables, entity: Entity) -> set[str]:
    """Periods holding rows quarantined as unresolved for which a match has been confirmed."""
    if not any(ref.name_col for ref in entity.refs):
        return set()
    reviews = tables.read("silver", "enterprise_match_review").filter(
        (F.col("source_table") == entity.silver.name) & (F.col("status") == "confirmed")
    )
    quarantined = tables.read(entity.quarantine.layer, entity.quarantine.table).filter(
        F.col("rule_id") == "unresolved_enterprise"
    )
    joined = quarantined.join(reviews.select("_record_hash").distinct(), "_record_hash")
    return {r.period for r in joined.select("period").distinct().collect()}


def reresolved_periods(tables: LakeTables, entity: Entity, refs: Refs, skip: set[str]) -> set[str]:
    """Periods (beyond ``skip``, rebuilt anyway) holding a row quarantined as
    ``unresolved_enterprise`` whose resolution against the current enterprise master differs from
    what was recorded: it would now be resolved (or rejected otherwise), or its candidates in
    silver.enterprise_match_review are not the current ones (a new candidate; a pending one gone
    from the master or scored otherwise).

    The quarantined rows are evaluated again — typed, checked and resolved exactly as a build does
    it — so a row is judged by the same code that quarantined it. Why a rebuild and not a patch:
    the period is rebuilt whole with one replaceWhere per table, so a re-resolved row leaves
    quarantine for silver in the same commits that keep bronze = silver + quarantine.
    """
    if not any(ref.name_col for ref in entity.refs):
        return set()
    quarantine = tables.read(entity.quarantine.layer, entity.quarantine.table)
    waiting = quarantine.filter(F.col("rule_id") == "unresolved_enterprise")
    if skip:
        waiting = waiting.filter(~F.col("period").isin(sorted(skip)))
    waiting = waiting.select(*ROW_KEY, "period")
    if not waiting.limit(1).count():
        return set()
    rows = bronze_rows(tables, entity).join(waiting.select(*ROW_KEY), ROW_KEY, "left_semi")
    staging = SparkStaging(tables)
    try:
        checked = evaluate(entity, rows, refs, staging, dedupe=False)
        changed = checked.filter(F.coalesce(F.col("rule_id"), F.lit("")) != "unresolved_enterprise").select(
            *ROW_KEY
        )
        for ref in entity.refs:
            if not ref.name_col:
                continue
            now = candidate_reviews(checked, ref, entity, refs).select(
                *ROW_KEY, "review_id", F.col("confidence").alias("_now")
            )
            recorded = recorded_reviews(tables, entity, ref.role, checked)
            then = recorded.select("review_id", "status", F.col("confidence").alias("_then"))
            new = now.join(then, "review_id", "left_anti").select(*ROW_KEY)
            rescored = (
                now.join(then.filter(F.col("status") == "pending"), "review_id")
                .filter(~F.col("_now").eqNullSafe(F.col("_then")))
                .select(*ROW_KEY)
            )
            gone = (
                recorded.filter(F.col("status") == "pending")
                .join(now.select("review_id"), "review_id", "left_anti")
                .select(*ROW_KEY)
            )
            changed = changed.unionByName(new).unionByName(rescored).unionByName(gone)
        found = waiting.join(changed.distinct(), ROW_KEY, "left_semi").select("period").distinct().collect()
    finally:
        staging.cleanup()
    return {r.period for r in found}


def build(tables: LakeTables, entity: Entity, periods: list[str] | None = None) -> SilverReport:
    """Rebuild the given periods (default: the stale ones) of the entity and its quarantine."""
    refs = Refs.load(tables)
    entity.check_rules_are_declared(refs)
    periods = stale_periods(tables, entity, refs) if periods is None else sorted(periods)
    report = SilverReport(periods=periods)
    if not periods:
        # A source that has delivered nothing yet still has its (empty) tables, so what reads
        # them (the dbt warehouse) runs on the sources that did deliver.
        tables.ensure(entity.silver)
        tables.ensure(entity.quarantine)
        return report
    bronze = bronze_rows(tables, entity).filter(in_predicate("period", periods))
    staging = SparkStaging(tables)
    try:
        checked = evaluate(entity, bronze, refs, staging)
        for ref in entity.refs:
            if ref.name_col:
                record_candidates(checked, ref, entity, refs, tables)
        silver = checked.filter(F.col("rule_id").isNull()).select(*entity.columns(), *common_columns())
        quarantine = to_quarantine(entity, checked.filter(F.col("rule_id").isNotNull()))
        silver_scope = in_predicate("period", [_period_date(p, entity.grain) for p in periods])
        quarantine_scope = in_predicate("period", periods)
        tables.replace_where(entity.silver, silver, silver_scope)
        tables.replace_where(entity.quarantine, quarantine, quarantine_scope)
    finally:
        staging.cleanup()

    silver_now = tables.read(entity.silver.layer, entity.silver.table).filter(silver_scope)
    quarantine_now = tables.read(entity.quarantine.layer, entity.quarantine.table).filter(quarantine_scope)
    report.rows_in = bronze.count()
    report.rows_silver = silver_now.count()
    report.quarantined = {r.rule_id: r["count"] for r in quarantine_now.groupBy("rule_id").count().collect()}
    flags = silver_now.select(F.explode(F.split("dq_flags", ";")).alias("flag")).groupBy("flag").count()
    report.flagged = {r.flag: r["count"] for r in flags.collect() if r.flag}
    return report


def evaluate(
    entity: Entity, bronze: DataFrame, refs: Refs, staging: SparkStaging, dedupe: bool = True
) -> DataFrame:
    """Typed rows with ``rule_id``/``reason`` (first rejecting rule) and ``dq_flags``, staged:
    each resolution joins the rows with themselves, so each step starts from a stored result.
    (``dedupe`` False: some rows of a period judged alone, where duplicates cannot be told.)"""
    df = entity.prepare(bronze.withColumn("period_date", period_value(entity.grain)), refs)
    df = staging.persist(_first_failing(df, entity.rules(refs)))
    for ref in entity.refs:
        df = staging.persist(resolve(df, ref, entity, refs))
    df = _dedupe(df, entity.dedupe_keys) if entity.dedupe_keys and dedupe else df
    flags = [F.when(flag.when & F.col("rule_id").isNull(), F.lit(flag.id)) for flag in entity.flags(refs)]
    flags += [F.col(f"_flag_{ref.role}") for ref in entity.refs]
    joined = F.array_join(F.filter(F.array(*flags), lambda x: x.isNotNull()), ";") if flags else F.lit("")
    return staging.persist(df.withColumn("dq_flags", F.when(joined != "", joined)))


def _first_failing(df: DataFrame, rules: list[Rule]) -> DataFrame:
    if not rules:
        return df.withColumns({"rule_id": F.lit(None).cast("string"), "reason": F.lit(None).cast("string")})
    rule_id = reason = None
    for rule in rules:
        fails = F.coalesce(rule.fails, F.lit(False))
        rule_id = F.when(fails, F.lit(rule.id)) if rule_id is None else rule_id.when(fails, F.lit(rule.id))
        reason = F.when(fails, rule.reason) if reason is None else reason.when(fails, rule.reason)
    return df.withColumns({"rule_id": rule_id, "reason": reason})


def _dedupe(df: DataFrame, keys: Sequence[str]) -> DataFrame:
    """All but one row per key among accepted rows are duplicates. Survivor: the row of the latest
    batch, then the lowest row number (deterministic)."""
    window = Window.partitionBy(*keys).orderBy(
        F.col("_ingested_at").desc(), F.col("_batch_id").desc(), F.col("_row_number").asc()
    )
    accepted = F.col("rule_id").isNull()
    ranked = df.withColumns(
        {
            "_rank": F.when(accepted, F.row_number().over(window)),
            "_survivor_hash": F.first("_record_hash").over(window),
            "_survivor_at": F.first(
                F.concat_ws(" line ", "_source_file", F.col("_row_number").cast("string"))
            ).over(window),
        }
    )
    is_dup = F.col("_rank") > 1
    reason = F.concat(
        F.col("_source_file"),
        F.lit(" line "),
        F.col("_row_number").cast("string"),
        F.lit(f": duplicate of ({', '.join(keys)}) = ("),
        F.concat_ws(", ", *[F.col(k).cast("string") for k in keys]),
        F.lit("); kept "),
        F.col("_survivor_at"),
        F.lit(" (record hash "),
        F.col("_survivor_hash"),
        F.lit(")"),
    )
    return ranked.withColumns(
        {
            "rule_id": F.when(is_dup, F.lit("duplicate")).otherwise(F.col("rule_id")),
            "reason": F.when(is_dup, reason).otherwise(F.col("reason")),
        }
    )


def to_quarantine(entity: Entity, rejected: DataFrame) -> DataFrame:
    data = [c.name for c in entity.bronze.columns if c.source_header]
    return rejected.select(
        *LINEAGE,
        "reporting_unit",
        "period",
        "rule_id",
        "reason",
        F.to_json(F.struct(*[F.col(c) for c in data])).alias("raw"),
        F.current_timestamp().alias("quarantined_at"),
    )


def _period_date(period: str, grain: str) -> dt.date:
    return dt.date.fromisoformat(f"{period}-01" if grain == "month" else period)


def measured_periods(table: DataFrame, grain: str, rebuilt: Sequence[str]) -> tuple[list[str], DataFrame]:
    """The periods a run's quality is measured on — those it ``rebuilt``, or else the latest the
    table holds (none when it is empty) — and the table's rows of those periods.

    Quality is recorded per month: for a daily table the rows are those of every day of the months
    of those periods, so a month's result does not depend on which of its days a run rebuilt (a
    no-change run re-measures the same month and finds what was recorded, issue 12)."""
    periods = list(rebuilt)
    if not periods:
        latest = table.select(F.max(period_text("period", grain)).alias("p")).collect()[0].p
        periods = [latest] if latest else []
    if grain == "day":
        months = sorted({p[:7] for p in periods})
        return periods, table.filter(period_text("period", "month").isin(months))
    return periods, table.filter(period_text("period", grain).isin(periods))
