{#-
  Incremental strategy `replace_period` (docs/architecture.md: the engine, conventions).

  On this engine `insert_overwrite` and `microbatch` switch to dynamic partition overwrite, which
  replaced the WHOLE table in tests, so both are refused here. `replace_period` replaces the run's
  months atomically with one MERGE:

    MERGE INTO t USING src ON <unique_key> AND t.<period> = src.<period>
    WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *
    WHEN NOT MATCHED BY SOURCE AND t.<period> IN (<run months>) THEN DELETE

  so a re-run month also drops rows that vanished upstream, and other months are untouched.
  With no `periods` var the run covers every month and unmatched rows are deleted everywhere.
  Config: unique_key (list), period_column (default 'period').
-#}

{% macro dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) %}
  {% if raw_strategy in ['insert_overwrite', 'microbatch'] %}
    {% do exceptions.raise_compiler_error(
      "incremental_strategy '" ~ raw_strategy ~ "' is banned in this project: on the Spark Connect "
      ~ "engine it replaces the whole table. Use 'replace_period' (see macros/replace_period_strategy.sql).") %}
  {% endif %}
  {% if raw_strategy not in ['append', 'merge', 'replace_period'] %}
    {% do exceptions.raise_compiler_error(
      "Invalid incremental strategy '" ~ raw_strategy ~ "'; expected replace_period, merge or append") %}
  {% endif %}
  {% if raw_strategy in ['merge', 'replace_period'] and file_format not in ['delta', 'iceberg', 'hudi'] %}
    {% do exceptions.raise_compiler_error(
      "incremental_strategy '" ~ raw_strategy ~ "' needs file_format delta (got " ~ file_format ~ ")") %}
  {% endif %}
  {% do return(raw_strategy) %}
{% endmacro %}


{% macro dbt_spark_get_incremental_sql(
    strategy, source, target, existing, unique_key, incremental_predicates
) %}
  {%- if strategy == 'replace_period' -%}
    {{ get_replace_period_sql(source, target, unique_key) }}
  {%- elif strategy == 'append' -%}
    {{ get_insert_into_sql(source, target) }}
  {%- elif strategy == 'merge' -%}
    {{ get_merge_sql(target, source, unique_key, dest_columns=none, incremental_predicates=incremental_predicates) }}
  {%- else -%}
    {% do exceptions.raise_compiler_error("No SQL for incremental strategy " ~ strategy) %}
  {%- endif -%}
{% endmacro %}


{% macro get_replace_period_sql(source, target, unique_key) %}
  {%- set period_column = config.get('period_column', 'period') -%}
  {%- if unique_key is none -%}
    {% do exceptions.raise_compiler_error("replace_period needs a unique_key") %}
  {%- endif -%}
  {%- set keys = [unique_key] if unique_key is string else unique_key -%}
  {%- if period_column not in keys -%}
    {%- set keys = keys + [period_column] -%}
  {%- endif -%}
  {%- set months = selected_periods() -%}
  {#- Update only changed rows: a MERGE that changes nothing commits no new Delta version. -#}
  {%- set compared = [] -%}
  {#- The target's column names from one `limit 0` query (what macros/columns.sql does too). -#}
  {%- for name in run_query('select * from ' ~ target ~ ' limit 0').column_names -%}
    {%- if name not in keys -%}{%- do compared.append(name) -%}{%- endif -%}
  {%- endfor -%}
  merge into {{ target }} as t
  using {{ source }} as s
  on {% for k in keys %}t.{{ k }} <=> s.{{ k }}{{ " and " if not loop.last }}{% endfor %}
  {% if compared -%}
  when matched and not (
    {%- for c in compared %}t.`{{ c }}` <=> s.`{{ c }}`{{ " and " if not loop.last }}{% endfor -%}
  ) then update set *
  {%- else -%}
  when matched then update set *
  {%- endif %}
  when not matched then insert *
  {% if months is none -%}
  when not matched by source then delete
  {%- else -%}
  when not matched by source and t.{{ period_column }} in ({{ period_dates_sql(months) }}) then delete
  {%- endif %}
{% endmacro %}
