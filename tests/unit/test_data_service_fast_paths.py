"""The data service's faster paths keep their meaning (issue 14, performance): literals the engine
would fail on are 400s, JSON written by orjson reads as before, a read-only transaction takes no
write lock and refuses writes. Expected values are worked out by hand."""

from __future__ import annotations

import datetime as dt
import json
import threading
from decimal import Decimal

import pyarrow as pa
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from catalog.contracts import Column
from security.db import make_engine, read_transaction, transaction
from serving.formats import rows, to_json
from serving.query import ParamError, literal

STAMP = Column("at", "timestamp", "时间", "一般")
AMOUNT = Column("amount", "decimal(18,2)", "金额", "一般")


@pytest.mark.parametrize(
    ("column", "given", "sql"),
    [
        (STAMP, "2024-03-01T08:30:00+08:00", "TIMESTAMP '2024-03-01 00:30:00'"),  # to UTC
        (STAMP, "2024-03-01T08:30:00", "TIMESTAMP '2024-03-01 08:30:00'"),
        (STAMP, "2261-12-31T23:59:59", "TIMESTAMP '2261-12-31 23:59:59'"),
        (AMOUNT, "9999999999999999.99", "9999999999999999.99"),  # 16 = 18 - 2 digits
        (AMOUNT, "-0009999999999999999", "-9999999999999999"),
    ],
)
def test_literals_within_the_engines_range(column: Column, given: str, sql: str) -> None:
    assert literal(column, given, "p") == sql


@pytest.mark.parametrize(
    ("column", "given"),
    [
        (STAMP, "0252-08-07T15:26:15.302+04:59"),  # found by the fuzzing: a 500 before
        (STAMP, "2262-01-01T00:00:00"),
        (STAMP, "1677-12-31T23:59:59"),
        (STAMP, "0001-01-01T00:00:00+01:00"),  # converting to UTC overflows
        (AMOUNT, "10000000000000000"),  # 17 digits in a decimal(18,2)
        (AMOUNT, "999999999999999999999999999999.999999999999999999"),
    ],
)
def test_literals_the_engine_would_fail_on_are_bad_parameters(column: Column, given: str) -> None:
    with pytest.raises(ParamError) as refused:
        literal(column, given, "p")
    assert refused.value.parameter == "p" and refused.value.status == 400


def test_json_rows_as_before() -> None:
    page = pa.table(
        {
            "amount": pa.array([Decimal("12345.67"), Decimal("-0.50"), None], pa.decimal128(18, 2)),
            "day": pa.array([dt.date(2024, 1, 1), None, dt.date(2024, 12, 31)], pa.date32()),
            "at": pa.array(
                [dt.datetime(2024, 1, 1, 8, 30, tzinfo=dt.UTC), None, None], pa.timestamp("us", "UTC")
            ),
            "ratio": [float("nan"), float("inf"), 1.5],
            "name": ["大连", None, 'a"b'],
        }
    )
    body = json.loads(to_json({"rows": rows(page), "total": 3}))
    assert body == {
        "rows": [
            {"amount": "12345.67", "day": "2024-01-01", "at": "2024-01-01T08:30:00+00:00", "ratio": None,
             "name": "大连"},
            {"amount": "-0.50", "day": None, "at": None, "ratio": None, "name": None},
            {"amount": None, "day": "2024-12-31", "at": None, "ratio": 1.5, "name": 'a"b'},
        ],
        "total": 3,
    }  # fmt: skip
    assert to_json({"v": Decimal("1.50")}) == b'{"v":"1.50"}'
    assert "大连".encode() in to_json({"rows": rows(page)})  # UTF-8, not \\u escapes


def test_read_transaction_takes_no_write_lock_and_refuses_writes(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'state.db'}")
    with transaction(engine) as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
        session.execute(text("INSERT INTO t VALUES (1)"))
    done = threading.Event()

    def writer() -> None:
        with transaction(engine) as session:
            session.execute(text("INSERT INTO t VALUES (2)"))
        done.set()

    with read_transaction(engine) as session:
        assert session.scalar(text("SELECT count(*) FROM t")) == 1
        thread = threading.Thread(target=writer)
        thread.start()
        assert done.wait(10), "a writer waited for a read-only transaction"
        thread.join()
        assert session.scalar(text("SELECT count(*) FROM t")) == 1  # its snapshot
    with pytest.raises(OperationalError, match="readonly"), read_transaction(engine) as session:
        session.execute(text("INSERT INTO t VALUES (3)"))
    with transaction(engine) as session:  # the same pooled connection writes again
        session.execute(text("INSERT INTO t VALUES (4)"))
        assert session.scalar(text("SELECT group_concat(x) FROM t")) == "1,2,4"
    engine.dispose()
