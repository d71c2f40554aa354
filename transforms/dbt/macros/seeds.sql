{#-
  Seeds on this engine (docs/architecture.md: the engine): dbt-spark reloads an existing seed with DROP TABLE +
  CREATE TABLE … LOCATION + INSERT. Dropping an external Delta table keeps its files, so the
  CREATE re-attaches the old table and the INSERT appends: every `dbt seed` duplicated the rows.

  Here a seed is synchronised instead: the CSV rows go into a temporary view and one MERGE
  inserts the new rows and deletes the rows that are no longer in the CSV (every column compared,
  null-safe). An unchanged CSV commits no new Delta version; a changed one commits exactly one.
  Without a transactional format (e.g. parquet on Apache Spark) the table is rewritten whole.
  The table is created on the first load only. A CSV whose columns change needs its table folder
  removed first (as for models: `create` onto an existing Delta path keeps the old schema).
-#}

{% macro spark__reset_csv_table(model, full_refresh, old_relation, agate_table) %}
    {#- Keep the table: load_csv_rows below replaces its content atomically. -#}
    {{ return('-- ' ~ old_relation ~ ' exists: its rows are replaced by load_csv_rows') }}
{% endmacro %}


{% macro spark__load_csv_rows(model, agate_table) %}
  {%- set column_override = model['config'].get('column_types', {}) -%}
  {%- set quote_seed_column = model['config'].get('quote_columns', None) -%}
  {%- set columns = [] -%}
  {%- for col_name in agate_table.column_names -%}
    {%- do columns.append(adapter.quote_seed_column(col_name | string, quote_seed_column)) -%}
  {%- endfor -%}
  {%- set staging = this.identifier ~ '__seed_rows' -%}
  {%- set view_sql -%}
    create or replace temporary view {{ staging }} as
    select * from values
    {% for row in agate_table.rows -%}
      ({%- for col_name in agate_table.column_names -%}
        {%- set inferred_type = adapter.convert_type(agate_table, loop.index0) -%}
        cast({{ seed_literal(row[loop.index0]) }} as {{ column_override.get(col_name, inferred_type) }})
        {%- if not loop.last %}, {% endif -%}
      {%- endfor -%}){{ "," if not loop.last }}
    {% endfor -%}
    as seed_rows({{ columns | join(', ') }})
  {%- endset -%}
  {% do adapter.add_query(view_sql, abridge_sql_log=True) %}

  {%- if config.get('file_format') == 'delta' -%}
    {%- set load_sql -%}
      merge into {{ this.render() }} as t
      using {{ staging }} as s
      on {% for c in columns %}t.{{ c }} <=> s.{{ c }}{{ " and " if not loop.last }}{% endfor %}
      when not matched then insert *
      when not matched by source then delete
    {%- endset -%}
  {%- else -%}
    {#- Plain files (e.g. parquet on Apache Spark without Delta): rewrite the whole table. -#}
    {%- set load_sql -%}
      insert overwrite table {{ this.render() }} select {{ columns | join(', ') }} from {{ staging }}
    {%- endset -%}
  {%- endif -%}
  {% do adapter.add_query(load_sql, auto_begin=False) %}

  {{ return(view_sql ~ ';\n' ~ load_sql) }}
{% endmacro %}


{#- A CSV value as a SQL literal (dbt-spark's session bindings neither escape quotes nor keep
    empty cells NULL, so the values are written out here). -#}
{% macro seed_literal(value) -%}
  {%- if value is none -%}
    null
  {%- elif value is sameas true or value is sameas false -%}
    {{ 'true' if value else 'false' }}
  {%- elif value is number -%}
    {{ value }}
  {%- else -%}
    '{{ (value | string).replace('\\', '\\\\').replace("'", "\\'") }}'
  {%- endif -%}
{%- endmacro %}
