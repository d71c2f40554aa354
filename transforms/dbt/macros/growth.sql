{#- Growth in percent of `current` over `previous`; NULL when there is no base to compare with. -#}
{% macro growth_pct(current, previous) -%}
    cast(case when {{ previous }} is null or {{ previous }} = 0 or {{ current }} is null then null
              else round(({{ current }} / {{ previous }} - 1) * 100, 2) end as double)
{%- endmacro %}
