{{ config(tags=['snapshot']) }}
{#- Question (产业链图谱): which enterprises make up each pilot chain, in which link, how large and
    how connected is each, and which are the candidate chain leaders (链主候选)? One row per
    chain and current enterprise (gold.dim_enterprise, is_current) that belongs to the chain by
    its industry class (chain_code) or by a current product in one of the chain's product
    categories (silver.product, latest delivery of each product, matched to gold.dim_chain on
    category and link; 汽车 and 电子 belong to two chains each). Link: the chain link most of
    its chain products are in (ties: the upstream-most), else its main link in dim_enterprise.
    Output: gross output of the 12 months ending with the latest month of
    gold.fct_enterprise_month. Degree: distinct buyers + distinct suppliers in the latest survey
    of gold.fct_supply_edge (whole network). Ranks (row numbers; ties: output, then degree,
    then enterprise_id) are taken among the chain's own enterprises, i.e. members by industry
    class; an enterprise in the chain only by a product (e.g. a chemicals firm making 电子 goods
    in the robot chain) is on the map but not ranked, so it cannot be a chain leader.
    is_leader_candidate: top 3 by output (size_rank ≤ 3) or top 3 by degree (degree_rank ≤ 3
    with a degree above 0). -#}

with current_enterprise as (
    select enterprise_id, uscc, enterprise_name, city_code, chain_code, chain_link
    from {{ ref('dim_enterprise') }}
    where is_current
),

current_product as (
    select enterprise_id, product_category, chain_link
    from (
        select
            enterprise_id, product_category, chain_link,
            row_number() over (partition by product_id order by period desc) as rn
        from {{ source('silver', 'product') }}
    ) as ranked
    where rn = 1
),

product_link as (
    select
        c.chain_code,
        p.enterprise_id,
        c.link,
        min(c.link_order) as link_order,
        count(*) as product_count
    from current_product as p
    join {{ ref('dim_chain') }} as c
        on c.product_category = p.product_category and c.link = p.chain_link
    group by c.chain_code, p.enterprise_id, c.link
),

product_member as (
    select chain_code, enterprise_id, link, product_count
    from (
        select
            *,
            row_number() over (
                partition by chain_code, enterprise_id
                order by product_count desc, link_order asc
            ) as rn
        from product_link
    ) as ranked
    where rn = 1
),

product_total as (
    select chain_code, enterprise_id, sum(product_count) as product_count
    from product_link
    group by chain_code, enterprise_id
),

members as (
    select chain_code, enterprise_id
    from current_enterprise
    where chain_code is not null
    union
    select chain_code, enterprise_id from product_member
),

latest_month as (
    select max(period) as period from {{ ref('fct_enterprise_month') }}
),

output_12m as (
    select
        f.enterprise_id,
        cast(sum(f.gross_output) as decimal(28, 2)) as gross_output_12m,
        count(*) as output_months
    from {{ ref('fct_enterprise_month') }} as f
    cross join latest_month as l
    where f.period > add_months(l.period, -12) and f.period <= l.period
    group by f.enterprise_id
),

latest_survey as (
    select max(period) as period from {{ ref('fct_supply_edge') }}
),

survey_edge as (
    select e.buyer_enterprise_id, e.supplier_enterprise_id
    from {{ ref('fct_supply_edge') }} as e
    join latest_survey as s
        on s.period = e.period
),

as_supplier as (
    select supplier_enterprise_id as enterprise_id, count(distinct buyer_enterprise_id) as buyer_count
    from survey_edge
    group by supplier_enterprise_id
),

as_buyer as (
    select buyer_enterprise_id as enterprise_id, count(distinct supplier_enterprise_id) as supplier_count
    from survey_edge
    group by buyer_enterprise_id
),

chain_name as (
    {{ chain_names() }}
),

link_order as (
    select distinct chain_code, link, link_order
    from {{ ref('dim_chain') }}
),

nodes as (
    select
        m.chain_code,
        n.chain_name_zh,
        m.enterprise_id,
        e.uscc,
        e.enterprise_name,
        e.city_code,
        coalesce(pm.link, e.chain_link) as link,
        case
            when e.chain_code = m.chain_code and pm.enterprise_id is not null then '行业+产品'
            when e.chain_code = m.chain_code then '行业'
            else '产品'
        end as membership_basis,
        cast(coalesce(pt.product_count, 0) as int) as chain_product_count,
        o.gross_output_12m,
        cast(coalesce(o.output_months, 0) as int) as output_months,
        cast(coalesce(s.buyer_count, 0) as int) as buyer_count,
        cast(coalesce(b.supplier_count, 0) as int) as supplier_count,
        cast(coalesce(s.buyer_count, 0) + coalesce(b.supplier_count, 0) as int) as network_degree
    from members as m
    join current_enterprise as e
        on e.enterprise_id = m.enterprise_id
    join chain_name as n
        on n.chain_code = m.chain_code
    left join product_member as pm
        on pm.chain_code = m.chain_code and pm.enterprise_id = m.enterprise_id
    left join product_total as pt
        on pt.chain_code = m.chain_code and pt.enterprise_id = m.enterprise_id
    left join output_12m as o
        on o.enterprise_id = m.enterprise_id
    left join as_supplier as s
        on s.enterprise_id = m.enterprise_id
    left join as_buyer as b
        on b.enterprise_id = m.enterprise_id
),

core as (
    select *
    from nodes
    where membership_basis <> '产品'
),

size_ranks as (
    select
        chain_code, enterprise_id,
        row_number() over (
            partition by chain_code
            order by gross_output_12m desc, network_degree desc, enterprise_id asc
        ) as size_rank
    from core
    where gross_output_12m is not null
),

degree_ranks as (
    select
        chain_code, enterprise_id,
        row_number() over (
            partition by chain_code
            order by network_degree desc, gross_output_12m desc nulls last, enterprise_id asc
        ) as degree_rank
    from core
),

ranked as (
    select
        n.*,
        s.size_rank,
        d.degree_rank
    from nodes as n
    left join size_ranks as s
        on s.chain_code = n.chain_code and s.enterprise_id = n.enterprise_id
    left join degree_ranks as d
        on d.chain_code = n.chain_code and d.enterprise_id = n.enterprise_id
)

select
    r.chain_code,
    r.chain_name_zh,
    r.enterprise_id,
    r.uscc,
    r.enterprise_name,
    r.city_code,
    r.link,
    cast(lo.link_order as int) as link_order,
    r.membership_basis,
    r.chain_product_count,
    lm.period as output_window_end,
    r.gross_output_12m,
    r.output_months,
    cast(r.size_rank as int) as size_rank,
    ls.period as survey_period,
    r.buyer_count,
    r.supplier_count,
    r.network_degree,
    cast(r.degree_rank as int) as degree_rank,
    coalesce(r.size_rank <= 3 or (r.degree_rank <= 3 and r.network_degree > 0), false) as is_leader_candidate
from ranked as r
left join link_order as lo
    on lo.chain_code = r.chain_code and lo.link = r.link
cross join latest_month as lm
cross join latest_survey as ls
