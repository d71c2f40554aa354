{{ config(
    materialized='incremental', partition_by=['period'], tags=['monthly'],
    unique_key=['city_code', 'chain_code'],
) }}
{#- To 工业互联网公共服务平台: equipment connectivity per city × pilot chain × month, the 一般
    columns of theme.equipment_connectivity_month (parts and energy are 重要 and stay). -#}

select
    city_code,
    city_name,
    chain_code,
    chain_name_zh,
    period,
    devices_known,
    devices_connected,
    connection_rate_pct,
    run_hours,
    avg_utilisation_pct
from {{ ref('equipment_connectivity_month') }}
where {{ period_filter('period') }}
