{{ config(
    materialized='incremental', partition_by=['period'], tags=['monthly'],
    unique_key=['material', 'spec', 'price_region'],
) }}
{#- Monthly market prices of chain materials, with month-on-month change recomputed from the
    previous month's price next to the change the publisher reported. -#}

with prices as (
    select
        material, spec, price_region, period, price_per_ton, mom_pct, yoy_pct, quote_date,
        lag(price_per_ton) over (partition by material, spec, price_region order by period) as previous_price,
        lag(period) over (partition by material, spec, price_region order by period) as previous_period
    from {{ source('silver', 'price_quote') }}
)

select
    material,
    spec,
    price_region,
    period,
    quote_date,
    price_per_ton,
    mom_pct as mom_pct_reported,
    yoy_pct as yoy_pct_reported,
    case
        when previous_period = add_months(period, -1)
            then {{ growth_pct('price_per_ton', 'previous_price') }}
    end as mom_pct
from prices
where {{ period_filter('period') }}
