{#-
  Cross-table consistency (一致性): per group, sum(column) of this model equals sum(field) of
  `to` within `tolerance`. E.g. a theme's city totals against the gold fact they aggregate.
-#}
{% test sum_matches(model, column, to, field, group_by, tolerance=0.01, to_where='true') %}
with here as (
    select {{ group_by | join(', ') }}, sum({{ column }}) as total
    from {{ model }}
    group by {{ group_by | join(', ') }}
),
there as (
    select {{ group_by | join(', ') }}, sum({{ field }}) as total
    from {{ to }}
    where {{ to_where }}
    group by {{ group_by | join(', ') }}
)
select h.*, t.total as expected
from here as h
full outer join there as t
    on {% for g in group_by %}h.{{ g }} <=> t.{{ g }}{{ " and " if not loop.last }}{% endfor %}
where abs(coalesce(h.total, 0) - coalesce(t.total, 0)) > {{ tolerance }}
{% endtest %}
