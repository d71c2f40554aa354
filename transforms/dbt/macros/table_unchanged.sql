{#-
  Table models that change nothing commit nothing (docs/architecture.md: the engine; README "What
  a no-change run records").

  dbt-spark's `table` materialization runs CREATE OR REPLACE TABLE … AS SELECT on every build, so a
  pipeline run with nothing new gave every dimension and snapshot model a new Delta version with the
  same rows. Here the built-in is wrapped: when the table already exists as Delta, the model's query
  is compared with it first — same columns (names and types, in order) and the same multiset of rows
  (count and a sum of row hashes) — and an equal result skips the write (the model reports
  "unchanged"). Anything else (a new table, other columns, other rows, `--full-refresh`, a Python
  model) is built by dbt-spark's own materialization, as before, so a changed table is written
  exactly as it was.

  Cost: an unchanged model reads its query and its table once each instead of writing the table; a
  changed one runs its query twice (compare, then build).
-#}

{% materialization table, adapter='spark', supported_languages=['sql', 'python'] %}
  {%- set old_relation = adapter.get_relation(database=database, schema=schema, identifier=model['alias']) -%}
  {%- set comparable = (
      model['language'] == 'sql'
      and old_relation is not none
      and config.get('file_format') == 'delta'
      and not should_full_refresh()
  ) -%}
  {%- if comparable and table_content_equals(old_relation, compiled_code) -%}
    {{ run_hooks(pre_hooks) }}
    {%- call noop_statement('main', 'UNCHANGED') -%}
      -- {{ old_relation }} already holds the rows of this query: nothing written
    {%- endcall -%}
    {{ run_hooks(post_hooks) }}
    {{ return({'relations': [old_relation.incorporate(type='table')]}) }}
  {%- endif -%}
  {{ return(dbt.materialization_table_spark()) }}
{% endmaterialization %}


{#- True when `relation` holds exactly the rows `sql` returns: same column names and types in the
    same order, same row count and the same sum of row hashes (two 60-bit parts of a SHA-256 over
    the row's values as text, a marker for null: the scheme of ibrain/fingerprint.py, without its
    rounding or left-out columns). -#}
{% macro table_content_equals(relation, sql) %}
  {%- set new_columns = adapter.get_column_schema_from_query(
      'select * from (\n' ~ sql ~ '\n) as q limit 0') -%}
  {%- set old_columns = adapter.get_column_schema_from_query('select * from ' ~ relation ~ ' limit 0') -%}
  {%- if column_shape(new_columns) != column_shape(old_columns) -%}
    {{ return(false) }}
  {%- endif -%}
  {%- set compare_sql -%}
    select 'new' as side, {{ rows_digest() }} from (select {{ row_hash(new_columns) }} as h from (
{{ sql }}
    ) as new_rows) as hashed
    union all
    select 'old' as side, {{ rows_digest() }}
    from (select {{ row_hash(old_columns) }} as h from {{ relation }}) as hashed
  {%- endset -%}
  {%- set digests = {} -%}
  {%- for row in run_query(compare_sql).rows -%}
    {%- do digests.update({row[0]: [row[1], row[2], row[3]] | map('string') | list}) -%}
  {%- endfor -%}
  {{ return(digests['new'] == digests['old']) }}
{% endmacro %}


{#- ['name type', …] of `columns`, in order. -#}
{% macro column_shape(columns) %}
  {%- set shape = [] -%}
  {%- for column in columns -%}
    {%- do shape.append(column.name ~ ' ' ~ column.dtype) -%}
  {%- endfor -%}
  {{ return(shape) }}
{% endmacro %}


{#- A row's SHA-256 over its values as text (nested values as JSON), null as a marker. -#}
{% macro row_hash(columns) -%}
  sha2(concat_ws(chr(31)
  {%- for column in columns -%}
    , coalesce(
    {%- if column.dtype.startswith(('struct', 'array', 'map')) -%}
      to_json(`{{ column.name }}`)
    {%- else -%}
      cast(`{{ column.name }}` as string)
    {%- endif -%}, chr(0))
  {%- endfor -%}
  ), 256)
{%- endmacro %}


{#- count(*), and the sums of two 60-bit parts of the row hashes `h`: an order-independent digest. -#}
{% macro rows_digest() -%}
  count(*) as n,
  coalesce(sum(cast(conv(substring(h, 1, 15), 16, 10) as decimal(38, 0))), 0) as a,
  coalesce(sum(cast(conv(substring(h, 16, 15), 16, 10) as decimal(38, 0))), 0) as b
{%- endmacro %}
