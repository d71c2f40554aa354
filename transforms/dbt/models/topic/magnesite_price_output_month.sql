{{ config(
    materialized='incremental', partition_by=['period'], tags=['monthly'],
    unique_key=['period'],
) }}
{#- Question (菱镁 价产联动): how do the magnesite chain's output and energy use move with the
    market prices of magnesia materials? One row per month: output, energy and energy intensity
    of the enterprises of the magnesite chain (gold.fct_enterprise_month.chain_code), output
    month-on-month, and the average price (元/吨, over regions and specifications) of 菱镁矿,
    轻烧镁粉, 重烧镁砂 and 电熔镁砂 from gold.fct_price_month. Chain amounts are published only
    when at least var('min_cell_enterprises') enterprises report (otherwise null), which is what
    lets them be graded 一般. Computed over all months, filtered to the run's months at the end. -#}
{%- set min_n = var('min_cell_enterprises') -%}

with chain_month as (
    {{ chain_month_totals('magnesite') }}
),

published as (
    select
        period,
        enterprise_count,
        case when enterprise_count >= {{ min_n }} then gross_output end as gross_output,
        case when enterprise_count >= {{ min_n }} then energy_consumption end as energy_consumption
    from chain_month
),

price_month as (
    select
        period,
        cast(avg(case when material = '菱镁矿' then price_per_ton end) as decimal(18, 2)) as price_magnesite,
        cast(avg(case when material = '轻烧镁粉' then price_per_ton end) as decimal(18, 2)) as price_light_burned,
        cast(avg(case when material = '重烧镁砂' then price_per_ton end) as decimal(18, 2)) as price_dead_burned,
        cast(avg(case when material = '电熔镁砂' then price_per_ton end) as decimal(18, 2)) as price_fused
    from {{ ref('fct_price_month') }}
    where material in ('菱镁矿', '轻烧镁粉', '重烧镁砂', '电熔镁砂')
    group by period
),

months as (
    select period from chain_month
    union
    select period from price_month
)

select
    m.period,
    cast(coalesce(c.enterprise_count, 0) as bigint) as enterprise_count,
    cast(c.gross_output as decimal(28, 2)) as gross_output,
    cast(c.energy_consumption as decimal(28, 2)) as energy_consumption,
    cast(case when c.gross_output > 0 then round(c.energy_consumption / c.gross_output, 4) end as double)
        as energy_intensity,
    {{ growth_pct('c.gross_output', 'prev.gross_output') }} as gross_output_mom_pct,
    p.price_magnesite,
    p.price_light_burned,
    p.price_dead_burned,
    p.price_fused
from months as m
left join published as c
    on c.period = m.period
left join published as prev
    on prev.period = add_months(m.period, -1)
left join price_month as p
    on p.period = m.period
where {{ period_filter('m.period') }}
