{{ config(tags=['dimension']) }}
{#- GB/T 2260 regions of Liaoning with their validity periods (a code that changed keeps its old
    version and successor), each row with its city and province. -#}

with latest_name as (
    select code, name
    from (
        select code, name, row_number() over (partition by code order by valid_from desc) as rn
        from {{ source('silver', 'ref_region') }}
    ) as ranked
    where rn = 1
)

select
    r.code as region_code,
    r.name as region_name,
    r.level as region_level,
    r.parent_code,
    r.city_code,
    c.name as city_name,
    concat(substr(r.code, 1, 2), '0000') as province_code,
    p.name as province_name,
    r.valid_from,
    r.valid_to,
    r.valid_to is null as is_current,
    r.successor_code
from {{ source('silver', 'ref_region') }} as r
left join latest_name as c
    on c.code = r.city_code
left join latest_name as p
    on p.code = concat(substr(r.code, 1, 2), '0000')
