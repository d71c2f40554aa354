{#- The monthly totals of one pilot chain's enterprises (gold.fct_enterprise_month.chain_code), as
    a CTE body: period (and city_code when by_city), enterprise_count, gross_output, revenue,
    total_profit, employees, energy_consumption. Amounts are summed as decimal(28, 2) (exact, so a
    re-run gives identical values). The chain topics (magnesite, robotics, biomedicine, fine
    chemicals) start from it. -#}
{% macro chain_month_totals(chain_code, by_city=false) -%}
    select
        {% if by_city -%} city_code, {%- endif %}
        period,
        count(distinct enterprise_id) as enterprise_count,
        cast(sum(gross_output) as decimal(28, 2)) as gross_output,
        cast(sum(revenue) as decimal(28, 2)) as revenue,
        cast(sum(total_profit) as decimal(28, 2)) as total_profit,
        cast(sum(avg_employees) as bigint) as employees,
        cast(sum(energy_consumption) as decimal(28, 2)) as energy_consumption
    from {{ ref('fct_enterprise_month') }}
    where chain_code = '{{ chain_code }}'
    group by {% if by_city -%} city_code, {% endif -%} period
{%- endmacro %}
