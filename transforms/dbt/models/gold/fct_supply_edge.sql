{{ config(
    materialized='incremental', partition_by=['period'], tags=['monthly'],
    unique_key=['buyer_enterprise_id', 'supplier_enterprise_id', 'material'],
) }}
{#- Supplier → buyer relations by survey (quarterly; the period is the survey's month), with
    the supplier's share of what the buyer sources of that material. -#}

with edges as (
    select
        buyer_enterprise_id, supplier_enterprise_id, material, annual_volume, volume_unit,
        survey_year, period
    from {{ source('silver', 'supply_edge') }}
    where {{ period_filter('period') }}
)

select
    buyer_enterprise_id,
    supplier_enterprise_id,
    material,
    annual_volume,
    volume_unit,
    survey_year,
    period,
    cast(count(*) over (partition by buyer_enterprise_id, material, period) as int)
        as buyer_material_suppliers,
    cast(round(
        annual_volume
        / nullif(sum(annual_volume) over (partition by buyer_enterprise_id, material, period), 0),
        4
    ) as double) as share_of_buyer_material
from edges
