"""Timeliness (时效性) and accessibility (可访问性): the generic rules of catalog/quality_rules.yaml.

Timeliness of deliveries: each bronze contract's ``ingest.deadline`` says when a delivery is due
(China Standard Time). Per source and month, B = the deliveries (reporting unit and period, as the
ingest ledger lists them; a correction re-delivers a unit-period and is not a delivery of its
own) and A = those whose first arrival (``arrived_at``) was by the deadline. The simulator reads
the same deadlines, so its late files are late here too. The result is recorded for the bronze
table and for every silver table built from it.

Timeliness of derived tables (and of sources without a deadline): the table holds the latest
month its inputs hold (A = 1, else 0; B = 1); a table without months counts as timely when it was
rebuilt in the run.

Accessibility: the table is readable through Spark by its catalog name ``layer.table``; A = the
contract's columns present with the contract's type, B = the contract's columns (A = 0 when the
table cannot be read).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pyspark.errors import PySparkException
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from catalog.contracts import Contract, QualityRule, generic_rules, get_contract
from catalog.deadlines import delivery_deadline
from catalog.lineage import dbt_model_id, dbt_source_inputs, has_dbt_tag
from catalog.tables import LakeTables
from quality.expectations import CST, as_month, current_month
from quality.measure import month_of
from quality.store import Evaluation

TIMELINESS, ACCESSIBILITY = "timeliness", "accessibility"
MONTHLY_TAG = "monthly"  # the dbt tag of the models partitioned by month (transforms/dbt)


def generic_rule(contract: Contract, rule_id: str) -> QualityRule | None:
    """The generic rule ``rule_id`` when it applies to the contract's layer and the contract does
    not exempt its dimension."""
    for rule in generic_rules(contract):
        if rule.id == rule_id and rule.dimension not in contract.quality_exemptions:
            return rule
    return None


# --------------------------------------------------------------------------- ledger timeliness


@dataclass(frozen=True)
class MonthTimeliness:
    """Deliveries of one source and month: B = delivered, A = on_time."""

    period: dt.date
    delivered: int
    on_time: int
    late: tuple[str, ...] = ()  # "<file>: arrived … , due … (late by …)"


def ledger_timeliness(
    bronze: Contract, ledger: DataFrame, months: Iterable[dt.date | str]
) -> list[MonthTimeliness]:
    """Per month of ``months``: the source's deliveries in the ledger and how many were on time.
    Months without deliveries are left out."""
    spec = bronze.ingest
    if spec is None or not spec.deadline:
        raise ValueError(f"{bronze.name} has no ingest deadline")
    wanted = sorted({as_month(m) for m in months})
    if not wanted:
        return []
    rows = (
        ledger.filter(F.col("source") == bronze.table)
        .withColumn("_month", month_of())
        .filter(F.col("_month").isin(wanted))
        .select("_month", "reporting_unit", "period", "file_name", "arrived_at")
        .collect()
    )
    first: dict[tuple[str, str], object] = {}
    for row in rows:
        key = (row.reporting_unit, row.period)
        if key not in first or (row.arrived_at, row.file_name) < (
            first[key].arrived_at,
            first[key].file_name,
        ):
            first[key] = row
    by_month: dict[dt.date, list[tuple[object, dt.datetime, dt.datetime]]] = {}
    for row in first.values():
        arrived = row.arrived_at.replace(tzinfo=dt.UTC)  # the ledger keeps UTC
        due = delivery_deadline(spec, row.period, row.reporting_unit)
        by_month.setdefault(row._month, []).append((row, arrived, due))
    out = []
    for month in sorted(by_month):
        deliveries = sorted(by_month[month], key=lambda d: (d[0].period, d[0].reporting_unit))
        late = [d for d in deliveries if d[1] > d[2]]
        out.append(
            MonthTimeliness(
                period=month,
                delivered=len(deliveries),
                on_time=len(deliveries) - len(late),
                late=tuple(
                    f"{row.file_name}: arrived {arrived.astimezone(CST):%Y-%m-%d %H:%M} CST, due "
                    f"{due:%Y-%m-%d %H:%M} CST (late by {_hours(arrived - due)})"
                    for row, arrived, due in late
                ),
            )
        )
    return out


def _hours(delta: dt.timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def delivery_timeliness(
    tables: LakeTables, datasets: Iterable[Contract], bronze: Contract, months: Iterable[dt.date | str]
) -> list[Evaluation]:
    """The timeliness of ``bronze``'s deliveries in ``months``, recorded for each of ``datasets``
    (the bronze table and the silver tables built from it) whose layer the rule applies to.
    Empty when the source has no deadline."""
    targets = [(c, rule) for c in datasets if (rule := generic_rule(c, TIMELINESS)) is not None]
    if not targets or bronze.ingest is None or not bronze.ingest.deadline:
        return []
    ledger = tables.read("audit", "ingest_ledger")
    measured = ledger_timeliness(bronze, ledger, months)
    return [
        Evaluation(
            dataset=contract.name,
            rule_id=rule.id,
            dimension=rule.dimension,
            severity=rule.severity,
            source="ledger",
            period=m.period,
            checked=m.delivered,
            passed_rows=m.on_time,
            threshold=rule.threshold,
            sample=m.late,
        )
        for contract, rule in targets
        for m in measured
    ]


def has_delivery_deadline(bronze: Contract) -> bool:
    return bronze.ingest is not None and bool(bronze.ingest.deadline)


# --------------------------------------------------------------------------- derived timeliness


def latest_month(df: DataFrame) -> dt.date | None:
    """The latest month of the frame's ``period`` column (None: no column or no rows)."""
    if "period" not in df.columns:
        return None
    return df.select(F.max(month_of()).alias("m")).collect()[0].m


def evaluation_month(df: DataFrame) -> dt.date:
    """The month a whole-table evaluation is recorded for: the latest month the table holds, or
    the current month for a table without months (or holding future months, like a calendar)."""
    latest = latest_month(df)
    return current_month() if latest is None else min(latest, current_month())


def upstream_timeliness(
    tables: LakeTables,
    contract: Contract,
    upstream: Iterable[Contract],
    rebuilt: bool,
    source: str,
) -> list[Evaluation]:
    """Timeliness of a derived table: it holds the latest month its ``upstream`` tables hold (A =
    1, else 0; B = 1), recorded for that month. A table without a period column (or whose inputs
    have no months) is timely when ``rebuilt`` in this run (recorded for the current month)."""
    rule = generic_rule(contract, TIMELINESS)
    if rule is None:
        return []
    months = [latest_month(tables.read(u.layer, u.table)) for u in upstream if "period" in u.column_names]
    months = [m for m in months if m is not None]
    if "period" in contract.column_names and months:
        target = max(months)
        own = tables.read(contract.layer, contract.table).filter(month_of() == F.lit(target))
        held = own.limit(1).count() == 1
        sample = () if held else (f"{contract.name} holds no rows for {target:%Y-%m}, which its inputs hold",)
        period = target
    else:
        held, period = rebuilt, current_month()
        sample = () if held else (f"{contract.name} was not rebuilt in this run",)
    return [
        Evaluation(
            dataset=contract.name,
            rule_id=rule.id,
            dimension=rule.dimension,
            severity=rule.severity,
            source=source,
            period=period,
            checked=1,
            passed_rows=1 if held else 0,
            threshold=rule.threshold,
            sample=sample,
        )
    ]


def timeliness_from(
    tables: LakeTables, contract: Contract, source: Contract, periods: Iterable[dt.date | str], rebuilt: bool
) -> list[Evaluation]:
    """Timeliness of a table built from ``source``: the timeliness of ``source``'s deliveries in
    ``periods`` when it is a source with a delivery deadline (ingest ledger vs the deadline), else
    whether the table holds the latest month ``source`` holds (timely when ``rebuilt``, for a table
    without months)."""
    if has_delivery_deadline(source):
        return delivery_timeliness(tables, [contract], source, periods)
    return upstream_timeliness(tables, contract, [source], rebuilt=rebuilt, source="catalog")


def dbt_model_timeliness(
    tables: LakeTables, manifest: Mapping[str, Any], contract: Contract, rebuilt: bool
) -> list[Evaluation]:
    """Timeliness of a dbt model: a monthly model holds the latest month the silver tables it is
    built from hold (through other monthly models); a dimension or snapshot model is timely when
    it was ``rebuilt`` in the run."""
    unique_id = dbt_model_id(manifest, contract.layer, contract.table)
    monthly = unique_id is not None and has_dbt_tag(manifest, unique_id, MONTHLY_TAG)
    inputs = dbt_source_inputs(manifest, unique_id, "silver", MONTHLY_TAG) if monthly else []
    upstream = [get_contract("silver", name) for name in inputs]
    return upstream_timeliness(tables, contract, upstream, rebuilt=rebuilt, source="catalog")


# --------------------------------------------------------------------------- accessibility


def accessibility(tables: LakeTables, contract: Contract) -> list[Evaluation]:
    """Read the table through Spark by its catalog name; A = the contract's columns present with
    their contract type, B = the contract's columns (A = 0 when it cannot be read). Recorded for
    the table's latest month (or the current month)."""
    rule = generic_rule(contract, ACCESSIBILITY)
    if rule is None:
        return []
    expected = {c.name: c.type for c in contract.columns}
    spark = tables.spark
    try:
        df = spark.table(contract.name)
        df.limit(1).collect()
        found = {f.name: f.dataType.simpleString() for f in df.schema.fields}
        period = evaluation_month(df)
    except PySparkException as exc:  # the measurement: an unreadable table scores A = 0
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        found, period = {}, current_month()
        problems = [f"{contract.name} cannot be read through Spark: {first_line[:300]}"]
    else:
        problems = [
            f"{name}: {'missing' if name not in found else f'type {found[name]}, contract {typ}'}"
            for name, typ in expected.items()
            if _spark_type(found.get(name)) != _spark_type(typ)
        ]
    passed = len(expected) - (len(expected) if not found else len(problems))
    return [
        Evaluation(
            dataset=contract.name,
            rule_id=rule.id,
            dimension=rule.dimension,
            severity=rule.severity,
            source="catalog",
            period=period,
            checked=len(expected),
            passed_rows=passed,
            threshold=rule.threshold,
            sample=tuple(problems),
        )
    ]


def _spark_type(name: str | None) -> str | None:
    """Type names as Spark prints them (``integer`` and ``int``, ``long`` and ``bigint`` agree)."""
    if name is None:
        return None
    name = name.replace(" ", "").lower()
    return {"integer": "int", "long": "bigint", "short": "smallint", "byte": "tinyint"}.get(name, name)
