{#- Shared lookups of the warehouse models (one definition, used as CTE bodies). -#}

{#- One row per pilot chain: chain_code, chain_name_zh (from the chain dimension). -#}
{% macro chain_names() -%}
    select chain_code, max(chain_name_zh) as chain_name_zh
    from {{ ref('dim_chain') }}
    group by chain_code
{%- endmacro %}

{#- The current name of every region code: region_code, city_name (named for its main use, the
    city a fact's city_code points to). -#}
{% macro current_region_names() -%}
    select region_code, max(region_name) as city_name
    from {{ ref('dim_region') }}
    where is_current
    group by region_code
{%- endmacro %}
