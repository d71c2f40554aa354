"""When each file reaches the province: on time before its deadline, or late on purpose.

The schedule is part of the simulator's manifest; landing records it as the delivery's arrival
time, so timeliness rules can compare arrival with the deadline.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from ingest.simulator.world import CST, month_end

# Deadline after the end of the period, per source (days for monthly files, hours for telemetry).
MONTHLY_DEADLINE_DAY = {"gov_stats_monthly": 10, "gov_subsidy": 15, "ent_orders": 5, "ent_products": 5,
                        "ind_prices": 5, "ind_supply_chain": 20}  # fmt: skip
TELEMETRY_DEADLINE = dt.timedelta(hours=2)


def monthly_deadline(source: str, period: str) -> dt.datetime:
    """The deadline day of the month after ``period``, 23:59 CST (supply chain: same month)."""
    end = month_end(period)
    month = dt.date(end.year, end.month, 1) if source == "ind_supply_chain" else end + dt.timedelta(days=1)
    return dt.datetime.combine(month.replace(day=MONTHLY_DEADLINE_DAY[source]), dt.time(23, 59), CST)


def arrival(
    rng: random.Random, deadline: dt.datetime, late: bool, earliest: dt.datetime, late_by: dt.timedelta
) -> dt.datetime:
    if late:
        return deadline + dt.timedelta(seconds=rng.uniform(600, late_by.total_seconds()))
    return earliest + (deadline - earliest) * rng.uniform(0.05, 0.95)


@dataclass
class DeliveryLog:
    entries: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self,
        source: str,
        file: str,
        period: str,
        unit: str,
        arrived_at: dt.datetime,
        deadline: dt.datetime,
        late: bool,
    ) -> None:
        self.entries.append(
            {
                "source": source,
                "file": file,
                "period": period,
                "unit": unit,
                "arrived_at": arrived_at.astimezone(dt.UTC).isoformat(),
                "deadline": deadline.astimezone(dt.UTC).isoformat(),
                "late": late,
            }
        )
