{#-
  The columns of a relation on Sail (docs/engine-notes.md): `DESCRIBE TABLE` returns no rows there,
  so dbt-spark's adapter.get_columns_in_relation found no columns, and what relies on it (unit
  tests' fixtures and expected rows, on_schema_change, persist_docs) saw none.

  dbt-spark's get_columns_in_relation (Python) runs this macro and parses its result as the rows
  of `DESCRIBE EXTENDED` (col_name, data_type, comment). Here the names and Spark types come from
  the schema of `select * from <relation> limit 0` (Spark Connect returns the schema of an empty
  result) and are handed back as such rows. A missing relation fails with
  [TABLE_OR_VIEW_NOT_FOUND], which dbt-spark turns into "no columns", as with DESCRIBE.
-#}
{% macro spark__get_columns_in_relation_raw(relation) -%}
  {%- set columns = adapter.get_column_schema_from_query('select * from ' ~ relation ~ ' limit 0') -%}
  {% call statement('get_columns_in_relation_raw', fetch_result=True) %}
    select col_name, data_type, comment
    from values
    {%- for column in columns %}
      ('{{ column.name }}', '{{ column.dtype }}', cast(null as string)){{ ',' if not loop.last }}
    {%- endfor %}
    as describe_rows(col_name, data_type, comment)
  {% endcall %}
  {% do return(load_result('get_columns_in_relation_raw').table) %}
{%- endmacro %}
