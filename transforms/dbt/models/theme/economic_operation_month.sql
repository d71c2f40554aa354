{{ config(
    materialized='incremental', partition_by=['period'], tags=['monthly'],
    unique_key=['city_code', 'division_code', 'chain_code'],
) }}
{#- 经济运行: the monthly survey of above-scale (规上) enterprises summed per city, GB/T 4754
    division, pilot chain ('none' outside the chains) and month. Deliberately plain so it can be
    recomputed from silver: enterprise_month_stats rows grouped by city_code,
    substr(industry_code, 1, 2) (the class's division) and the chain of ref_chain_industry.
    Growth compares the same city/division/chain key one month and twelve months earlier, so
    the whole history is read and only the run's months are written. -#}

with fact as (
    select
        f.city_code,
        coalesce(i.division_code, 'unknown') as division_code,
        coalesce(f.chain_code, 'none') as chain_code,
        f.period,
        f.enterprise_id,
        f.gross_output,
        f.revenue,
        f.total_profit,
        f.avg_employees,
        f.energy_consumption
    from {{ ref('fct_enterprise_month') }} as f
    left join {{ ref('dim_industry') }} as i
        on i.industry_code = f.industry_code
),

cell as (
    select
        city_code,
        division_code,
        chain_code,
        period,
        cast(count(distinct enterprise_id) as bigint) as enterprise_count,
        -- explicit types: Sail mis-types decimal sums after a join otherwise
        cast(sum(gross_output) as decimal(28, 2)) as gross_output,
        cast(sum(revenue) as decimal(28, 2)) as revenue,
        cast(sum(total_profit) as decimal(28, 2)) as total_profit,
        cast(sum(avg_employees) as bigint) as avg_employees,
        cast(sum(energy_consumption) as decimal(28, 2)) as energy_consumption
    from fact
    group by city_code, division_code, chain_code, period
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
    c.division_code,
    d.industry_name as division_name,
    c.chain_code,
    case when c.chain_code = 'none' then '非试点产业链' else ch.chain_name_zh end as chain_name_zh,
    c.period,
    c.enterprise_count,
    c.gross_output,
    c.revenue,
    c.total_profit,
    c.avg_employees,
    c.energy_consumption,
    {{ growth_pct('c.gross_output', 'm.gross_output') }} as gross_output_mom_pct,
    {{ growth_pct('c.gross_output', 'y.gross_output') }} as gross_output_yoy_pct,
    {{ growth_pct('c.revenue', 'm.revenue') }} as revenue_mom_pct,
    {{ growth_pct('c.revenue', 'y.revenue') }} as revenue_yoy_pct,
    cast(case when c.revenue > 0 then round(c.total_profit / c.revenue * 100, 2) end as double)
        as profit_margin_pct,
    cast(case when c.gross_output > 0 then round(c.energy_consumption / c.gross_output, 4) end as double)
        as energy_intensity
from cell as c
left join cell as m
    on m.city_code = c.city_code and m.division_code = c.division_code and m.chain_code = c.chain_code
        and m.period = add_months(c.period, -1)
left join cell as y
    on y.city_code = c.city_code and y.division_code = c.division_code and y.chain_code = c.chain_code
        and y.period = add_months(c.period, -12)
left join cities as r
    on r.region_code = c.city_code
left join {{ ref('dim_industry') }} as d
    on d.industry_code = c.division_code
left join chains as ch
    on ch.chain_code = c.chain_code
where {{ period_filter('c.period') }}
