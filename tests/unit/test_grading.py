"""就高从严 over column lineage: a 重要 input propagates to what is computed from it, unless the
derived column's contract declares a downgrade with a reason."""

import dataclasses

from catalog import load_catalog
from catalog.grading import check_grading
from catalog.lineage import ColumnRef, Lineage, model_column_lineage

SQL = """
with cell as (
    select city_code, period, count(distinct enterprise_id) as enterprise_count,
           sum(gross_output) as gross_output
    from gold.fct_enterprise_month
    group by city_code, period
)
select city_code, period, enterprise_count,
       case when enterprise_count >= 5 then gross_output end as gross_output
from cell
"""


def graded(level: str, downgrade: dict | None = None):
    """A theme aggregate over gold.fct_enterprise_month, its gross_output graded ``level``."""
    catalog = load_catalog()
    base = catalog["theme.economic_operation_month"]
    columns = tuple(
        dataclasses.replace(c, classification=level, downgrade=downgrade) if c.name == "gross_output" else c
        for c in base.columns
        if c.name in {"city_code", "period", "enterprise_count", "gross_output"}
    )
    contract = dataclasses.replace(base, table="city_output", columns=columns)
    catalog = {**catalog, contract.name: contract}
    sources = model_column_lineage(SQL, [c.name for c in columns], catalog)
    lineage = Lineage(tables={contract.name: {"gold.fct_enterprise_month"}}, columns={contract.name: sources})
    return sources, [f for f in check_grading(catalog, lineage) if f.table == contract.name]


def test_column_lineage_names_the_gold_columns_an_aggregate_comes_from() -> None:
    sources, _ = graded("重要")
    assert sources["gross_output"] == {
        ColumnRef("gold.fct_enterprise_month", "gross_output"),
        ColumnRef("gold.fct_enterprise_month", "enterprise_id"),  # the suppression condition
    }
    assert sources["city_code"] == {ColumnRef("gold.fct_enterprise_month", "city_code")}


def test_an_important_input_propagates_to_the_aggregate() -> None:
    _, findings = graded("重要")
    assert findings == []
    _, findings = graded("一般")
    assert [(f.column, f.required) for f in findings] == [("gross_output", "重要")]
    assert "no downgrade declared" in findings[0].problem
    assert "gold.fct_enterprise_month.gross_output (重要)" in str(findings[0])


def test_a_declared_downgrade_with_a_reason_is_accepted() -> None:
    _, findings = graded("一般", {"from": "重要", "reason": "汇总值，企业数少于5的单元置空"})
    assert findings == []


def test_a_downgrade_from_the_wrong_level_is_reported() -> None:
    _, findings = graded("一般", {"from": "核心", "reason": "x"})
    assert len(findings) == 1 and "but its inputs are 重要" in findings[0].problem
