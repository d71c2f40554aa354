"""Copy the audit trail to the Delta table ``audit.security_trail``, for analysis beside the data.

Why a copy and not the table itself: the trail's integrity needs a transactional database (one
record per action, in the action's transaction, a locked chain head); the lake is where analysts
and dashboards read. The copy appends the records after the largest ``seq`` already copied, so a
repeated or interrupted run neither duplicates nor loses records (a Delta append is atomic).
"""

from __future__ import annotations

from datetime import UTC, datetime

from pyspark.sql import functions as F
from sqlalchemy import Engine, select

from catalog import get_contract
from catalog.spark_schema import struct_type
from catalog.tables import LakeTables
from security.audit.models import AuditRecord
from security.audit.trail import TIME_FORMAT
from security.db import transaction

BATCH = 50_000


def copied_through(tables: LakeTables) -> int:
    """The largest seq in ``audit.security_trail`` (0 when empty or missing)."""
    found = tables.read("audit", "security_trail").agg(F.max("seq")).first()[0]
    return int(found or 0)


def copy_trail(engine: Engine, tables: LakeTables) -> int:
    """Append the records not yet copied; returns how many were appended."""
    contract = get_contract("audit", "security_trail")
    schema = struct_type(contract)
    names = [field.name for field in schema.fields]
    last = copied_through(tables)
    appended = 0
    while True:
        with transaction(engine) as session:
            query = select(AuditRecord).where(AuditRecord.seq > last).order_by(AuditRecord.seq).limit(BATCH)
            batch = list(session.scalars(query))
        if not batch:
            return appended
        rows = []
        for entry in batch:
            row = {name: getattr(entry, name) for name in names}
            row["recorded_at"] = datetime.strptime(entry.recorded_at, TIME_FORMAT).replace(tzinfo=UTC)
            rows.append(tuple(row[name] for name in names))
        tables.append(contract, tables.spark.createDataFrame(rows, schema))
        appended += len(batch)
        last = batch[-1].seq
