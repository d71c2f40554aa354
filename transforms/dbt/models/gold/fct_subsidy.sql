{{ config(
    materialized='incremental', partition_by=['period'], tags=['monthly'],
    unique_key=['award_id'],
) }}
{#- Policy awards (惠企政策兑现) to enterprises, by award month. -#}

select
    award_id,
    enterprise_id,
    policy_code,
    policy_name,
    fund_type,
    amount,
    award_date,
    department,
    period
from {{ source('silver', 'subsidy_award') }}
where {{ period_filter('period') }}
