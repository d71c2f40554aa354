"""A deterministic population of Liaoning industrial enterprises (scale 1 ≈ 2,000).

Enterprises are spread over the 14 cities (GB/T 2260 county codes) with plausible weights, 70 %
in the five pilot chains (GB/T 4754 classes from chains.yaml), with log-normal sizes.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from dataclasses import dataclass
from functools import cache

import yaml

from catalog.contracts import CATALOG_DIR
from ibrain.uscc import ALPHABET, check_char

REFERENCE = CATALOG_DIR / "reference"
ENTERPRISES_PER_SCALE = 2000

# Relative weight of each city's industrial base (沈阳, 大连 largest; 营口, 鞍山 for 菱镁).
CITY_WEIGHTS = {
    "210100": 22, "210200": 22, "210300": 9, "210400": 4, "210500": 3, "210600": 3, "210700": 5,
    "210800": 8, "210900": 2, "211000": 3, "211100": 4, "211200": 3, "211300": 3, "211400": 3,
}  # fmt: skip
# Energy intensity (tce per 万元 of output) by the chain an enterprise belongs to.
ENERGY_INTENSITY = {
    "magnesite": 0.9, "fine_chemicals": 0.35, "biomedicine": 0.06, "cnc_machine_tools": 0.04,
    "industrial_robots": 0.03, None: 0.12,
}  # fmt: skip
NAME_WORDS = ["华晟", "东方", "北方", "辽河", "海创", "金鼎", "盛达", "新松", "恒通", "远航", "鑫源",
              "宏宇", "瑞丰", "中科", "天成", "博大", "安泰", "永盛", "嘉和", "正元"]  # fmt: skip
CHAIN_SUFFIX = {
    "cnc_machine_tools": "机床", "industrial_robots": "机器人", "magnesite": "镁业",
    "fine_chemicals": "化工", "biomedicine": "制药", None: "实业",
}  # fmt: skip
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红建国志军海波宁"
STREETS = ["建设路", "人民路", "中山路", "解放大街", "经济技术开发区", "高新区创新路", "工业园区", "滨海路"]
ENTERPRISE_TYPES = ["有限责任公司(自然人投资或控股)", "有限责任公司(国有独资)", "股份有限公司(非上市)",
                    "股份有限公司(上市)", "有限责任公司(外商投资)"]  # fmt: skip
LINKS = ("上游", "中游", "下游")


@dataclass(frozen=True)
class Enterprise:
    uscc: str
    name: str
    city_code: str
    region_code: str
    industry_code: str
    chain_code: str | None
    chain_link: str  # 上游 / 中游 / 下游 within its chain (下游 for enterprises outside the chains)
    base_output: float  # 万元 per month
    growth: float  # yearly growth rate
    margin: float  # profit / revenue
    employees: int
    legal_representative: str
    registered_capital: float  # 万元
    established_on: dt.date
    address: str
    enterprise_type: str


@cache
def counties_by_city() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    with (REFERENCE / "gbt2260_liaoning.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["level"] == "county":
                out.setdefault(row["parent_code"], []).append(row["code"])
    return out


@cache
def region_names() -> dict[str, str]:
    with (REFERENCE / "gbt2260_liaoning.csv").open(encoding="utf-8") as f:
        return {r["code"]: r["name"] for r in csv.DictReader(f)}


def city_names() -> dict[str, str]:
    return {code: name for code, name in region_names().items() if code.endswith("00") and code != "210000"}


@cache
def industry_codes() -> frozenset[str]:
    with (REFERENCE / "gbt4754_2017.csv").open(encoding="utf-8") as f:
        return frozenset(r["code"] for r in csv.DictReader(f))


@cache
def chains() -> list[dict]:
    return yaml.safe_load((REFERENCE / "chains.yaml").read_text(encoding="utf-8"))["chains"]


@cache
def industry_classes() -> dict[str | None, list[str]]:
    """Chain code -> its GB/T 4754 classes; None -> other manufacturing classes (section C)."""
    with (REFERENCE / "gbt4754_2017.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    classes = [r["code"] for r in rows if r["level"] == "class"]
    manufacturing = [c for c in classes if "13" <= c[:2] <= "43"]
    out: dict[str | None, list[str]] = {}
    members: set[str] = set()
    for chain in chains():
        codes = [c for c in classes if any(c.startswith(p) for p in chain["industry_codes"])]
        out[chain["code"]] = codes
        members.update(codes)
    out[None] = [c for c in manufacturing if c not in members]
    return out


def make_uscc(rng: random.Random, region_code: str) -> str:
    body = "91" + region_code + "".join(rng.choice(ALPHABET) for _ in range(9))
    return body + check_char(body)


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def population(scale: float, seed: int) -> list[Enterprise]:
    count = max(20, round(ENTERPRISES_PER_SCALE * scale))
    rng = random.Random(seed)
    classes = industry_classes()
    chain_codes = [c for c in classes if c is not None]
    cities, weights = list(CITY_WEIGHTS), list(CITY_WEIGHTS.values())
    seen: set[str] = set()
    enterprises: list[Enterprise] = []
    while len(enterprises) < count:
        city = rng.choices(cities, weights)[0]
        region = rng.choice(counties_by_city()[city])
        chain = rng.choice(chain_codes) if rng.random() < 0.7 else None
        uscc = make_uscc(rng, region)
        if uscc in seen:
            continue
        seen.add(uscc)
        city_short = region_names()[city].removesuffix("市")
        name = f"{city_short}{rng.choice(NAME_WORDS)}{rng.choice(NAME_WORDS)}{CHAIN_SUFFIX[chain]}有限公司"
        link = rng.choices(LINKS, (4, 4, 2))[0] if chain else "下游"
        enterprises.append(Enterprise(
            uscc=uscc, name=name, city_code=city, region_code=region,
            industry_code=rng.choice(classes[chain]), chain_code=chain, chain_link=link,
            base_output=round(rng.lognormvariate(7.3, 0.9), 2),  # median ≈ 1,500 万元/month
            growth=rng.gauss(0.05, 0.08), margin=max(-0.1, rng.gauss(0.06, 0.04)),
            employees=max(20, int(rng.lognormvariate(5.0, 0.8))),
            legal_representative=person_name(rng),
            registered_capital=round(rng.lognormvariate(7.0, 1.2), 2),
            established_on=dt.date(1995, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 28)),
            address=f"辽宁省{region_names()[city]}{region_names()[region]}"
                    f"{rng.choice(STREETS)}{rng.randrange(1, 999)}号",
            enterprise_type=rng.choice(ENTERPRISE_TYPES),
        ))  # fmt: skip
    return enterprises
