{{ config(tags=['snapshot']) }}
{#- Question (产业链图谱 环节): how is each pilot chain spread over its links — how many enterprises
    in each of 上游/中游/下游, how much they produce and who the candidate chain leaders are? One
    row per chain and link of gold.dim_chain (a link without enterprises shows 0), summed from
    chain_map_node: node count, enterprises with output in the 12-month window, their gross
    output, and the leader candidates (count and names, by output). Amounts stay 重要 (link
    cells can be small; no suppression). -#}

with links as (
    select
        chain_code,
        max(chain_name_zh) as chain_name_zh,
        link,
        min(link_order) as link_order,
        concat_ws('、', transform(
            sort_array(collect_list(struct(category_order, product_category))),
            x -> x.product_category
        )) as product_categories
    from {{ ref('dim_chain') }}
    group by chain_code, link
),

link_nodes as (
    select
        chain_code,
        link,
        count(*) as node_count,
        count(gross_output_12m) as reporting_enterprise_count,
        cast(sum(gross_output_12m) as decimal(28, 2)) as gross_output_12m,
        count_if(is_leader_candidate) as leader_candidate_count,
        concat_ws('、', transform(
            sort_array(collect_list(
                case
                    when is_leader_candidate
                        then struct(
                                coalesce(size_rank, 999999) as size_rank,
                                coalesce(enterprise_name, enterprise_id) as name
                            )
                end
            )),
            x -> x.name
        )) as leader_candidates
    from {{ ref('chain_map_node') }}
    where link is not null
    group by chain_code, link
)

select
    l.chain_code,
    l.chain_name_zh,
    l.link,
    cast(l.link_order as int) as link_order,
    l.product_categories,
    cast(coalesce(n.node_count, 0) as bigint) as node_count,
    cast(coalesce(n.reporting_enterprise_count, 0) as bigint) as reporting_enterprise_count,
    n.gross_output_12m,
    cast(coalesce(n.leader_candidate_count, 0) as bigint) as leader_candidate_count,
    nullif(n.leader_candidates, '') as leader_candidates
from links as l
left join link_nodes as n
    on n.chain_code = l.chain_code and n.link = l.link
