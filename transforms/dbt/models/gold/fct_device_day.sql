{{ config(
    materialized='incremental', partition_by=['period'], tags=['monthly'],
    unique_key=['device_id', 'reading_date'],
) }}
{#- Each device-day from its hours: utilisation is run time over the 24 hours of the day. -#}

select
    device_id,
    max(device_kind) as device_kind,
    max(enterprise_id) as enterprise_id,
    reading_date,
    period,
    cast(count(*) as int) as hours_reporting,
    sum(readings) as readings,
    sum(run_minutes) as run_minutes,
    sum(idle_minutes) as idle_minutes,
    sum(fault_minutes) as fault_minutes,
    sum(offline_minutes) as offline_minutes,
    cast(round(least(sum(run_minutes) / 1440.0, 1.0) * 100, 2) as double) as utilisation_pct,
    cast(round(sum(cast(energy_kwh as decimal(18, 3))), 3) as double) as energy_kwh,
    sum(parts_produced) as parts_produced
from {{ ref('fct_device_hour') }}
where {{ period_filter('period') }}
group by device_id, reading_date, period
