{{ config(
    materialized='incremental', partition_by=['period'], tags=['monthly'],
    unique_key=['enterprise_id', 'period'],
) }}
{#- Monthly statistics of each 规上 enterprise (the reporters of the monthly survey are the
    enterprises above designated size), with its chain. -#}

select
    s.enterprise_id,
    s.uscc,
    s.enterprise_name,
    s.region_code,
    s.city_code,
    s.industry_code,
    c.chain_code,
    s.period,
    s.gross_output,
    s.revenue,
    s.total_profit,
    s.avg_employees,
    s.energy_consumption,
    s._batch_id
from {{ source('silver', 'enterprise_month_stats') }} as s
left join {{ source('silver', 'ref_chain_industry') }} as c
    on c.industry_code = s.industry_code
where {{ period_filter('s.period') }}
