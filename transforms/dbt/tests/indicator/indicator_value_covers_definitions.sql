{#- 完整性: every indicator of indicator_definition has a value in the latest month of
    indicator_value (in at least one cell). Severity warn: the supply indicators come from the
    quarterly survey and telemetry or the base month of a growth rate can lag, so a missing
    indicator in a new month is reported, not blocking. -#}
{{ config(severity='warn', meta={
    'description_zh': '最新月份每个已定义指标都有指标值', 'dimension': '完整性',
    'rule_id': 'indicator_value_covers_definitions', 'dataset': 'indicator.indicator_value'}) }}

with latest as (
    select max(period) as period
    from {{ ref('indicator_value') }}
),

present as (
    select distinct v.indicator_code
    from {{ ref('indicator_value') }} as v
    join latest as l
        on l.period = v.period
)

select d.indicator_code, d.name_zh, l.period as latest_period
from {{ ref('indicator_definition') }} as d
cross join latest as l
left anti join present as p
    on p.indicator_code = d.indicator_code
