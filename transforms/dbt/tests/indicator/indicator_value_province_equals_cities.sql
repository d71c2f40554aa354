{#- 一致性: per additive indicator (aggregation sum / count in indicator_definition), chain and
    month, the province's value equals the sum of its cities' values, and its enterprise_count the
    sum of its cities' counts (each enterprise counts in exactly one city). -#}
{{ config(meta={
    'description_zh': '可加指标的省级值等于各地市之和，参与企业数同样', 'dimension': '一致性',
    'rule_id': 'indicator_value_province_equals_cities', 'dataset': 'indicator.indicator_value'}) }}

with additive as (
    select indicator_code
    from {{ ref('indicator_definition') }}
    where aggregation in ('sum', 'count')
),

province as (
    select indicator_code, region_code, chain_code, period, value, enterprise_count
    from {{ ref('indicator_value') }}
    where region_code = concat(substr(region_code, 1, 2), '0000')
        and indicator_code in (select a.indicator_code from additive as a)
),

cities as (
    select
        indicator_code,
        concat(substr(region_code, 1, 2), '0000') as region_code,
        chain_code,
        period,
        sum(value) as value,
        sum(enterprise_count) as enterprise_count
    from {{ ref('indicator_value') }}
    where region_code <> concat(substr(region_code, 1, 2), '0000')
        and indicator_code in (select a.indicator_code from additive as a)
    group by indicator_code, concat(substr(region_code, 1, 2), '0000'), chain_code, period
)

select
    coalesce(p.indicator_code, c.indicator_code) as indicator_code,
    coalesce(p.region_code, c.region_code) as region_code,
    coalesce(p.chain_code, c.chain_code) as chain_code,
    coalesce(p.period, c.period) as period,
    p.value as province_value,
    c.value as cities_value,
    p.enterprise_count as province_enterprises,
    c.enterprise_count as cities_enterprises
from province as p
full outer join cities as c
    on c.indicator_code = p.indicator_code and c.region_code = p.region_code
        and c.chain_code = p.chain_code and c.period = p.period
where coalesce(p.enterprise_count, 0) <> coalesce(c.enterprise_count, 0)
    or abs(coalesce(p.value, 0) - coalesce(c.value, 0)) > 0.01
