{{ config(tags=['snapshot']) }}
{#- 企业画像 (一企一档): one wide row per current enterprise of gold.dim_enterprise with its latest
    monthly report, trailing-12-month output, devices, subsidies, products, supply relations and
    data-quality flags. Windows: the latest month is the enterprise's own latest report; the
    device window is the 30 days ending on the latest reading date in gold.fct_device_day; the
    supply relations are those of the latest survey in gold.fct_supply_edge. -#}

with ent as (
    select *
    from {{ ref('dim_enterprise') }}
    where is_current
),

months as (
    select
        enterprise_id, period, gross_output, revenue, total_profit, avg_employees, energy_consumption,
        row_number() over (partition by enterprise_id order by period desc) as recency
    from {{ ref('fct_enterprise_month') }}
),

latest as (
    select
        l.enterprise_id,
        l.period as latest_period,
        l.gross_output,
        l.revenue,
        l.total_profit,
        l.avg_employees,
        l.energy_consumption,
        y.gross_output as gross_output_year_ago
    from months as l
    left join months as y
        on y.enterprise_id = l.enterprise_id and y.period = add_months(l.period, -12)
    where l.recency = 1
),

trailing_12m as (
    select
        l.enterprise_id,
        cast(count(*) as int) as trailing_12m_months,
        cast(sum(m.gross_output) as decimal(28, 2)) as trailing_12m_gross_output
    from latest as l
    join months as m
        on m.enterprise_id = l.enterprise_id
            and m.period > add_months(l.latest_period, -12) and m.period <= l.latest_period
    group by l.enterprise_id
),

device_window as (
    select date_sub(max(reading_date), 29) as window_start, max(reading_date) as window_end
    from {{ ref('fct_device_day') }}
),

device_days as (
    select d.device_id, d.utilisation_pct
    from {{ ref('fct_device_day') }} as d
    cross join device_window as w
    where d.reading_date between w.window_start and w.window_end
),

devices as (
    select
        dv.enterprise_id,
        cast(count(distinct dv.device_id) as int) as device_count,
        cast(count(distinct dd.device_id) as int) as connected_device_count,
        cast(round(avg(dd.utilisation_pct), 2) as double) as avg_utilisation_pct_30d
    from {{ ref('dim_device') }} as dv
    left join device_days as dd
        on dd.device_id = dv.device_id
    group by dv.enterprise_id
),

subsidies as (
    select
        enterprise_id,
        cast(count(*) as int) as subsidy_count,
        cast(sum(amount) as decimal(28, 2)) as subsidy_amount
    from {{ ref('fct_subsidy') }}
    group by enterprise_id
),

products as (
    select enterprise_id, cast(count(*) as int) as product_count
    from (
        select
            enterprise_id,
            row_number() over (partition by product_id order by period desc) as recency
        from {{ source('silver', 'product') }}
    ) as ranked
    where recency = 1
    group by enterprise_id
),

latest_survey_period as (
    select max(period) as period from {{ ref('fct_supply_edge') }}
),

latest_survey as (
    select e.buyer_enterprise_id, e.supplier_enterprise_id
    from {{ ref('fct_supply_edge') }} as e
    join latest_survey_period as s
        on s.period = e.period
),

suppliers as (
    select
        buyer_enterprise_id as enterprise_id,
        cast(count(distinct supplier_enterprise_id) as int) as supplier_count
    from latest_survey
    group by buyer_enterprise_id
),

buyers as (
    select
        supplier_enterprise_id as enterprise_id,
        cast(count(distinct buyer_enterprise_id) as int) as buyer_count
    from latest_survey
    group by supplier_enterprise_id
),

flags as (
    select enterprise_id, cast(count(*) as int) as dq_flagged_rows
    from {{ source('silver', 'enterprise_month_stats') }}
    where dq_flags is not null and dq_flags <> ''
    group by enterprise_id
),

cities as (
    {{ current_region_names() }}
)

select
    e.enterprise_id,
    e.uscc,
    e.enterprise_name,
    e.region_code,
    e.city_code,
    r.city_name,
    e.industry_code,
    i.industry_name,
    e.chain_code,
    e.chain_name_zh,
    e.chain_link,
    e.reg_status,
    l.latest_period,
    cast(l.gross_output as decimal(18, 2)) as latest_gross_output,
    cast(l.revenue as decimal(18, 2)) as latest_revenue,
    cast(l.total_profit as decimal(18, 2)) as latest_total_profit,
    cast(l.avg_employees as int) as latest_avg_employees,
    cast(l.energy_consumption as decimal(18, 2)) as latest_energy_consumption,
    {{ growth_pct('l.gross_output', 'l.gross_output_year_ago') }} as latest_gross_output_yoy_pct,
    t.trailing_12m_gross_output,
    coalesce(t.trailing_12m_months, 0) as trailing_12m_months,
    coalesce(dv.device_count, 0) as device_count,
    coalesce(dv.connected_device_count, 0) as connected_device_count,
    dv.avg_utilisation_pct_30d,
    coalesce(s.subsidy_count, 0) as subsidy_count,
    cast(coalesce(s.subsidy_amount, 0) as decimal(28, 2)) as subsidy_amount,
    coalesce(p.product_count, 0) as product_count,
    coalesce(sp.supplier_count, 0) as supplier_count,
    coalesce(b.buyer_count, 0) as buyer_count,
    coalesce(f.dq_flagged_rows, 0) as dq_flagged_rows,
    e.is_inferred
from ent as e
left join cities as r
    on r.region_code = e.city_code
left join {{ ref('dim_industry') }} as i
    on i.industry_code = e.industry_code
left join latest as l
    on l.enterprise_id = e.enterprise_id
left join trailing_12m as t
    on t.enterprise_id = e.enterprise_id
left join devices as dv
    on dv.enterprise_id = e.enterprise_id
left join subsidies as s
    on s.enterprise_id = e.enterprise_id
left join products as p
    on p.enterprise_id = e.enterprise_id
left join suppliers as sp
    on sp.enterprise_id = e.enterprise_id
left join buyers as b
    on b.enterprise_id = e.enterprise_id
left join flags as f
    on f.enterprise_id = e.enterprise_id
