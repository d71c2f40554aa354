{{ config(
    materialized='incremental', partition_by=['period'], tags=['monthly'],
    unique_key=['device_id', 'hour_ts'],
) }}
{#- Each device-hour: minutes per state, load, energy and parts. A reading stands for one minute
    (the devices' reporting interval); parts are the rise of the device's cumulative counter
    within the hour. A clock correction can put 61 readings in one hour: utilisation is capped
    at 100 %. -#}

with readings as (
    select
        device_id, device_kind, enterprise_id, reading_hour, status, load_pct, power_kw, part_count,
        period as reading_date,
        cast(trunc(period, 'MM') as date) as period
    from {{ source('silver', 'telemetry_reading') }}
    where {{ period_filter("cast(trunc(period, 'MM') as date)") }}
)

select
    device_id,
    max(device_kind) as device_kind,
    max(enterprise_id) as enterprise_id,
    reading_hour as hour_ts,
    max(reading_date) as reading_date,
    period,
    count(*) as readings,
    count_if(status = 'run') as run_minutes,
    count_if(status = 'idle') as idle_minutes,
    count_if(status = 'fault') as fault_minutes,
    count_if(status = 'offline') as offline_minutes,
    cast(round(least(count_if(status = 'run') / 60.0, 1.0) * 100, 2) as double) as utilisation_pct,
    -- sums of doubles depend on the order rows arrive in; summed as decimals they are exact, so
    -- a re-run gives identical values and the replace_period MERGE has nothing to update
    cast(round(avg(cast(load_pct as decimal(12, 4))), 2) as double) as avg_load_pct,
    cast(round(sum(cast(power_kw as decimal(14, 4))) / 60, 3) as double) as energy_kwh,
    greatest(coalesce(max(part_count) - min(part_count), 0), 0) as parts_produced
from readings
group by device_id, reading_hour, period
