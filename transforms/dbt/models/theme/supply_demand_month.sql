{{ config(
    materialized='incremental', partition_by=['period'], tags=['monthly'],
    unique_key=['chain_code', 'link', 'material'],
) }}
{#- 供需: buyer–supplier relations of each survey (gold.fct_supply_edge) per material, placed on
    every chain link whose product category is that material (a category may sit in several
    chains, e.g. 医药中间体). Supplier shares are of the material's total volume in the survey;
    HHI is the sum of their squares (0..1), single-source buyers have one supplier of it. The
    volumes are summed as reported; volume_unit_count > 1 says the units were mixed. -#}

with edges as (
    select buyer_enterprise_id, supplier_enterprise_id, material, annual_volume, volume_unit, period
    from {{ ref('fct_supply_edge') }}
    where {{ period_filter('period') }}
),

material_month as (
    select
        material,
        period,
        cast(count(*) as bigint) as edge_count,
        cast(count(distinct supplier_enterprise_id) as bigint) as supplier_count,
        cast(count(distinct buyer_enterprise_id) as bigint) as buyer_count,
        cast(sum(annual_volume) as decimal(28, 2)) as total_annual_volume,
        cast(count(distinct volume_unit) as int) as volume_unit_count
    from edges
    group by material, period
),

supplier_volume as (
    select material, period, supplier_enterprise_id, sum(annual_volume) as volume
    from edges
    group by material, period, supplier_enterprise_id
),

supplier_share as (
    -- decimals, not doubles: the sum is exact, so a re-run gives identical values
    select s.material, s.period, cast(s.volume / nullif(t.total_annual_volume, 0) as decimal(20, 12)) as share
    from supplier_volume as s
    join material_month as t
        on t.material = s.material and t.period = s.period
    where t.total_annual_volume > 0
),

concentration as (
    select
        material,
        period,
        cast(round(sum(share * share), 4) as double) as supplier_hhi,
        cast(round(max(share), 4) as double) as top_supplier_share
    from supplier_share
    group by material, period
),

single_source as (
    select material, period, cast(count(*) as bigint) as single_source_buyer_count
    from (
        select material, period, buyer_enterprise_id
        from edges
        group by material, period, buyer_enterprise_id
        having count(distinct supplier_enterprise_id) = 1
    ) as b
    group by material, period
)

select
    c.chain_code,
    c.chain_name_zh,
    c.link,
    c.link_order,
    m.material,
    m.period,
    m.edge_count,
    m.supplier_count,
    m.buyer_count,
    m.total_annual_volume,
    m.volume_unit_count,
    h.supplier_hhi,
    h.top_supplier_share,
    coalesce(s.single_source_buyer_count, cast(0 as bigint)) as single_source_buyer_count
from material_month as m
join {{ ref('dim_chain') }} as c
    on c.product_category = m.material
left join concentration as h
    on h.material = m.material and h.period = m.period
left join single_source as s
    on s.material = m.material and s.period = m.period
where {{ period_filter('m.period') }}
