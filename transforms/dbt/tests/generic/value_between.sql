{#- Every non-null value of the column lies within [min, max] (bounds optional, inclusive). -#}
{% test value_between(model, column_name, min=none, max=none) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
  and (
    {%- if min is not none %} {{ column_name }} < {{ min }}{% endif %}
    {%- if min is not none and max is not none %} or{% endif %}
    {%- if max is not none %} {{ column_name }} > {{ max }}{% endif %}
  )
{% endtest %}
