"""The events alerts are about, each with a stable key (what makes "once per event" decidable).

Read from where the facts already are: failed blocking rules and open issues from the quality
tables (quality.dq_result — every Dagster asset check and quarantine rule records its result
there — and quality.dq_issue), dead-lettered packages from the outbox (state database), late
sources from the ingest ledger against the contracts' deadlines (catalog/deadlines.py). Failed
runs are Dagster's to report: orchestration/alerts.py builds them with :func:`run_failed`.
Tables are read with delta-rs' DataFusion query builder (no Spark session in a sensor).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from deltalake import DeltaTable, QueryBuilder
from deltalake.exceptions import DeltaError, TableNotFoundError
from sqlalchemy import Engine, select

from catalog.contracts import Contract, load_catalog
from catalog.deadlines import CST, delivery_deadline
from ibrain.lake import Lake
from security.db import transaction
from security.outbox import DeliveryPackage

LATE_LOOKBACK_DAYS = 45  # a source is reported late for the months that fell due this recently


@dataclass(frozen=True)
class Event:
    """One thing that happened: its kind, a key unique per occurrence, a Chinese title and fields
    (rules match on the fields; the webhook body carries them)."""

    kind: str
    key: str
    title: str
    fields: dict[str, Any] = field(default_factory=dict)


def _rows(lake: Lake, layer: str, table: str, sql: str) -> list[dict[str, Any]]:
    """``sql`` over ``layer.table`` (as ``t``); no rows while the table does not exist yet."""
    try:
        handle = DeltaTable(lake.table_uri(layer, table), storage_options=lake.storage_options())
    except (TableNotFoundError, DeltaError, OSError):
        return []
    return pa.table(QueryBuilder().register("t", handle).execute(sql).read_all()).to_pylist()


def failed_checks(lake: Lake) -> list[Event]:
    """Failed rules of quality.dq_result, one event per run × dataset × rule (its periods and
    batches listed); rules decide which severities alert (catalog/alerts.yaml: ERROR = blocking)."""
    rows = _rows(
        lake, "quality", "dq_result",
        "SELECT run_id, dataset, rule_id, dimension, severity, source, "
        "min(x_ratio) AS worst_ratio, min(threshold) AS threshold, "
        "array_agg(DISTINCT CAST(period AS VARCHAR)) AS periods, max(evaluated_at) AS evaluated_at "
        "FROM t WHERE NOT passed GROUP BY run_id, dataset, rule_id, dimension, severity, source",
    )  # fmt: skip
    events = []
    for r in rows:
        periods = sorted(p for p in (r["periods"] or []) if p)
        events.append(
            Event(
                "check_failed",
                f"check_failed:{r['run_id']}:{r['dataset']}:{r['rule_id']}",
                f"质量检查未通过：{r['dataset']} {r['rule_id']}（{r['dimension']}，{r['severity']}）",
                {
                    "run_id": r["run_id"],
                    "dataset": r["dataset"],
                    "rule_id": r["rule_id"],
                    "dimension": r["dimension"],
                    "severity": r["severity"],
                    "source": r["source"],
                    "worst_ratio": r["worst_ratio"],
                    "threshold": r["threshold"],
                    "periods": periods,
                    "evaluated_at": str(r["evaluated_at"]),
                },
            )
        )
    return events


def opened_issues(lake: Lake) -> list[Event]:
    """Open issues of quality.dq_issue; a reopened issue is a new event (its reopen count is in
    the key). No sample rows (they may be 重要)."""
    rows = _rows(
        lake, "quality", "dq_issue",
        "SELECT issue_id, dataset, rule_id, dimension, severity, owner, first_seen, last_seen, "
        "reopened_count, failing_periods, affected_rows FROM t WHERE status = 'open'",
    )  # fmt: skip
    return [
        Event(
            "issue_opened",
            f"issue_opened:{r['issue_id']}:{r['reopened_count'] or 0}",
            f"数据质量问题{'重新打开' if r['reopened_count'] else '新增'}：{r['dataset']} {r['rule_id']}",
            {k: (str(v) if isinstance(v, dt.datetime) else v) for k, v in r.items()},
        )
        for r in rows
    ]


def dead_letters(engine: Engine) -> list[Event]:
    """Packages in ``dead_letter``; a package dead-lettered again after a resend is a new event
    (its attempt count and time are in the key)."""
    with transaction(engine) as session:
        packages = session.scalars(
            select(DeliveryPackage).where(DeliveryPackage.state == "dead_letter")
        ).all()
        return [
            Event(
                "delivery_dead_letter",
                f"delivery_dead_letter:{p.id}:{p.attempts}:{p.updated_at}",
                f"数据报送失败（死信）：{p.recipient} {p.dataset} {p.period} 第 {p.revision} 版",
                {
                    "package": p.id,
                    "recipient": p.recipient,
                    "dataset": p.dataset,
                    "period": p.period,
                    "revision": p.revision,
                    "attempts": p.attempts,
                    "last_error": p.last_error,
                },
            )
            for p in packages
        ]


def run_failed(run_id: str, job: str, message: str, tags: dict[str, str] | None = None) -> Event:
    """A failed Dagster run (built by the run-failure sensor)."""
    return Event(
        "run_failed",
        f"run_failed:{run_id}",
        f"运行失败：{job}（{run_id[:8]}）",
        {"run_id": run_id, "job": job, "message": message[:2000], "tags": dict(tags or {})},
    )


def _months_due(contract: Contract, now: dt.datetime, lookback_days: int) -> list[str]:
    """The months of a monthly source whose delivery fell due in the last ``lookback_days``."""
    spec = contract.ingest
    assert spec is not None
    due = []
    month = dt.date(now.year, now.month, 1)
    for _ in range(3):  # every deadline kind is within two months of the month's start
        period = month.strftime("%Y-%m")
        deadline = delivery_deadline(spec, period)
        if now - dt.timedelta(days=lookback_days) <= deadline < now:
            due.append(period)
        month = (month - dt.timedelta(days=1)).replace(day=1)
    return sorted(due)


def late_sources(
    lake: Lake,
    now: dt.datetime | None = None,
    catalog: dict[str, Contract] | None = None,
    lookback_days: int = LATE_LOOKBACK_DAYS,
) -> list[Event]:
    """Monthly sources with no delivery in the ingest ledger for a month whose deadline has passed
    (within the lookback). Daily and hourly sources are left to the timeliness rule."""
    now = now or dt.datetime.now(CST)
    catalog = catalog if catalog is not None else load_catalog()
    sources = [
        c for c in catalog.values()
        if c.layer == "bronze" and c.ingest is not None and c.ingest.deadline and c.ingest.grain == "month"
    ]  # fmt: skip
    delivered = {
        (r["source"], r["period"])
        for r in _rows(lake, "audit", "ingest_ledger", "SELECT DISTINCT source, period FROM t")
    }
    events = []
    for contract in sorted(sources, key=lambda c: c.table):
        assert contract.ingest is not None
        for period in _months_due(contract, now, lookback_days):
            if (contract.table, period) in delivered:
                continue
            deadline = delivery_deadline(contract.ingest, period)
            events.append(
                Event(
                    "source_late",
                    f"source_late:{contract.table}:{period}",
                    f"数据源逾期未报送：{contract.name_zh}（{contract.table}）{period}",
                    {
                        "source": contract.table,
                        "period": period,
                        "deadline": deadline.astimezone(CST).strftime("%Y-%m-%d %H:%M CST"),
                    },
                )
            )
    return events


def collect(lake: Lake, engine: Engine, now: dt.datetime | None = None) -> list[Event]:
    """Every event the quality tables, the outbox and the ledger show now (failed runs aside:
    Dagster reports those); dispatch skips the ones already sent."""
    return [*failed_checks(lake), *opened_issues(lake), *dead_letters(engine), *late_sources(lake, now)]
