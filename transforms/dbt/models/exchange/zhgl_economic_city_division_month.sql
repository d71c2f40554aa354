{{ config(
    materialized='incremental', partition_by=['period'], tags=['monthly'],
    unique_key=['city_code', 'division_code'],
) }}
{#- To 综合管理平台: economic operation per city × GB/T 4754 division × month, summed from
    gold.fct_enterprise_month, with the enterprise count and the largest enterprise's share of
    the cell's gross output (for disclosure control in the package builder). Growth compares the
    same city × division one and twelve months earlier. -#}

with cell as (
    {{ exchange_economic_cells(['city_code', 'division_code']) }}
),

cities as (
    {{ current_region_names() }}
)

select
    c.city_code,
    r.city_name,
    c.division_code,
    d.industry_name as division_name,
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
    on m.city_code = c.city_code and m.division_code = c.division_code
        and m.period = add_months(c.period, -1)
left join cell as y
    on y.city_code = c.city_code and y.division_code = c.division_code
        and y.period = add_months(c.period, -12)
left join cities as r
    on r.region_code = c.city_code
left join {{ ref('dim_industry') }} as d
    on d.industry_code = c.division_code
where {{ period_filter('c.period') }}
