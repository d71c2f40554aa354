{{ config(
    materialized='incremental', partition_by=['period'], tags=['monthly'],
    unique_key=['city_code', 'chain_code'],
) }}
{#- To 综合管理平台: economic operation per city × pilot chain ('none' outside the chains) × month,
    summed from gold.fct_enterprise_month, with what disclosure control needs per cell: the
    enterprise count and the largest enterprise's share of the cell's gross output. Amounts are
    unsuppressed here (重要); the package builder suppresses cells across the period's packages.
    Growth compares the same city × chain one and twelve months earlier. -#}

with cell as (
    {{ exchange_economic_cells(['city_code', 'chain_code']) }}
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
    c.enterprise_count,
    c.largest_share,
    c.gross_output,
    c.revenue,
    c.total_profit,
    c.avg_employees,
    c.energy_consumption,
    {{ growth_pct('c.gross_output', 'm.gross_output') }} as gross_output_mom_pct,
    {{ growth_pct('c.gross_output', 'y.gross_output') }} as gross_output_yoy_pct,
    {{ growth_pct('c.revenue', 'y.revenue') }} as revenue_yoy_pct
from cell as c
left join cell as m
    on m.city_code = c.city_code and m.chain_code = c.chain_code and m.period = add_months(c.period, -1)
left join cell as y
    on y.city_code = c.city_code and y.chain_code = c.chain_code and y.period = add_months(c.period, -12)
left join cities as r
    on r.region_code = c.city_code
left join chains as ch
    on ch.chain_code = c.chain_code
where {{ period_filter('c.period') }}
