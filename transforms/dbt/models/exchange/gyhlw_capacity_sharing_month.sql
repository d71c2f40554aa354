{{ config(
    materialized='incremental', partition_by=['period'], tags=['monthly'],
    unique_key=['equipment_type'],
) }}
{#- To 工业互联网公共服务平台: capacity sharing per month and equipment type, the 一般 columns of
    topic.cnc_capacity_matching_month (the open-order amount is 重要 and stays). -#}

select
    period,
    equipment_type,
    offer_count,
    idle_hours_offered,
    offering_enterprise_count,
    chain_idle_hours_offered,
    chain_offering_enterprise_count,
    cnc_device_count,
    cnc_utilisation_pct,
    open_order_count,
    matching_ratio
from {{ ref('cnc_capacity_matching_month') }}
where {{ period_filter('period') }}
