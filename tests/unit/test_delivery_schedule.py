"""The deliveries' schedules (the 20th, China Standard Time): which months a tick builds."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from orchestration.assets.deliveries import delivery_definitions, schedule_name
from orchestration.partitions import monthly

CST = dt.timezone(dt.timedelta(hours=8))


def tick(recipient: str, when: dt.datetime) -> dg.RunRequest | dg.SkipReason:
    [schedule] = [s for s in delivery_definitions().schedules if s.name == schedule_name(recipient)]
    data = schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=when))
    if data.run_requests:
        [request] = data.run_requests
        return request
    return dg.SkipReason(data.skip_message)


def test_one_schedule_per_recipient_on_the_20th_in_china_time() -> None:
    schedules = {s.name: s for s in delivery_definitions().schedules}
    assert set(schedules) == {"deliveries_zhgl_platform_monthly", "deliveries_gyhlw_platform_monthly"}
    for s in schedules.values():
        assert s.cron_schedule == "0 9 20 * *" and s.execution_timezone == "Asia/Shanghai"


def test_a_tick_builds_every_month_up_to_the_one_before() -> None:
    assert monthly.get_first_partition_key() == "2024-01"
    request = tick("zhgl_platform", dt.datetime(2025, 2, 20, 9, 0, tzinfo=CST))
    assert isinstance(request, dg.RunRequest)
    assert request.tags["dagster/asset_partition_range_start"] == "2024-01"
    assert request.tags["dagster/asset_partition_range_end"] == "2025-01"
    assert request.run_key == "zhgl_platform-2025-01"
    # 1 March 00:30 in Shanghai is still 28 February in UTC: the month before is February
    request = tick("gyhlw_platform", dt.datetime(2025, 2, 28, 16, 30, tzinfo=dt.UTC))
    assert isinstance(request, dg.RunRequest)
    assert request.tags["dagster/asset_partition_range_end"] == "2025-02"


def test_no_tick_before_the_first_month_has_ended() -> None:
    skipped = tick("zhgl_platform", dt.datetime(2024, 1, 20, 9, 0, tzinfo=CST))
    assert isinstance(skipped, dg.SkipReason)
