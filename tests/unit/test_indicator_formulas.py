"""The indicator formulas of seeds/indicator_definition.csv and the SQL that computes them
(models/indicator/indicator_value.sql) say the same thing.

Machine-checkable form: the seed's ``formula`` is either an amount (``<term> = …``), a ratio
(``X = A / B [× scale]; A = <term>; B = <term>``) or a growth rate (``X = (A / B - 1) × 100; A = …;
B = …``); the model's ``indicators`` list gives each code ``indicator_amount(column)``,
``indicator_ratio(numerator, denominator, scale, digits)`` or ``indicator_growth(current,
previous)``. :data:`TERMS` is the vocabulary between the two: each term the formulas use and the
cell column of indicator_value.sql it names. A swapped A and B, another column, a missing × 100, a
ratio computed as a growth rate or an indicator defined on one side only fails the check.
"""

from __future__ import annotations

import ast
import csv
import io
import re
from dataclasses import dataclass

import pytest

from transforms.dbt_launcher import DBT_PROJECT_DIR

SEED = DBT_PROJECT_DIR / "seeds" / "indicator_definition.csv"
MODEL = DBT_PROJECT_DIR / "models" / "indicator" / "indicator_value.sql"

# Each term of the seed's formulas → the cell column of indicator_value.sql it stands for.
TERMS = {
    "工业总产值": "gross_output",
    "工业总产值(万元)": "gross_output",
    "本月工业总产值": "gross_output",
    "上月工业总产值": "gross_output_prev_month",
    "上年同月工业总产值": "gross_output_prev_year",
    "营业收入": "revenue",
    "本月营业收入": "revenue",
    "上年同月营业收入": "revenue_prev_year",
    "利润总额": "total_profit",
    "从业人员": "employees",
    "从业人员平均人数(人)": "employees",
    "综合能源消费量": "energy_consumption",
    "综合能源消费量(吨标准煤)": "energy_consumption",
    "规上企业数": "enterprise_count",
    "亏损企业数": "loss_enterprises",
    "链主企业数": "chain_leaders",
    "设备运行分钟数": "run_minutes",
    "设备运行+待机+故障+离线分钟数": "state_minutes",
    "设备联网数": "devices_reporting",
    "当月有上报数据的设备数": "devices_reporting",
    "月末前已接入(首次上报)的设备数": "devices_known",
    "产量": "parts_produced",
    "设备用电量": "energy_kwh",
    "订单金额": "order_amount",
    "订单数": "order_count",
    "在手订单数": "open_orders",
    "补贴金额": "subsidy_amount",
    "Σ 买方×物料的HHI(Σ 供应商份额² × 10000)": "hhi_total",
    "买方×物料数": "buyer_materials",
    "仅有1家供应商的买方×物料数": "single_source",
}
# The seed's aggregation → the measure that computes it.
KIND_OF_AGGREGATION = {
    "sum": "amount",
    "count": "amount",
    "ratio": "ratio",
    "share": "ratio",
    "average": "ratio",
    "growth": "growth",
}

_RATIO = re.compile(r"X = A / B(?: × (?P<scale>\d+))?; A = (?P<a>.+); B = (?P<b>.+)")
_GROWTH = re.compile(r"X = \(A / B - 1\) × 100; A = (?P<a>.+); B = (?P<b>.+)")
_AMOUNT = re.compile(r"(?P<term>[^=]+?) = .+")
_INDICATORS = re.compile(r"\{%-?\s*set indicators = (?P<list>\[.*?\])\s*-?%\}", re.S)


@dataclass(frozen=True)
class Measure:
    """What an indicator computes: kind amount / ratio / growth, the columns, the scale."""

    kind: str
    columns: tuple[str, ...]
    scale: int = 1


def seed_measures(csv_text: str) -> dict[str, Measure]:
    """Each indicator's measure as its formula (and aggregation) in the seed states it."""
    measures = {}
    for row in csv.DictReader(io.StringIO(csv_text)):
        formula, code = row["formula"], row["indicator_code"]
        if match := _GROWTH.fullmatch(formula):
            measure = Measure("growth", (TERMS[match["a"]], TERMS[match["b"]]), 100)
        elif match := _RATIO.fullmatch(formula):
            measure = Measure("ratio", (TERMS[match["a"]], TERMS[match["b"]]), int(match["scale"] or 1))
        elif match := _AMOUNT.fullmatch(formula):
            measure = Measure("amount", (TERMS[match["term"]],))
        else:
            raise ValueError(f"{code}: formula {formula!r} is none of the known forms")
        if KIND_OF_AGGREGATION[row["aggregation"]] != measure.kind:
            raise ValueError(f"{code}: aggregation {row['aggregation']} but the formula is a {measure.kind}")
        measures[code] = measure
    return measures


def sql_measures(sql: str) -> dict[str, Measure]:
    """Each indicator's measure as the model's ``indicators`` list computes it."""
    found = _INDICATORS.search(sql)
    if found is None:
        raise ValueError("no {% set indicators = [...] %} in the model")
    measures = {}
    for entry in ast.parse(found["list"], mode="eval").body.elts:
        fields = {ast.literal_eval(k): v for k, v in zip(entry.keys, entry.values, strict=True)}
        call = fields["measure"]
        kind = call.func.id.removeprefix("indicator_")
        args = [ast.literal_eval(a) for a in call.args]
        if kind == "ratio":
            measure = Measure(kind, (args[0], args[1]), args[2] if len(args) > 2 else 1)
        elif kind == "growth":
            measure = Measure(kind, (args[0], args[1]), 100)
        else:
            measure = Measure(kind, (args[0],))
        measures[ast.literal_eval(fields["code"])] = measure
    return measures


def disagreements(seed: dict[str, Measure], sql: dict[str, Measure]) -> list[str]:
    found = [f"{code}: in the seed only" for code in sorted(seed.keys() - sql.keys())]
    found += [f"{code}: in the SQL only" for code in sorted(sql.keys() - seed.keys())]
    found += [
        f"{code}: seed says {seed[code]}, SQL computes {sql[code]}"
        for code in sorted(seed.keys() & sql.keys())
        if seed[code] != sql[code]
    ]
    return found


def test_seed_formulas_and_sql_agree() -> None:
    seed = seed_measures(SEED.read_text(encoding="utf-8"))
    sql = sql_measures(MODEL.read_text(encoding="utf-8"))
    assert len(seed) == 26
    assert seed["IND_PROFIT_MARGIN"] == Measure("ratio", ("total_profit", "revenue"), 100)
    assert seed["IND_OUTPUT_YOY"] == Measure("growth", ("gross_output", "gross_output_prev_year"), 100)
    assert disagreements(seed, sql) == []


def test_source_models_are_read_by_the_model() -> None:
    sql = MODEL.read_text(encoding="utf-8")
    refs = set(re.findall(r"ref\('(\w+)'\)", sql))
    for row in csv.DictReader(io.StringIO(SEED.read_text(encoding="utf-8"))):
        models = set(row["source_models"].split(","))
        assert models <= refs, f"{row['indicator_code']}: {sorted(models - refs)} not read by indicator_value"


def test_the_check_fails_when_sql_and_seed_disagree() -> None:
    seed_text, sql = SEED.read_text(encoding="utf-8"), MODEL.read_text(encoding="utf-8")
    seed = seed_measures(seed_text)
    swapped = sql.replace(
        "indicator_ratio('energy_consumption', 'gross_output', 1, 4)",
        "indicator_ratio('gross_output', 'energy_consumption', 1, 4)",
    )
    unscaled = sql.replace(
        "indicator_ratio('loss_enterprises', 'enterprise_count', 100, 2)",
        "indicator_ratio('loss_enterprises', 'enterprise_count', 1, 2)",
    )
    dropped = sql.replace("{'code': 'IND_OPEN_ORDERS',", "{'code': 'IND_OPEN_ORDERS_V2',")
    assert [d.split(":")[0] for d in disagreements(seed, sql_measures(swapped))] == ["IND_ENERGY_INTENSITY"]
    assert [d.split(":")[0] for d in disagreements(seed, sql_measures(unscaled))] == ["IND_LOSS_RATIO"]
    assert disagreements(seed, sql_measures(dropped)) == [
        "IND_OPEN_ORDERS: in the seed only",
        "IND_OPEN_ORDERS_V2: in the SQL only",
    ]
    growth = "X = (A / B - 1) × 100; A = 本月营业收入"
    growth_as_ratio = seed_text.replace(growth, "X = A / B × 100; A = 本月营业收入")
    with pytest.raises(ValueError, match="IND_REVENUE_YOY: aggregation growth but the formula is a ratio"):
        seed_measures(growth_as_ratio)
