{{ config(
    materialized='incremental', partition_by=['period'], tags=['monthly'],
    unique_key=['city_code', 'chain_code'],
) }}
{#- 产能共享 (驾驶舱): per city, pilot chain ('none' outside the chains) and month, the idle
    capacity offered on the platform (silver.capacity_offer, by the offering enterprise's current
    city and chain in gold.dim_enterprise) against the orders placed in the month that are still
    open (gold.fct_order, is_open, by the buyer's current city and chain). A cell has a row when
    it has an offer or an open order. Order amounts are enterprise-level sums and stay 重要. -#}

with enterprise as (
    select enterprise_id, city_code, chain_code
    from {{ ref('dim_enterprise') }}
    where is_current
),

offer as (
    select
        coalesce(e.city_code, 'unknown') as city_code,
        coalesce(e.chain_code, 'none') as chain_code,
        o.period,
        cast(count(*) as bigint) as offer_count,
        cast(count(distinct o.enterprise_id) as bigint) as offering_enterprise_count,
        cast(sum(o.idle_hours) as decimal(28, 2)) as idle_hours_offered
    from {{ source('silver', 'capacity_offer') }} as o
    left join enterprise as e
        on e.enterprise_id = o.enterprise_id
    group by coalesce(e.city_code, 'unknown'), coalesce(e.chain_code, 'none'), o.period
),

open_order as (
    select
        coalesce(e.city_code, 'unknown') as city_code,
        coalesce(e.chain_code, 'none') as chain_code,
        o.period,
        cast(count(*) as bigint) as open_order_count,
        cast(sum(o.amount) as decimal(28, 2)) as open_order_amount
    from {{ ref('fct_order') }} as o
    left join enterprise as e
        on e.enterprise_id = o.buyer_enterprise_id
    where o.is_open
    group by coalesce(e.city_code, 'unknown'), coalesce(e.chain_code, 'none'), o.period
),

cell as (
    select
        coalesce(f.city_code, d.city_code) as city_code,
        coalesce(f.chain_code, d.chain_code) as chain_code,
        coalesce(f.period, d.period) as period,
        cast(coalesce(f.offer_count, 0) as bigint) as offer_count,
        cast(coalesce(f.offering_enterprise_count, 0) as bigint) as offering_enterprise_count,
        cast(coalesce(f.idle_hours_offered, 0) as decimal(28, 2)) as idle_hours_offered,
        cast(coalesce(d.open_order_count, 0) as bigint) as open_order_count,
        cast(coalesce(d.open_order_amount, 0) as decimal(28, 2)) as open_order_amount
    from offer as f
    full outer join open_order as d
        on d.city_code = f.city_code and d.chain_code = f.chain_code and d.period = f.period
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
    c.offer_count,
    c.offering_enterprise_count,
    c.idle_hours_offered,
    c.open_order_count,
    c.open_order_amount
from cell as c
left join cities as r
    on r.region_code = c.city_code
left join chains as ch
    on ch.chain_code = c.chain_code
where {{ period_filter('c.period') }}
