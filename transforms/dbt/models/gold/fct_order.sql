{{ config(
    materialized='incremental', partition_by=['period'], tags=['monthly'],
    unique_key=['order_id'],
) }}
{#- Purchase orders between enterprises (the platform's order feed), by order month. -#}

select
    order_id,
    supplier_enterprise_id,
    buyer_enterprise_id,
    product_category,
    quantity,
    amount,
    order_date,
    due_date,
    order_status,
    order_status in ('新建', '生产中') as is_open,
    period
from {{ source('silver', 'purchase_order') }}
where {{ period_filter('period') }}
