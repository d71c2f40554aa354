{{ config(
    materialized='incremental', partition_by=['period'], tags=['monthly'],
    unique_key=['indicator_code', 'region_code', 'chain_code'],
) }}
{#- To 综合管理平台: the indicator values of the province (210000) and its cities for the
    indicators computed from the enterprises' monthly statistics (indicator_definition
    source_models = fct_enterprise_month), per pilot chain or 'all', with the cell's enterprise
    count and the largest enterprise's share of its gross output (for disclosure control; a
    region × chain cell is the same set of enterprises as the economic packages' cells). -#}

with fact as (
    {{ exchange_economic_facts() }}
),

summed as (
    select
        coalesce(city_code, '210000') as region_code,
        coalesce(chain_code, 'all') as chain_code,
        period,
        cast(count(distinct enterprise_id) as bigint) as cell_enterprises,
        max(cast(gross_output as double)) as largest_output,
        sum(cast(gross_output as double)) as total_output
    from fact
    group by grouping sets (
        (city_code, chain_code, period), (city_code, period), (chain_code, period), (period)
    )
),

shares as (
    select
        region_code,
        chain_code,
        period,
        cell_enterprises,
        cast(case when total_output > 0 then round(largest_output / total_output, 4) end as double)
            as largest_share
    from summed
),

definition as (
    select indicator_code, name_zh, unit
    from {{ ref('indicator_definition') }}
    where source_models = 'fct_enterprise_month'
)

select
    v.indicator_code,
    d.name_zh as indicator_name_zh,
    d.unit,
    v.region_code,
    v.chain_code,
    v.period,
    coalesce(s.cell_enterprises, v.enterprise_count) as enterprise_count,
    s.largest_share,
    v.value
from {{ ref('indicator_value') }} as v
join definition as d
    on d.indicator_code = v.indicator_code
left join shares as s
    on s.region_code = v.region_code and s.chain_code = v.chain_code and s.period = v.period
where {{ period_filter('v.period') }}
