"""A deterministic population of Liaoning industrial enterprises (scale 1 ≈ 2,000)."""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from functools import cache

import yaml

from catalog.contracts import CATALOG_DIR
from ibrain.uscc import ALPHABET, check_char

REFERENCE = CATALOG_DIR / "reference"
ENTERPRISES_PER_SCALE = 2000

# Relative weight of each city's industrial base (roughly: 沈阳, 大连 largest; 营口, 鞍山 for 菱镁).
CITY_WEIGHTS = {
    "210100": 22,
    "210200": 22,
    "210300": 9,
    "210400": 4,
    "210500": 3,
    "210600": 3,
    "210700": 5,
    "210800": 8,
    "210900": 2,
    "211000": 3,
    "211100": 4,
    "211200": 3,
    "211300": 3,
    "211400": 3,
}
# Energy intensity (tce per 万元 of output) by the chain an enterprise belongs to.
ENERGY_INTENSITY = {
    "magnesite": 0.9,
    "fine_chemicals": 0.35,
    "biomedicine": 0.06,
    "cnc_machine_tools": 0.04,
    "industrial_robots": 0.03,
    None: 0.12,
}
NAME_WORDS = [
    "华晟",
    "东方",
    "北方",
    "辽河",
    "海创",
    "金鼎",
    "盛达",
    "新松",
    "恒通",
    "远航",
    "鑫源",
    "宏宇",
    "瑞丰",
    "中科",
    "天成",
    "博大",
    "安泰",
    "永盛",
    "嘉和",
    "正元",
]
CHAIN_SUFFIX = {
    "cnc_machine_tools": "机床",
    "industrial_robots": "机器人",
    "magnesite": "镁业",
    "fine_chemicals": "化工",
    "biomedicine": "制药",
    None: "实业",
}


@dataclass(frozen=True)
class Enterprise:
    uscc: str
    name: str
    city_code: str
    region_code: str
    industry_code: str
    chain_code: str | None
    base_output: float  # 万元 per month
    growth: float  # yearly growth rate
    margin: float  # profit / revenue
    employees: int


@cache
def counties_by_city() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    with (REFERENCE / "gbt2260_liaoning.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["level"] == "county":
                out.setdefault(row["parent_code"], []).append(row["code"])
    return out


@cache
def city_names() -> dict[str, str]:
    with (REFERENCE / "gbt2260_liaoning.csv").open(encoding="utf-8") as f:
        return {r["code"]: r["name"] for r in csv.DictReader(f) if r["level"] == "city"}


@cache
def industry_classes() -> dict[str, list[str]]:
    """Chain code -> its GB/T 4754 classes; None -> other manufacturing classes (section C)."""
    with (REFERENCE / "gbt4754_2017.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    classes = [r["code"] for r in rows if r["level"] == "class"]
    manufacturing = [c for c in classes if "13" <= c[:2] <= "43"]
    chains = yaml.safe_load((REFERENCE / "chains.yaml").read_text(encoding="utf-8"))["chains"]
    out: dict[str | None, list[str]] = {}
    members: set[str] = set()
    for chain in chains:
        codes = [c for c in classes if any(c.startswith(p) for p in chain["industry_codes"])]
        out[chain["code"]] = codes
        members.update(codes)
    out[None] = [c for c in manufacturing if c not in members]
    return out


def make_uscc(rng: random.Random, region_code: str) -> str:
    body = "91" + region_code + "".join(rng.choice(ALPHABET) for _ in range(9))
    return body + check_char(body)


def population(scale: float, seed: int) -> list[Enterprise]:
    count = max(20, round(ENTERPRISES_PER_SCALE * scale))
    rng = random.Random(seed)
    classes = industry_classes()
    chain_codes = [c for c in classes if c is not None]
    cities = list(CITY_WEIGHTS)
    weights = list(CITY_WEIGHTS.values())
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
        city_short = city_names()[city].removesuffix("市")
        name = f"{city_short}{rng.choice(NAME_WORDS)}{rng.choice(NAME_WORDS)}{CHAIN_SUFFIX[chain]}有限公司"
        enterprises.append(
            Enterprise(
                uscc=uscc,
                name=name,
                city_code=city,
                region_code=region,
                industry_code=rng.choice(classes[chain]),
                chain_code=chain,
                base_output=round(rng.lognormvariate(7.3, 0.9), 2),  # median ≈ 1,500 万元/month
                growth=rng.gauss(0.05, 0.08),
                margin=max(-0.1, rng.gauss(0.06, 0.04)),
                employees=max(20, int(rng.lognormvariate(5.0, 0.8))),
            )
        )
    return enterprises
