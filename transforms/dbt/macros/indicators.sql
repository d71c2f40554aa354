{#-
  Building blocks of the indicator library (指标库, models/indicator/). An indicator row is
  `value, numerator, denominator` for one indicator × region × chain × month; the definitions
  (formula, unit, direction …) live in seeds/indicator_definition.csv.

  Aggregates are summed in exact types (decimal / bigint) and only then turned into doubles, so a
  re-run yields bit-identical values and the replace_period MERGE commits nothing new.
-#}

{#- Each row of a relation counted in its four cells: (city, chain), (city, 'all'),
    (province, chain), (province, 'all'). The province is derived from the city code (GB/T 2260:
    first two digits + '0000'); a row without a chain only goes to 'all'. Exposes
    cell_region.region_code and cell_chain.chain_code; append after the FROM / JOIN clauses. -#}
{% macro indicator_cells(city_code, chain_code) -%}
    lateral view explode(array({{ city_code }}, concat(substr({{ city_code }}, 1, 2), '0000'))) cell_region as region_code
    lateral view explode(array_distinct(array(coalesce({{ chain_code }}, 'all'), 'all'))) cell_chain as chain_code
{%- endmacro %}


{#- An amount or count: value only; numerator and denominator stay NULL. -#}
{% macro indicator_amount(expression) -%}
    cast({{ expression }} as double) as value,
    cast(null as double) as numerator,
    cast(null as double) as denominator
{%- endmacro %}


{#- A ratio X = A / B (× scale), rounded; NULL when B is missing or 0. Keeps A and B. -#}
{% macro indicator_ratio(numerator, denominator, scale=1, digits=4) -%}
    cast(case when {{ denominator }} is null or {{ denominator }} = 0 or {{ numerator }} is null then null
              else round(cast({{ numerator }} as double) / cast({{ denominator }} as double) * {{ scale }}, {{ digits }})
         end as double) as value,
    cast({{ numerator }} as double) as numerator,
    cast({{ denominator }} as double) as denominator
{%- endmacro %}


{#- A growth rate X = (A / B - 1) × 100 (growth_pct): A the current, B the base period's value. -#}
{% macro indicator_growth(current, previous) -%}
    {{ growth_pct(current, previous) }} as value,
    cast({{ current }} as double) as numerator,
    cast({{ previous }} as double) as denominator
{%- endmacro %}


{#- UNION ALL of one select per indicator. `indicators`: a list of dicts with
      code      the indicator_code (a row of seeds/indicator_definition.csv),
      relation  the CTE holding the cell aggregates (region_code, chain_code, period, …),
      measure   indicator_amount / indicator_ratio / indicator_growth of its columns,
      enterprises  the column counting the contributing enterprises (default enterprise_count),
      where     an optional condition on the cell. -#}
{% macro indicator_union(indicators) -%}
    {%- for ind in indicators %}
    select
        '{{ ind.code }}' as indicator_code,
        region_code,
        chain_code,
        period,
        {{ ind.measure }},
        cast({{ ind.get('enterprises', 'enterprise_count') }} as bigint) as enterprise_count
    from {{ ind.relation }}
    {%- if ind.get('where') %}
    where {{ ind.where }}
    {%- endif %}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
