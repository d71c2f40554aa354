{{ config(tags=['snapshot']) }}
{#- To 工业互联网公共服务平台: the chain map (snapshot) per chain and link — products and node
    counts, the 一般 columns of topic.chain_map_link — with its period: the month it was built for,
    the end of the chain map's output window (the latest month of topic.chain_map_node). -#}

with built_for as (
    select max(output_window_end) as period from {{ ref('chain_map_node') }}
)

select
    l.chain_code,
    l.chain_name_zh,
    l.link,
    l.link_order,
    l.product_categories,
    l.node_count,
    l.reporting_enterprise_count,
    b.period
from {{ ref('chain_map_link') }} as l
cross join built_for as b
where b.period is not null
