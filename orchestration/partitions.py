"""Partitions for periods: monthly (``YYYY-MM``) and daily (``YYYY-MM-DD``), China Standard Time.

The keys are the ``period`` values of the ingest ledger and the bronze tables. The first period
comes from ``IBRAIN_PARTITIONS_START`` (default 2024-01-01).
"""

import os

import dagster as dg

TIMEZONE = "Asia/Shanghai"
START = os.environ.get("IBRAIN_PARTITIONS_START") or "2024-01-01"

monthly = dg.MonthlyPartitionsDefinition(start_date=START[:7], fmt="%Y-%m", timezone=TIMEZONE, end_offset=1)
daily = dg.DailyPartitionsDefinition(start_date=START, fmt="%Y-%m-%d", timezone=TIMEZONE, end_offset=1)

BY_GRAIN = {"month": monthly, "day": daily}
