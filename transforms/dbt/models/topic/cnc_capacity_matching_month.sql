{{ config(
    materialized='incremental', partition_by=['period'], tags=['monthly'],
    unique_key=['equipment_type'],
) }}
{#- Question (数控机床 产能共享): how much idle machine capacity is on offer each month, by
    equipment type, against the CNC chain's open orders, and how busy are the chain's own CNC
    machines? One row per month and equipment type (every type ever offered, so a month
    without offers of a type shows 0). Supply: silver.capacity_offer, all platform offers and
    the part offered by enterprises of the cnc_machine_tools chain (gold.dim_enterprise).
    Demand: gold.fct_order placed in the month, still open, in the chain's product categories
    (gold.dim_chain) — a month-level figure repeated on each equipment type's row, as are the
    CNC utilisation figures (gold.fct_device_day, device_kind 'cnc', devices of chain
    enterprises). matching_ratio = chain idle hours offered of the type / open order count
    (idle hours per open order; null when there are no open orders), the same offers the
    matching list cnc_idle_capacity_match draws on. Computed over all months, filtered to the
    run's months at the end. -#}

with chain_enterprise as (
    select distinct enterprise_id
    from {{ ref('dim_enterprise') }}
    where is_current and chain_code = 'cnc_machine_tools'
),

chain_category as (
    select product_category
    from {{ ref('dim_chain') }}
    where chain_code = 'cnc_machine_tools'
),

offer as (
    select
        o.period,
        coalesce(o.equipment_type, '未注明') as equipment_type,
        o.offer_id,
        o.enterprise_id,
        o.idle_hours,
        ce.enterprise_id is not null as is_chain_offer
    from {{ source('silver', 'capacity_offer') }} as o
    left join chain_enterprise as ce
        on ce.enterprise_id = o.enterprise_id
),

offer_month as (
    select
        period,
        equipment_type,
        count(*) as offer_count,
        cast(sum(idle_hours) as decimal(28, 2)) as idle_hours_offered,
        count(distinct enterprise_id) as offering_enterprise_count,
        cast(sum(case when is_chain_offer then idle_hours end) as decimal(28, 2)) as chain_idle_hours_offered,
        count(distinct case when is_chain_offer then enterprise_id end) as chain_offering_enterprise_count
    from offer
    group by period, equipment_type
),

open_order_month as (
    select
        o.period,
        count(*) as open_order_count,
        cast(sum(o.amount) as decimal(28, 2)) as open_order_amount
    from {{ ref('fct_order') }} as o
    join chain_category as c
        on c.product_category = o.product_category
    where o.is_open
    group by o.period
),

cnc_device_month as (
    select
        d.period,
        count(distinct d.device_id) as cnc_device_count,
        cast(round(sum(d.run_minutes) / (count(*) * 1440.0) * 100, 2) as double) as cnc_utilisation_pct
    from {{ ref('fct_device_day') }} as d
    join chain_enterprise as ce
        on ce.enterprise_id = d.enterprise_id
    where d.device_kind = 'cnc'
    group by d.period
),

months as (
    select period from offer_month
    union
    select period from open_order_month
    union
    select period from cnc_device_month
),

equipment_types as (
    select distinct equipment_type from offer
),

spine as (
    select m.period, t.equipment_type
    from months as m
    cross join equipment_types as t
)

select
    s.period,
    s.equipment_type,
    cast(coalesce(f.offer_count, 0) as bigint) as offer_count,
    cast(coalesce(f.idle_hours_offered, 0) as decimal(28, 2)) as idle_hours_offered,
    cast(coalesce(f.offering_enterprise_count, 0) as bigint) as offering_enterprise_count,
    cast(coalesce(f.chain_idle_hours_offered, 0) as decimal(28, 2)) as chain_idle_hours_offered,
    cast(coalesce(f.chain_offering_enterprise_count, 0) as bigint) as chain_offering_enterprise_count,
    cast(coalesce(d.cnc_device_count, 0) as bigint) as cnc_device_count,
    d.cnc_utilisation_pct,
    cast(coalesce(o.open_order_count, 0) as bigint) as open_order_count,
    cast(coalesce(o.open_order_amount, 0) as decimal(28, 2)) as open_order_amount,
    cast(
        case
            when o.open_order_count > 0
                then round(coalesce(f.chain_idle_hours_offered, 0) / o.open_order_count, 2)
        end as double
    ) as matching_ratio
from spine as s
left join offer_month as f
    on f.period = s.period and f.equipment_type = s.equipment_type
left join open_order_month as o
    on o.period = s.period
left join cnc_device_month as d
    on d.period = s.period
where {{ period_filter('s.period') }}
