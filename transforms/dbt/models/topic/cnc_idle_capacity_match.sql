{{ config(
    materialized='incremental', partition_by=['period'], tags=['monthly'],
    unique_key=['order_id', 'offer_id'],
) }}
{#- Question (数控机床 闲置产能撮合): which idle machine capacity could take on each open order of
    the CNC chain this month? One row per open order (gold.fct_order, is_open, in a product
    category of the cnc_machine_tools chain) and candidate offer (silver.capacity_offer) of the
    same month whose enterprise belongs to the CNC chain (gold.dim_enterprise, current) and is
    not the order's buyer; at most the 3 offers with the most idle hours per order (offer_rank
    1–3, ties by offer_id). Orders without a candidate have no row. -#}

with chain_enterprise as (
    select enterprise_id, enterprise_name
    from {{ ref('dim_enterprise') }}
    where is_current and chain_code = 'cnc_machine_tools'
),

open_order as (
    select
        o.order_id,
        o.period,
        o.buyer_enterprise_id,
        o.supplier_enterprise_id,
        o.product_category,
        c.link as chain_link,
        o.quantity,
        o.amount,
        o.order_date,
        o.due_date,
        o.order_status
    from {{ ref('fct_order') }} as o
    join {{ ref('dim_chain') }} as c
        on c.product_category = o.product_category and c.chain_code = 'cnc_machine_tools'
    where o.is_open
),

chain_offer as (
    select
        f.offer_id,
        f.period,
        f.enterprise_id,
        e.enterprise_name,
        f.equipment_type,
        f.idle_hours,
        f.price_per_hour,
        f.available_from,
        f.available_to
    from {{ source('silver', 'capacity_offer') }} as f
    join chain_enterprise as e
        on e.enterprise_id = f.enterprise_id
),

candidates as (
    select
        o.*,
        f.offer_id,
        f.enterprise_id as offer_enterprise_id,
        f.enterprise_name as offer_enterprise_name,
        f.equipment_type,
        f.idle_hours,
        f.price_per_hour,
        f.available_from,
        f.available_to,
        row_number() over (partition by o.order_id order by f.idle_hours desc, f.offer_id asc) as offer_rank
    from open_order as o
    join chain_offer as f
        on f.period = o.period and f.enterprise_id <> o.buyer_enterprise_id
)

select
    period,
    order_id,
    cast(offer_rank as int) as offer_rank,
    buyer_enterprise_id,
    supplier_enterprise_id,
    product_category,
    chain_link,
    quantity,
    amount,
    order_date,
    due_date,
    order_status,
    offer_id,
    offer_enterprise_id,
    offer_enterprise_name,
    offer_enterprise_id = supplier_enterprise_id as is_order_supplier,
    equipment_type,
    idle_hours,
    price_per_hour,
    available_from,
    available_to
from candidates
where offer_rank <= 3 and {{ period_filter('period') }}
