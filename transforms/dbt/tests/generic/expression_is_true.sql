{#- A business rule that must hold on every row: the rows where `expression` is false fail. -#}
{% test expression_is_true(model, expression, where='true') %}
select *
from {{ model }}
where ({{ where }}) and not coalesce(({{ expression }}), false)
{% endtest %}
