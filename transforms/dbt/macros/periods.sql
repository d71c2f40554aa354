{#-
  The months a run (re)builds, from the `periods` var: a list ["2024-03", …] or a comma
  separated string "2024-01,2024-02". None means every month.
-#}
{% macro selected_periods() -%}
    {%- set raw = var('periods', none) -%}
    {%- if raw is none or raw == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set items = raw.split(',') if raw is string else raw -%}
    {%- set months = [] -%}
    {%- for item in items -%}
        {%- set month = (item | string | trim)[:7] -%}
        {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}$', month) -%}
            {{ exceptions.raise_compiler_error("var periods: '" ~ item ~ "' is not a YYYY-MM month") }}
        {%- endif -%}
        {%- do months.append(month) -%}
    {%- endfor -%}
    {{ return(months | unique | sort | list) }}
{%- endmacro %}

{#- SQL list of DATE literals (first of month) for the selected periods. -#}
{% macro period_dates_sql(months) -%}
    {%- for m in months -%}DATE '{{ m }}-01'{{ ", " if not loop.last }}{%- endfor -%}
{%- endmacro %}

{#- A WHERE predicate restricting `column` (a month date) to the selected periods. -#}
{% macro period_filter(column) -%}
    {%- set months = selected_periods() -%}
    {%- if months is none -%}
        true
    {%- else -%}
        {{ column }} IN ({{ period_dates_sql(months) }})
    {%- endif -%}
{%- endmacro %}
