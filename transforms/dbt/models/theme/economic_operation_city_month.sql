{{ config(materialized='table') }}

with city_month as (
    select
        city_code,
        period,
        count(*) as enterprise_count,
        sum(gross_output) as gross_output,
        sum(revenue) as revenue,
        sum(total_profit) as total_profit,
        sum(energy_consumption) as energy_consumption
    from {{ ref('fct_enterprise_month') }}
    group by city_code, period
)

select
    c.city_code,
    r.name as city_name,
    c.period,
    cast(c.enterprise_count as bigint) as enterprise_count,
    cast(c.gross_output as decimal(28, 2)) as gross_output,
    cast(c.revenue as decimal(28, 2)) as revenue,
    cast(c.total_profit as decimal(28, 2)) as total_profit,
    cast(c.energy_consumption as decimal(28, 2)) as energy_consumption,
    {{ growth_pct('c.gross_output', 'prev_month.gross_output') }} as gross_output_mom_pct,
    {{ growth_pct('c.gross_output', 'prev_year.gross_output') }} as gross_output_yoy_pct
from city_month as c
left join {{ source('silver', 'ref_region') }} as r
    on r.code = c.city_code
left join city_month as prev_month
    on prev_month.city_code = c.city_code and prev_month.period = add_months(c.period, -1)
left join city_month as prev_year
    on prev_year.city_code = c.city_code and prev_year.period = add_months(c.period, -12)
