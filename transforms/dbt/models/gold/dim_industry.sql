{{ config(tags=['dimension']) }}
{#- GB/T 4754-2017 codes at every level with their section, division and group above them. -#}

select
    i.code as industry_code,
    i.name as industry_name,
    i.level as industry_level,
    i.parent_code,
    i.section_code,
    s.name as section_name,
    i.division_code,
    d.name as division_name,
    case when i.level in ('group', 'class') then substr(i.code, 1, 3) end as group_code,
    g.name as group_name
from {{ source('silver', 'ref_industry') }} as i
left join {{ source('silver', 'ref_industry') }} as s
    on s.code = i.section_code
left join {{ source('silver', 'ref_industry') }} as d
    on d.code = i.division_code
left join {{ source('silver', 'ref_industry') }} as g
    on g.code = substr(i.code, 1, 3) and i.level in ('group', 'class')
