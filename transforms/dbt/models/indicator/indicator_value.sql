{{ config(
    materialized='incremental', partition_by=['period'], tags=['monthly'],
    unique_key=['indicator_code', 'region_code', 'chain_code'],
) }}
{#- 指标库: every indicator of seeds/indicator_definition.csv per region × chain × month, from the
    gold facts. Regions: each city and the province (all its cities); chains: each pilot chain and
    'all' (every enterprise, in a chain or not). Growth rates need other months, so the cell
    aggregates cover every month and only the final select keeps the run's months. Cells with few
    enterprises are kept (not suppressed): the table is graded 重要, see its contract. -#}

with enterprise as (
    -- current city and chain of each enterprise: where device, order, subsidy and supply facts count
    select enterprise_id, city_code, chain_code
    from {{ ref('dim_enterprise') }}
    where is_current
),

-- 1. Monthly statistics of the above-scale enterprises (the fact's own city and chain that month)
enterprise_month as (
    select
        enterprise_id, city_code, chain_code, period, gross_output, revenue, total_profit,
        avg_employees, energy_consumption,
        -- 链主: top 3 of its chain by output that month
        chain_code is not null and gross_output is not null
        and row_number() over (
            partition by chain_code, period
            order by gross_output desc nulls last, enterprise_id asc
        ) <= 3 as is_chain_leader
    from {{ ref('fct_enterprise_month') }}
),

enterprise_cell as (
    select
        cell_region.region_code,
        cell_chain.chain_code,
        m.period,
        cast(count(distinct m.enterprise_id) as bigint) as enterprise_count,
        cast(sum(m.gross_output) as decimal(28, 2)) as gross_output,
        cast(sum(m.revenue) as decimal(28, 2)) as revenue,
        cast(sum(m.total_profit) as decimal(28, 2)) as total_profit,
        cast(sum(m.avg_employees) as bigint) as employees,
        cast(sum(m.energy_consumption) as decimal(28, 2)) as energy_consumption,
        cast(count(distinct case when m.total_profit < 0 then m.enterprise_id end) as bigint)
            as loss_enterprises,
        cast(count(distinct case when m.is_chain_leader then m.enterprise_id end) as bigint) as chain_leaders,
        cast(count(distinct case when m.chain_code is not null then m.enterprise_id end) as bigint)
            as chain_enterprises
    from enterprise_month as m
        {{ indicator_cells('m.city_code', 'm.chain_code') }}
    group by cell_region.region_code, cell_chain.chain_code, m.period
),

enterprise_growth as (
    select
        c.*,
        prev_month.gross_output as gross_output_prev_month,
        prev_year.gross_output as gross_output_prev_year,
        prev_year.revenue as revenue_prev_year
    from enterprise_cell as c
    left join enterprise_cell as prev_month
        on prev_month.region_code = c.region_code and prev_month.chain_code = c.chain_code
            and prev_month.period = add_months(c.period, -1)
    left join enterprise_cell as prev_year
        on prev_year.region_code = c.region_code and prev_year.chain_code = c.chain_code
            and prev_year.period = add_months(c.period, -12)
),

-- 2. Connected devices (fct_device_day), counted at their owner's city and chain
device_cell as (
    select
        cell_region.region_code,
        cell_chain.chain_code,
        d.period,
        cast(count(distinct d.enterprise_id) as bigint) as enterprise_count,
        cast(sum(d.run_minutes) as bigint) as run_minutes,
        cast(sum(
            coalesce(d.run_minutes, 0) + coalesce(d.idle_minutes, 0) + coalesce(d.fault_minutes, 0)
            + coalesce(d.offline_minutes, 0)
        ) as bigint) as state_minutes,
        cast(sum(d.parts_produced) as bigint) as parts_produced,
        cast(sum(cast(d.energy_kwh as decimal(18, 3))) as decimal(28, 3)) as energy_kwh
    from {{ ref('fct_device_day') }} as d
    join enterprise as e
        on e.enterprise_id = d.enterprise_id
        {{ indicator_cells('e.city_code', 'e.chain_code') }}
    group by cell_region.region_code, cell_chain.chain_code, d.period
),

-- devices known by the end of each month with telemetry (first report ≤ month end), and whether
-- they reported that month
device_reporting as (
    select distinct device_id, period
    from {{ ref('fct_device_day') }}
),

reporting_month as (
    select distinct period from device_reporting
),

device_known_cell as (
    select
        cell_region.region_code,
        cell_chain.chain_code,
        m.period,
        cast(count(distinct dv.enterprise_id) as bigint) as enterprise_count,
        cast(count(distinct dv.device_id) as bigint) as devices_known,
        cast(count(distinct r.device_id) as bigint) as devices_reporting
    from {{ ref('dim_device') }} as dv
    join reporting_month as m
        on dv.first_seen_at < cast(add_months(m.period, 1) as timestamp)
    join enterprise as e
        on e.enterprise_id = dv.enterprise_id
    left join device_reporting as r
        on r.device_id = dv.device_id and r.period = m.period
        {{ indicator_cells('e.city_code', 'e.chain_code') }}
    group by cell_region.region_code, cell_chain.chain_code, m.period
),

-- 3. Orders (fct_order), counted at the supplier (the enterprise that has to deliver)
order_cell as (
    select
        cell_region.region_code,
        cell_chain.chain_code,
        o.period,
        cast(count(distinct o.supplier_enterprise_id) as bigint) as enterprise_count,
        cast(coalesce(sum(case when o.order_status <> '已取消' then o.amount end), 0) as decimal(28, 2))
            as order_amount,
        cast(count_if(o.order_status <> '已取消') as bigint) as order_count,
        cast(count_if(o.is_open) as bigint) as open_orders
    from {{ ref('fct_order') }} as o
    join enterprise as e
        on e.enterprise_id = o.supplier_enterprise_id
        {{ indicator_cells('e.city_code', 'e.chain_code') }}
    group by cell_region.region_code, cell_chain.chain_code, o.period
),

-- 4. Policy awards (fct_subsidy)
subsidy_cell as (
    select
        cell_region.region_code,
        cell_chain.chain_code,
        s.period,
        cast(count(distinct s.enterprise_id) as bigint) as enterprise_count,
        cast(sum(s.amount) as decimal(28, 2)) as subsidy_amount
    from {{ ref('fct_subsidy') }} as s
    join enterprise as e
        on e.enterprise_id = s.enterprise_id
        {{ indicator_cells('e.city_code', 'e.chain_code') }}
    group by cell_region.region_code, cell_chain.chain_code, s.period
),

-- 5. Supply relations (fct_supply_edge, survey months): HHI of supplier shares per buyer-material
supplier_share as (
    select
        buyer_enterprise_id,
        material,
        period,
        buyer_material_suppliers,
        cast(share_of_buyer_material as decimal(10, 4)) as share
    from {{ ref('fct_supply_edge') }}
),

buyer_material as (
    select
        buyer_enterprise_id,
        material,
        period,
        cast(sum(share * share) * 10000 as decimal(20, 4)) as hhi,
        max(buyer_material_suppliers) as suppliers
    from supplier_share
    group by buyer_enterprise_id, material, period
),

supply_cell as (
    select
        cell_region.region_code,
        cell_chain.chain_code,
        b.period,
        cast(count(distinct b.buyer_enterprise_id) as bigint) as enterprise_count,
        cast(count(*) as bigint) as buyer_materials,
        cast(sum(b.hhi) as decimal(28, 4)) as hhi_total,
        cast(count_if(b.suppliers = 1) as bigint) as single_source
    from buyer_material as b
    join enterprise as e
        on e.enterprise_id = b.buyer_enterprise_id
        {{ indicator_cells('e.city_code', 'e.chain_code') }}
    group by cell_region.region_code, cell_chain.chain_code, b.period
),

{%- set indicators = [
    {'code': 'IND_OUTPUT', 'relation': 'enterprise_growth', 'measure': indicator_amount('gross_output')},
    {'code': 'IND_OUTPUT_MOM', 'relation': 'enterprise_growth',
     'measure': indicator_growth('gross_output', 'gross_output_prev_month')},
    {'code': 'IND_OUTPUT_YOY', 'relation': 'enterprise_growth',
     'measure': indicator_growth('gross_output', 'gross_output_prev_year')},
    {'code': 'IND_REVENUE', 'relation': 'enterprise_growth', 'measure': indicator_amount('revenue')},
    {'code': 'IND_REVENUE_YOY', 'relation': 'enterprise_growth',
     'measure': indicator_growth('revenue', 'revenue_prev_year')},
    {'code': 'IND_PROFIT', 'relation': 'enterprise_growth', 'measure': indicator_amount('total_profit')},
    {'code': 'IND_PROFIT_MARGIN', 'relation': 'enterprise_growth',
     'measure': indicator_ratio('total_profit', 'revenue', 100, 2)},
    {'code': 'IND_EMPLOYEES', 'relation': 'enterprise_growth', 'measure': indicator_amount('employees')},
    {'code': 'IND_LABOUR_PRODUCTIVITY', 'relation': 'enterprise_growth',
     'measure': indicator_ratio('gross_output', 'employees', 1, 4)},
    {'code': 'IND_ENERGY', 'relation': 'enterprise_growth', 'measure': indicator_amount('energy_consumption')},
    {'code': 'IND_ENERGY_INTENSITY', 'relation': 'enterprise_growth',
     'measure': indicator_ratio('energy_consumption', 'gross_output', 1, 4)},
    {'code': 'IND_ENTERPRISE_COUNT', 'relation': 'enterprise_growth', 'measure': indicator_amount('enterprise_count')},
    {'code': 'IND_LOSS_ENTERPRISES', 'relation': 'enterprise_growth', 'measure': indicator_amount('loss_enterprises')},
    {'code': 'IND_LOSS_RATIO', 'relation': 'enterprise_growth',
     'measure': indicator_ratio('loss_enterprises', 'enterprise_count', 100, 2)},
    {'code': 'IND_CHAIN_LEADERS', 'relation': 'enterprise_growth', 'measure': indicator_amount('chain_leaders'),
     'enterprises': 'chain_enterprises', 'where': 'chain_enterprises > 0'},
    {'code': 'IND_DEVICE_UTILISATION', 'relation': 'device_cell',
     'measure': indicator_ratio('run_minutes', 'state_minutes', 100, 2)},
    {'code': 'IND_PARTS_PRODUCED', 'relation': 'device_cell', 'measure': indicator_amount('parts_produced')},
    {'code': 'IND_DEVICE_ENERGY', 'relation': 'device_cell', 'measure': indicator_amount('energy_kwh')},
    {'code': 'IND_DEVICE_ONLINE', 'relation': 'device_known_cell', 'measure': indicator_amount('devices_reporting')},
    {'code': 'IND_DEVICE_ONLINE_RATE', 'relation': 'device_known_cell',
     'measure': indicator_ratio('devices_reporting', 'devices_known', 100, 2)},
    {'code': 'IND_ORDER_AMOUNT', 'relation': 'order_cell', 'measure': indicator_amount('order_amount')},
    {'code': 'IND_ORDER_COUNT', 'relation': 'order_cell', 'measure': indicator_amount('order_count')},
    {'code': 'IND_OPEN_ORDERS', 'relation': 'order_cell', 'measure': indicator_amount('open_orders')},
    {'code': 'IND_SUBSIDY_AMOUNT', 'relation': 'subsidy_cell', 'measure': indicator_amount('subsidy_amount')},
    {'code': 'IND_SUPPLY_HHI', 'relation': 'supply_cell',
     'measure': indicator_ratio('hhi_total', 'buyer_materials', 1, 2)},
    {'code': 'IND_SINGLE_SOURCE_RATIO', 'relation': 'supply_cell',
     'measure': indicator_ratio('single_source', 'buyer_materials', 100, 2)},
] %}

indicator_rows as (
    {{ indicator_union(indicators) }}
)

select
    indicator_code,
    region_code,
    chain_code,
    period,
    value,
    numerator,
    denominator,
    enterprise_count
from indicator_rows
where {{ period_filter('period') }}
    and region_code is not null
    and value is not null
