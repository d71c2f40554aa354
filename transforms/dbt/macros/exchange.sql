{#- The enterprise-month facts at the atoms of disclosure control (city × GB/T 4754 division ×
    chain, 'none' outside the pilot chains; the same keys as theme.economic_operation_month). -#}
{% macro exchange_economic_facts() -%}
    select
        f.city_code,
        coalesce(i.division_code, 'unknown') as division_code,
        coalesce(f.chain_code, 'none') as chain_code,
        f.period,
        f.enterprise_id,
        f.gross_output,
        f.revenue,
        f.total_profit,
        f.avg_employees,
        f.energy_consumption
    from {{ ref('fct_enterprise_month') }} as f
    left join {{ ref('dim_industry') }} as i
        on i.industry_code = f.industry_code
{%- endmacro %}

{#- One row per `keys` × period: enterprise count, the largest enterprise's share of the gross
    output (null when the output is not positive) and the summed amounts. -#}
{% macro exchange_economic_cells(keys) -%}
    select
        {% for k in keys %}{{ k }}, {% endfor %}period,
        enterprise_count,
        -- in double: Sail compares a decimal sum with a literal in mismatched precisions
        cast(case when cast(gross_output as double) > 0
            then round(cast(largest_output as double) / cast(gross_output as double), 4) end as double)
            as largest_share,
        gross_output,
        revenue,
        total_profit,
        avg_employees,
        energy_consumption
    from (
        select
            {% for k in keys %}{{ k }}, {% endfor %}period,
            cast(count(distinct enterprise_id) as bigint) as enterprise_count,
            cast(max(gross_output) as decimal(28, 2)) as largest_output,
            cast(sum(gross_output) as decimal(28, 2)) as gross_output,
            cast(sum(revenue) as decimal(28, 2)) as revenue,
            cast(sum(total_profit) as decimal(28, 2)) as total_profit,
            cast(sum(avg_employees) as bigint) as avg_employees,
            cast(sum(energy_consumption) as decimal(28, 2)) as energy_consumption
        from ({{ exchange_economic_facts() }}) as fact
        group by {% for k in keys %}{{ k }}, {% endfor %}period
    ) as summed
{%- endmacro %}
