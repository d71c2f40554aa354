"""When each file reaches the province: on time before its deadline, or late on purpose.

The schedule is part of the simulator's manifest; landing records it as the delivery's arrival
time, so timeliness rules can compare arrival with the deadline.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from catalog import get_contract
from catalog.deadlines import delivery_deadline


# Deadlines are part of each bronze contract (``ingest.deadline``): the timeliness rule measures
# arrivals against the same ones.
def telemetry_deadline() -> dt.timedelta:
    """How long after its day a telemetry file is due."""
    return dt.timedelta(hours=get_contract("bronze", "ent_telemetry").ingest.deadline["hours_after_period"])


def monthly_deadline(source: str, period: str) -> dt.datetime:
    """When the ``period`` file of a monthly source is due (its contract's ``ingest.deadline``:
    e.g. the 10th of the following month, 23:59 CST; the supply-chain survey: the same month)."""
    return delivery_deadline(get_contract("bronze", source).ingest, period)


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
