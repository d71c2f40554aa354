{{ config(
    materialized='incremental', partition_by=['period'], tags=['monthly'],
    unique_key=['period'],
) }}
{#- Question (工业机器人 产用协同): how much does the industrial-robot chain produce, and how many
    robots are deployed and working in the province's enterprises? One row per month: output and
    enterprise count of the industrial_robots chain (gold.fct_enterprise_month.chain_code); the
    robots deployed (gold.dim_device, device_kind 'robot', that reported in the month in
    gold.fct_device_day — whoever owns them), how many enterprises own them, their utilisation
    (run minutes over the device-days' minutes) and parts produced; robots per chain enterprise
    = deployed robots / chain enterprise count. Output is published only when at least
    var('min_cell_enterprises') enterprises report (otherwise null), which is what lets it be
    graded 一般. Computed over all months, filtered to the run's months at the end. -#}
{%- set min_n = var('min_cell_enterprises') -%}

with chain_month as (
    {{ chain_month_totals('industrial_robots') }}
),

robot_month as (
    select
        d.period,
        count(distinct d.device_id) as deployed_robot_count,
        count(distinct d.enterprise_id) as robot_owner_count,
        cast(round(sum(d.run_minutes) / (count(*) * 1440.0) * 100, 2) as double) as avg_utilisation_pct,
        cast(sum(d.parts_produced) as bigint) as parts_produced
    from {{ ref('fct_device_day') }} as d
    join {{ ref('dim_device') }} as r
        on r.device_id = d.device_id and r.device_kind = 'robot'
    group by d.period
),

months as (
    select period from chain_month
    union
    select period from robot_month
)

select
    m.period,
    cast(coalesce(c.enterprise_count, 0) as bigint) as enterprise_count,
    cast(case when c.enterprise_count >= {{ min_n }} then c.gross_output end as decimal(28, 2))
        as gross_output,
    case
        when c.enterprise_count >= {{ min_n }} and prev.enterprise_count >= {{ min_n }}
            then {{ growth_pct('c.gross_output', 'prev.gross_output') }}
    end as gross_output_mom_pct,
    cast(coalesce(r.deployed_robot_count, 0) as bigint) as deployed_robot_count,
    cast(coalesce(r.robot_owner_count, 0) as bigint) as robot_owner_count,
    r.avg_utilisation_pct,
    r.parts_produced,
    cast(
        case
            when c.enterprise_count > 0
                then round(coalesce(r.deployed_robot_count, 0) / c.enterprise_count, 4)
        end as double
    ) as robots_per_chain_enterprise
from months as m
left join chain_month as c
    on c.period = m.period
left join chain_month as prev
    on prev.period = add_months(m.period, -1)
left join robot_month as r
    on r.period = m.period
where {{ period_filter('m.period') }}
