{{ config(tags=['dimension']) }}
{#- Pilot chain → link (上游/中游/下游) → product category, with the chain's GB/T 4754 classes. -#}

with chain_classes as (
    select
        chain_code,
        concat_ws(',', sort_array(collect_list(industry_code))) as industry_codes,
        count(*) as industry_class_count
    from {{ source('silver', 'ref_chain_industry') }}
    group by chain_code
)

select
    l.chain_code,
    l.chain_name_zh,
    l.link,
    l.link_order,
    l.product_category,
    l.category_order,
    c.industry_codes,
    cast(c.industry_class_count as int) as industry_class_count
from {{ source('silver', 'ref_chain_link') }} as l
left join chain_classes as c
    on c.chain_code = l.chain_code
