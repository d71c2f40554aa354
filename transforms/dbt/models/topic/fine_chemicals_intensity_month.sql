{{ config(
    materialized='incremental', partition_by=['period'], tags=['monthly'],
    unique_key=['city_code'],
) }}
{#- Question (精细化工 能效): where in the province does the fine-chemicals chain use the most energy
    per unit of output, how productive and profitable is it, and is its energy intensity falling
    year on year? One row per city and month over the enterprises of the fine_chemicals chain
    (gold.fct_enterprise_month.chain_code): output, energy, energy intensity (吨标准煤/万元),
    output per employee (万元/人), profit margin (%) and the year-on-year change of energy
    intensity (%). City cells are small, so amounts stay 重要 (no suppression). Computed over
    all months, filtered to the run's months at the end. -#}

with city_month as (
    {{ chain_month_totals('fine_chemicals', by_city=true) }}
),

measured as (
    select
        *,
        cast(case when gross_output > 0 then round(energy_consumption / gross_output, 4) end as double)
            as energy_intensity
    from city_month
),

cities as (
    {{ current_region_names() }}
)

select
    m.city_code,
    r.city_name,
    m.period,
    cast(m.enterprise_count as bigint) as enterprise_count,
    m.gross_output,
    m.revenue,
    m.total_profit,
    m.employees,
    m.energy_consumption,
    m.energy_intensity,
    cast(case when m.employees > 0 then round(m.gross_output / m.employees, 4) end as double)
        as output_per_employee,
    cast(case when m.revenue > 0 then round(m.total_profit / m.revenue * 100, 2) end as double)
        as profit_margin_pct,
    y.energy_intensity as energy_intensity_prev_year,
    {{ growth_pct('m.energy_intensity', 'y.energy_intensity') }} as energy_intensity_yoy_pct
from measured as m
left join measured as y
    on y.city_code = m.city_code and y.period = add_months(m.period, -12)
left join cities as r
    on r.region_code = m.city_code
where {{ period_filter('m.period') }}
