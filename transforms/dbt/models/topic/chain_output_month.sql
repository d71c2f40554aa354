{{ config(
    materialized='incremental', partition_by=['period'], tags=['monthly'],
    unique_key=['chain_code'],
) }}
{#- Question: how is each pilot industry chain doing this month? Amounts are published only for
    cells with at least var('min_cell_enterprises') enterprises, which is what lets them be
    graded 一般 and exported (see the contract's downgrade reason). Computed over all months (YoY
    needs the year before), filtered to the run's months at the end. -#}
{%- set min_n = var('min_cell_enterprises') -%}

with chain_fact as (
    select
        c.chain_code,
        c.chain_name_zh,
        f.period,
        f.uscc,
        f.gross_output,
        f.energy_consumption
    from {{ ref('fct_enterprise_month') }} as f
    join {{ source('silver', 'ref_chain_industry') }} as c
        on c.industry_code = f.industry_code
),

chain_month as (
    select
        chain_code,
        max(chain_name_zh) as chain_name_zh,
        period,
        count(distinct uscc) as enterprise_count,
        -- explicit types: Sail mis-types decimal sums after a join otherwise (decimal(38,2) vs (28,2))
        cast(sum(gross_output) as decimal(28, 2)) as gross_output,
        cast(sum(energy_consumption) as decimal(28, 2)) as energy_consumption
    from chain_fact
    group by chain_code, period
),

leaders as (
    select
        chain_code, period, uscc, gross_output,
        row_number() over (partition by chain_code, period order by gross_output desc, uscc asc)
            as rank_in_chain
    from chain_fact
)

select
    m.chain_code,
    m.chain_name_zh,
    m.period,
    cast(m.enterprise_count as bigint) as enterprise_count,
    cast(case when m.enterprise_count >= {{ min_n }} then m.gross_output end as decimal(28, 2))
        as gross_output,
    case
        when m.enterprise_count >= {{ min_n }} and y.enterprise_count >= {{ min_n }}
            then {{ growth_pct('m.gross_output', 'y.gross_output') }}
    end as gross_output_yoy_pct,
    cast(
        case
            when m.enterprise_count >= {{ min_n }} and m.gross_output > 0
                then round(m.energy_consumption / m.gross_output, 4)
        end as double
    ) as energy_intensity,
    l.uscc as leading_enterprise_uscc,
    cast(case when m.gross_output > 0 then round(l.gross_output / m.gross_output, 4) end as double)
        as leading_enterprise_share
from chain_month as m
left join chain_month as y
    on y.chain_code = m.chain_code and y.period = add_months(m.period, -12)
left join leaders as l
    on l.chain_code = m.chain_code and l.period = m.period and l.rank_in_chain = 1
where {{ period_filter('m.period') }}
