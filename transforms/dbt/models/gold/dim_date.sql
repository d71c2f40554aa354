{{ config(tags=['dimension']) }}
{#- Calendar days 2020-01-01 … 2030-12-31 with their month (the `period` of every monthly fact). -#}

with days as (
    select explode(sequence(date '2020-01-01', date '2030-12-31', interval 1 day)) as date_day
)

select
    date_day,
    cast(trunc(date_day, 'MM') as date) as period,
    date_format(date_day, 'yyyy-MM') as year_month,
    year(date_day) as year,
    quarter(date_day) as quarter,
    month(date_day) as month,
    dayofmonth(date_day) as day_of_month,
    {{ iso_day_of_week('date_day') }} as iso_day_of_week,
    {{ iso_day_of_week('date_day') }} >= 6 as is_weekend
from days
