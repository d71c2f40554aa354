{{ config(tags=['snapshot']) }}
{#- Question (产业链供应风险): which enterprises depend on a single or a dominant supplier for a
    chain material? From the latest survey of gold.fct_supply_edge, one row per buyer and
    material where the buyer has a single supplier (risk_level 高, 单一来源) or its largest
    supplier holds at least 80% of the volume (risk_level 中, 高度集中), with that supplier. The
    material is a product category of gold.dim_chain; when a category belongs to two chains
    (医药中间体) the buyer's chain is preferred, then the supplier's, then the first by code. -#}

with latest_survey as (
    select max(period) as period from {{ ref('fct_supply_edge') }}
),

edges as (
    select e.*
    from {{ ref('fct_supply_edge') }} as e
    join latest_survey as s
        on s.period = e.period
),

top_supplier as (
    select *
    from (
        select
            buyer_enterprise_id,
            material,
            period,
            supplier_enterprise_id,
            buyer_material_suppliers,
            share_of_buyer_material,
            row_number() over (
                partition by buyer_enterprise_id, material
                order by share_of_buyer_material desc nulls last, supplier_enterprise_id asc
            ) as rn
        from edges
    ) as ranked
    where rn = 1
),

at_risk as (
    select *
    from top_supplier
    where buyer_material_suppliers = 1 or share_of_buyer_material >= 0.8
),

current_enterprise as (
    select enterprise_id, enterprise_name, chain_code
    from {{ ref('dim_enterprise') }}
    where is_current
),

material_chain as (
    select *
    from (
        select
            r.buyer_enterprise_id,
            r.material,
            c.chain_code,
            c.chain_name_zh,
            c.link,
            row_number() over (
                partition by r.buyer_enterprise_id, r.material
                order by
                    case
                        when c.chain_code = b.chain_code then 0
                        when c.chain_code = s.chain_code then 1
                        else 2
                    end,
                    c.chain_code
            ) as rn
        from at_risk as r
        join {{ ref('dim_chain') }} as c
            on c.product_category = r.material
        left join current_enterprise as b
            on b.enterprise_id = r.buyer_enterprise_id
        left join current_enterprise as s
            on s.enterprise_id = r.supplier_enterprise_id
    ) as ranked
    where rn = 1
)

select
    r.buyer_enterprise_id,
    b.enterprise_name as buyer_name,
    r.material,
    m.chain_code,
    m.chain_name_zh,
    m.link,
    r.supplier_enterprise_id,
    s.enterprise_name as supplier_name,
    cast(r.buyer_material_suppliers as int) as supplier_count,
    cast(r.share_of_buyer_material as double) as top_supplier_share,
    case when r.buyer_material_suppliers = 1 then '高' else '中' end as risk_level,
    r.period as survey_period
from at_risk as r
left join material_chain as m
    on m.buyer_enterprise_id = r.buyer_enterprise_id and m.material = r.material
left join current_enterprise as b
    on b.enterprise_id = r.buyer_enterprise_id
left join current_enterprise as s
    on s.enterprise_id = r.supplier_enterprise_id
