{{ config(tags=['snapshot']) }}
{#- 惠企政策: every award (gold.fct_subsidy) next to the enterprise's average monthly gross output
    over the 3 months before the award month and the 3 months after it (award month itself
    excluded; gold.fct_enterprise_month). An average needs all 3 months of its side, otherwise
    it is null, and so is the change. -#}

with awards as (
    select
        award_id, enterprise_id, policy_code, policy_name, fund_type, department, amount,
        award_date, period as award_period
    from {{ ref('fct_subsidy') }}
),

sides as (
    select
        a.award_id,
        -- a month counts when its output was reported
        cast(count(case when f.period < a.award_period then f.gross_output end) as int) as months_before,
        cast(count(case when f.period > a.award_period then f.gross_output end) as int) as months_after,
        sum(case when f.period < a.award_period then f.gross_output end) as output_before,
        sum(case when f.period > a.award_period then f.gross_output end) as output_after
    from awards as a
    join {{ ref('fct_enterprise_month') }} as f
        on f.enterprise_id = a.enterprise_id
            and f.period between add_months(a.award_period, -3) and add_months(a.award_period, 3)
            and f.period <> a.award_period
    group by a.award_id
),

effect as (
    select
        award_id,
        months_before,
        months_after,
        cast(case when months_before = 3 then round(output_before / 3, 2) end as decimal(28, 2))
            as avg_gross_output_before,
        cast(case when months_after = 3 then round(output_after / 3, 2) end as decimal(28, 2))
            as avg_gross_output_after
    from sides
),

ent as (
    select enterprise_id, uscc, enterprise_name, city_code, chain_code
    from {{ ref('dim_enterprise') }}
    where is_current
)

select
    a.award_id,
    a.enterprise_id,
    e.uscc,
    e.enterprise_name,
    e.city_code,
    e.chain_code,
    a.policy_code,
    a.policy_name,
    a.fund_type,
    a.department,
    cast(a.amount as decimal(18, 2)) as amount,
    a.award_date,
    a.award_period,
    coalesce(x.months_before, 0) as months_before,
    coalesce(x.months_after, 0) as months_after,
    x.avg_gross_output_before,
    x.avg_gross_output_after,
    {{ growth_pct('x.avg_gross_output_after', 'x.avg_gross_output_before') }} as gross_output_change_pct
from awards as a
left join effect as x
    on x.award_id = a.award_id
left join ent as e
    on e.enterprise_id = a.enterprise_id
