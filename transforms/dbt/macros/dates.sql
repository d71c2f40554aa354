{#-
  ISO day of week (1 = Monday … 7 = Sunday).

  Built on dayofweek (1 = Sunday … 7 = Saturday), which Sail and Apache Spark agree on: Sail's
  weekday() returns -1 for Sunday where Spark returns 6 (verified, docs/engine-notes.md).
-#}
{% macro iso_day_of_week(day) -%}
    ((dayofweek({{ day }}) + 5) % 7 + 1)
{%- endmacro %}
