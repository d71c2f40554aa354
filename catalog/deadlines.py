"""When a delivery is due: the ``ingest.deadline`` of a bronze contract, in China Standard Time.

The simulator makes files late against these deadlines and the timeliness rule (quality/timeliness.py)
measures against them, so both read them from here.
"""

from __future__ import annotations

import datetime as dt
import re

from catalog.contracts import IngestSpec

CST = dt.timezone(dt.timedelta(hours=8), "CST")
DUE_TIME = dt.time(23, 59)  # a delivery due on a day is due by 23:59 CST


def _period_start(period: str) -> dt.date:
    return dt.date(int(period[:4]), int(period[5:7]), int(period[8:10]) if len(period) >= 10 else 1)


def _period_end(period: str, grain: str) -> dt.date:
    """The last day of a ``YYYY-MM`` (grain month) or ``YYYY-MM-DD`` (grain day) period."""
    start = _period_start(period)
    if grain == "day":
        return start
    return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def _unit_hour(template: str | None, unit: str | None) -> int | None:
    """The hour a reporting unit names when the unit template has ``{hour}`` (``h{hour}``: h07 → 7)."""
    if not template or "{hour}" not in template or unit is None:
        return None
    pattern = re.escape(template).replace(re.escape("{hour}"), r"(?P<hour>\d{1,2})")
    pattern = re.sub(r"\\\{\w+\\\}", ".+?", pattern)
    match = re.fullmatch(pattern, unit)
    if match is None:
        raise ValueError(f"reporting unit {unit!r} does not match the unit template {template!r}")
    return int(match["hour"])


def delivery_deadline(spec: IngestSpec, period: str, unit: str | None = None) -> dt.datetime:
    """When the delivery of ``period`` (and reporting unit) is due, from ``spec.deadline``:

    - ``days_after_period: N`` — 23:59 CST of the Nth day after the period ends (monthly: the Nth
      of the following month);
    - ``day_of_period: N`` — 23:59 CST of day N of the period's own month;
    - ``hours_after_period: N`` — N hours after the delivered slice ends: the hour the reporting
      unit names (unit template with ``{hour}``), else the period.
    """
    if not spec.deadline:
        raise ValueError("this source has no delivery deadline in its contract")
    ((kind, n),) = spec.deadline.items()
    if kind == "days_after_period":
        return dt.datetime.combine(_period_end(period, spec.grain) + dt.timedelta(days=n), DUE_TIME, CST)
    if kind == "day_of_period":
        return dt.datetime.combine(_period_start(period).replace(day=n), DUE_TIME, CST)
    if kind == "hours_after_period":
        hour = _unit_hour(spec.unit, unit)
        start = dt.datetime.combine(_period_start(period), dt.time(0), CST)
        if hour is not None:
            end = start + dt.timedelta(hours=hour + 1)
        else:
            end = dt.datetime.combine(_period_end(period, spec.grain) + dt.timedelta(days=1), dt.time(0), CST)
        return end + dt.timedelta(hours=n)
    raise ValueError(f"unknown deadline kind {kind!r}")
