{{ config(
    materialized='incremental', partition_by=['period'], tags=['monthly'],
    unique_key=['city_code'],
) }}
{#- Question (生物医药 增长): which cities drive the growth of the biomedicine chain, and what
    share of the chain's provincial output does each hold? One row per city and month over the
    enterprises of the biomedicine chain (gold.fct_enterprise_month.chain_code): output,
    revenue, enterprise count, output growth month on month and year on year (%), and the
    city's share (%) of the chain's output in the province that month. City cells are small, so
    amounts stay 重要 (no suppression). Computed over all months, filtered to the run's months
    at the end. -#}

with city_month as (
    {{ chain_month_totals('biomedicine', by_city=true) }}
),

province_month as (
    select period, cast(sum(gross_output) as decimal(28, 2)) as gross_output
    from city_month
    group by period
),

cities as (
    {{ current_region_names() }}
)

select
    c.city_code,
    r.city_name,
    c.period,
    cast(c.enterprise_count as bigint) as enterprise_count,
    c.gross_output,
    c.revenue,
    {{ growth_pct('c.gross_output', 'prev_month.gross_output') }} as gross_output_mom_pct,
    {{ growth_pct('c.gross_output', 'prev_year.gross_output') }} as gross_output_yoy_pct,
    cast(case when p.gross_output > 0 then round(c.gross_output / p.gross_output * 100, 2) end as double)
        as province_output_share_pct
from city_month as c
join province_month as p
    on p.period = c.period
left join city_month as prev_month
    on prev_month.city_code = c.city_code and prev_month.period = add_months(c.period, -1)
left join city_month as prev_year
    on prev_year.city_code = c.city_code and prev_year.period = add_months(c.period, -12)
left join cities as r
    on r.region_code = c.city_code
where {{ period_filter('c.period') }}
