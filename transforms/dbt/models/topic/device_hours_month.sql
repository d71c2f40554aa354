{{ config(
    materialized='incremental', partition_by=['period'], tags=['monthly'],
    unique_key=['city_code', 'chain_code'],
) }}
{#- 设备联网 (驾驶舱): per city, pilot chain ('none' outside the chains) and month, the devices
    that reported and their run, idle, fault and offline hours summed from gold.fct_device_day —
    the grain the dashboard's charts read (the device-day facts exist only per device). A device
    belongs to its owner's city and chain (gold.dim_device.enterprise_id, current row of
    gold.dim_enterprise), as in theme.equipment_connectivity_month. -#}

with owner as (
    select
        d.device_id,
        coalesce(e.city_code, 'unknown') as city_code,
        coalesce(e.chain_code, 'none') as chain_code
    from {{ ref('dim_device') }} as d
    left join {{ ref('dim_enterprise') }} as e
        on e.enterprise_id = d.enterprise_id and e.is_current
),

cell as (
    select
        o.city_code,
        o.chain_code,
        f.period,
        cast(count(distinct f.device_id) as bigint) as devices_reporting,
        cast(sum(f.run_minutes) as bigint) as run_minutes,
        cast(sum(f.idle_minutes) as bigint) as idle_minutes,
        cast(sum(f.fault_minutes) as bigint) as fault_minutes,
        cast(sum(f.offline_minutes) as bigint) as offline_minutes
    from {{ ref('fct_device_day') }} as f
    join owner as o
        on o.device_id = f.device_id
    group by o.city_code, o.chain_code, f.period
),

chains as (
    {{ chain_names() }}
),

cities as (
    {{ current_region_names() }}
)

select
    c.city_code,
    r.city_name,
    c.chain_code,
    case when c.chain_code = 'none' then '非试点产业链' else ch.chain_name_zh end as chain_name_zh,
    c.period,
    c.devices_reporting,
    cast(round(c.run_minutes / 60.0, 2) as double) as run_hours,
    cast(round(c.idle_minutes / 60.0, 2) as double) as idle_hours,
    cast(round(c.fault_minutes / 60.0, 2) as double) as fault_hours,
    cast(round(c.offline_minutes / 60.0, 2) as double) as offline_hours
from cell as c
left join cities as r
    on r.region_code = c.city_code
left join chains as ch
    on ch.chain_code = c.chain_code
where {{ period_filter('c.period') }}
