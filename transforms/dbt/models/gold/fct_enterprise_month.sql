{{ config(
    materialized='incremental',
    incremental_strategy='replace_period',
    unique_key=['enterprise_id', 'period'],
    period_column='period',
    partition_by=['period'],
) }}

select
    s.enterprise_id,
    s.uscc,
    s.enterprise_name,
    s.region_code,
    s.city_code,
    s.industry_code,
    s.period,
    s.gross_output,
    s.revenue,
    s.total_profit,
    s.avg_employees,
    s.energy_consumption,
    s._batch_id
from {{ source('silver', 'enterprise_month_stats') }} as s
where {{ period_filter('s.period') }}
