{{ config(
    materialized='incremental', partition_by=['period'], tags=['monthly'],
    unique_key=['city_code', 'chain_code'],
) }}
{#- 设备联网: per city, pilot chain ('none' outside the chains) and month, the devices known by
    then (gold.dim_device first seen on or before the month's end, in China time like the
    device-day dates), the devices that reported in the month (a gold.fct_device_day row), the
    connection rate and the month's run hours, utilisation, parts and energy. A device belongs
    to its owner's city and chain (gold.dim_enterprise current row). Months run from the first
    device seen to the latest month with telemetry. -#}

with owner as (
    select
        d.device_id,
        coalesce(e.city_code, 'unknown') as city_code,
        coalesce(e.chain_code, 'none') as chain_code,
        cast(trunc(to_date(from_utc_timestamp(d.first_seen_at, 'Asia/Shanghai')), 'MM') as date)
            as first_seen_period
    from {{ ref('dim_device') }} as d
    left join {{ ref('dim_enterprise') }} as e
        on e.enterprise_id = d.enterprise_id and e.is_current
),

first_device as (
    select min(first_seen_period) as first_period from owner
),

last_telemetry as (
    select max(period) as last_period from {{ ref('fct_device_day') }}
),

months as (
    select distinct p.period
    from {{ ref('dim_date') }} as p
    cross join first_device as lo
    cross join last_telemetry as hi
    where p.period between lo.first_period and hi.last_period
),

known as (
    select o.city_code, o.chain_code, m.period, cast(count(*) as bigint) as devices_known
    from owner as o
    join months as m
        on m.period >= o.first_seen_period
    group by o.city_code, o.chain_code, m.period
),

usage as (
    select
        o.city_code,
        o.chain_code,
        d.period,
        cast(count(distinct d.device_id) as bigint) as devices_connected,
        cast(sum(d.run_minutes) as bigint) as run_minutes,
        -- doubles summed as decimals: exact, so a re-run gives identical values (no MERGE update)
        cast(round(avg(cast(d.utilisation_pct as decimal(9, 2))), 2) as double) as avg_utilisation_pct,
        cast(sum(d.parts_produced) as bigint) as parts_produced,
        cast(sum(cast(d.energy_kwh as decimal(18, 3))) as double) as energy_kwh
    from {{ ref('fct_device_day') }} as d
    join owner as o
        on o.device_id = d.device_id
    group by o.city_code, o.chain_code, d.period
),

chains as (
    {{ chain_names() }}
),

cities as (
    {{ current_region_names() }}
)

select
    k.city_code,
    r.city_name,
    k.chain_code,
    case when k.chain_code = 'none' then '非试点产业链' else ch.chain_name_zh end as chain_name_zh,
    k.period,
    k.devices_known,
    coalesce(u.devices_connected, cast(0 as bigint)) as devices_connected,
    cast(round(coalesce(u.devices_connected, 0) / k.devices_known * 100, 2) as double) as connection_rate_pct,
    cast(round(coalesce(u.run_minutes, 0) / 60.0, 2) as double) as run_hours,
    u.avg_utilisation_pct,
    coalesce(u.parts_produced, cast(0 as bigint)) as parts_produced,
    coalesce(u.energy_kwh, cast(0 as double)) as energy_kwh
from known as k
left join usage as u
    on u.city_code = k.city_code and u.chain_code = k.chain_code and u.period = k.period
left join cities as r
    on r.region_code = k.city_code
left join chains as ch
    on ch.chain_code = k.chain_code
where {{ period_filter('k.period') }}
