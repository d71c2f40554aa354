{#- Every non-null value of the column lies within [min, max] (bounds optional, inclusive). -#}
{% test value_between(model, column_name, min=none, max=none) %}
    {%- set outside = [] %}
    {%- if min is not none %}{% do outside.append(column_name ~ ' < ' ~ min) %}{% endif %}
    {%- if max is not none %}{% do outside.append(column_name ~ ' > ' ~ max) %}{% endif -%}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null and ({{ outside | join(' or ') }})
{% endtest %}
