{{ config(tags=['dimension']) }}
{#- Enterprises, current and history (SCD2 from silver.enterprise), with chain membership. An
    enterprise that reports in a fact source but is not (yet) in the registry is added as an
    inferred member (is_inferred), so every fact has its dimension row. -#}

with master as (
    select
        enterprise_id, uscc, enterprise_name, region_code, city_code, industry_code,
        reg_status, enterprise_type, registered_capital, established_on,
        valid_from, valid_to, is_current, false as is_inferred
    from {{ source('silver', 'enterprise') }}
),

reported as (
    select enterprise_id, uscc, enterprise_name, region_code, city_code, industry_code, period
    from {{ source('silver', 'enterprise_month_stats') }}
    union all
    select
        enterprise_id, uscc, enterprise_name, cast(null as string) as region_code,
        cast(null as string) as city_code, industry_code, period
    from {{ source('silver', 'product') }}
    union all
    select
        enterprise_id, uscc, enterprise_name, cast(null as string) as region_code,
        cast(null as string) as city_code, cast(null as string) as industry_code, period
    from {{ source('silver', 'subsidy_award') }}
),

inferred as (
    select
        enterprise_id, uscc, enterprise_name, region_code, city_code, industry_code,
        cast(null as string) as reg_status, cast(null as string) as enterprise_type,
        cast(null as decimal(18, 2)) as registered_capital, cast(null as date) as established_on,
        cast(first_period as timestamp) as valid_from, cast(null as timestamp) as valid_to,
        true as is_current, true as is_inferred
    from (
        select
            r.*,
            min(r.period) over (partition by r.enterprise_id) as first_period,
            row_number() over (
                partition by r.enterprise_id
                order by r.region_code is null, r.period desc, r.uscc asc
            ) as rn
        from reported as r
        left anti join master as m
            on m.enterprise_id = r.enterprise_id
        where r.enterprise_id is not null
    ) as ranked
    where rn = 1
),

versions as (
    select * from master
    union all
    select * from inferred
),

main_link as (
    select enterprise_id, chain_link
    from (
        select
            enterprise_id, chain_link,
            row_number() over (partition by enterprise_id order by count(*) desc, chain_link) as rn
        from {{ source('silver', 'product') }}
        group by enterprise_id, chain_link
    ) as ranked
    where rn = 1
)

select
    v.enterprise_id,
    v.valid_from,
    v.valid_to,
    v.is_current,
    v.is_inferred,
    v.uscc,
    v.enterprise_name,
    v.region_code,
    v.city_code,
    v.industry_code,
    c.chain_code,
    c.chain_name_zh,
    l.chain_link,
    v.reg_status,
    v.enterprise_type,
    v.registered_capital,
    v.established_on
from versions as v
left join {{ source('silver', 'ref_chain_industry') }} as c
    on c.industry_code = v.industry_code
left join main_link as l
    on l.enterprise_id = v.enterprise_id
