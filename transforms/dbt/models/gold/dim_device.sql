{{ config(tags=['dimension']) }}
{#- Every connected device seen in telemetry, with its owner and when it first and last reported. -#}

with readings as (
    select device_id, device_kind, enterprise_id, reading_ts
    from {{ source('silver', 'telemetry_reading') }}
),

latest_owner as (
    select device_id, device_kind, enterprise_id
    from (
        select
            device_id, device_kind, enterprise_id,
            row_number() over (partition by device_id order by reading_ts desc) as rn
        from readings
    ) as ranked
    where rn = 1
),

seen as (
    select
        device_id, min(reading_ts) as first_seen_at, max(reading_ts) as last_seen_at,
        count(distinct to_date(reading_ts)) as days_reporting
    from readings
    group by device_id
)

select
    o.device_id,
    o.device_kind,
    o.enterprise_id,
    s.first_seen_at,
    s.last_seen_at,
    cast(s.days_reporting as int) as days_reporting
from latest_owner as o
join seen as s
    on s.device_id = o.device_id
