"""The simulated province: enterprises and everything the sources report about them.

Built deterministically from (scale, seed, months) so every source tells the same story: the
monthly statistics, the registry, devices and their telemetry, products, supply relations,
orders, subsidies and prices all refer to the same enterprises.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field, replace
from functools import cached_property

from simulators.population import (
    STREETS,
    Enterprise,
    chains,
    person_name,
    population,
    region_names,
)

DEVICES_PER_SCALE = 500
CST = dt.timezone(dt.timedelta(hours=8), "CST")  # sources write China Standard Time


@dataclass(frozen=True)
class Device:
    device_id: str
    uscc: str
    kind: str  # cnc | robot
    rated_kw: float


@dataclass(frozen=True)
class Product:
    product_id: str
    uscc: str
    enterprise_name: str
    name: str
    category: str
    chain_link: str
    industry_code: str
    unit: str
    annual_capacity: float
    launched_on: dt.date
    listed_in: str  # YYYY-MM of the product file that first lists it


@dataclass(frozen=True)
class SupplyEdge:
    buyer: Enterprise
    supplier: Enterprise
    material: str
    annual_volume: float
    unit: str


@dataclass(frozen=True)
class RegistryVersion:
    """One state of an enterprise's registration, valid from ``updated_at``."""

    uscc: str
    name: str
    legal_representative: str
    registered_capital: float
    established_on: dt.date
    address: str
    region_code: str
    industry_code: str
    status: str
    enterprise_type: str
    updated_at: dt.datetime  # CST


POLICIES = [
    ("辽工信发〔2024〕12号", "首台（套）重大技术装备奖励", "首台套奖励"),
    ("辽工信发〔2024〕18号", "工业企业技术改造专项资金", "技术改造"),
    ("辽工信发〔2024〕25号", "专精特新中小企业奖励", "专精特新"),
    ("辽工信发〔2024〕31号", "智能制造示范工厂奖补", "智能制造"),
    ("辽工信发〔2024〕40号", "绿色制造体系建设奖补", "绿色制造"),
    ("辽财企〔2024〕9号", "工业互联网平台应用补助", "工业互联网"),
]
MATERIALS = [  # (name, spec, region, base price 元/吨)
    ("菱镁矿", "MgO≥47%", "海城", 260.0), ("轻烧镁粉", "MgO≥90%", "营口", 1150.0),
    ("重烧镁砂", "MgO≥95%", "海城", 1900.0), ("电熔镁砂", "MgO≥97%", "营口", 4300.0),
    ("螺纹钢", "HRB400 Φ20", "沈阳", 3650.0), ("热轧卷板", "Q235 5.75mm", "鞍山", 3800.0),
    ("纯碱", "重质", "大连", 2100.0), ("硫酸", "98%", "葫芦岛", 320.0),
]  # fmt: skip


def month_range(spec: str) -> list[str]:
    """``2024-01:2025-01`` -> every YYYY-MM from the first to the last, inclusive."""
    try:
        start, end = spec.split(":")
        y, m = (int(x) for x in start.split("-"))
        ey, em = (int(x) for x in end.split("-"))
    except ValueError:
        raise ValueError(f"months {spec!r}: expected YYYY-MM:YYYY-MM") from None
    if (y, m) > (ey, em) or not (1 <= m <= 12 and 1 <= em <= 12):
        raise ValueError(f"months {spec!r}: not a valid range")
    out = []
    while (y, m) <= (ey, em):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def month_start(period: str) -> dt.date:
    return dt.date.fromisoformat(f"{period}-01")


def month_end(period: str) -> dt.date:
    start = month_start(period)
    return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def unit_of(material: str) -> str:
    """One unit of measure per material, so volumes of a material add up (equipment in 台,
    component sets in 套, everything else by weight)."""
    if any(k in material for k in ("机床", "机器人", "系统", "控制器", "减速器")):
        return "台"
    if "部件" in material or "轴承" in material:
        return "套"
    return "吨"


@dataclass
class World:
    scale: float
    seed: int
    months: list[str]
    telemetry_days: int = 7
    enterprises: list[Enterprise] = field(init=False)

    def __post_init__(self) -> None:
        self.enterprises = population(self.scale, self.seed)

    def rng(self, *parts: object) -> random.Random:
        return random.Random("/".join(str(p) for p in (self.seed, *parts)))

    @cached_property
    def by_uscc(self) -> dict[str, Enterprise]:
        return {e.uscc: e for e in self.enterprises}

    @cached_property
    def window_start(self) -> dt.date:
        return month_start(self.months[0])

    @cached_property
    def window_end(self) -> dt.date:
        return month_end(self.months[-1])

    @cached_property
    def telemetry_dates(self) -> list[dt.date]:
        """The last ``telemetry_days`` days of the window."""
        return [self.window_end - dt.timedelta(days=n) for n in range(self.telemetry_days - 1, -1, -1)]

    @cached_property
    def devices(self) -> list[Device]:
        """Connected CNC machines and robots, owned mostly by the two equipment chains."""
        rng = self.rng("devices")
        count = max(5, round(DEVICES_PER_SCALE * self.scale))
        owners = [
            e
            for e in self.enterprises
            if e.chain_code in ("cnc_machine_tools", "industrial_robots") or e.chain_code is None
        ]
        weights = [e.base_output * (3 if e.chain_code else 1) for e in owners]
        devices = []
        for n in range(count):
            owner = rng.choices(owners, weights)[0]
            kind = "robot" if owner.chain_code == "industrial_robots" or rng.random() < 0.3 else "cnc"
            prefix = "RBT" if kind == "robot" else "CNC"
            devices.append(
                Device(
                    f"{prefix}-{owner.city_code[:4]}-{n + 1:06d}",
                    owner.uscc,
                    kind,
                    round(rng.uniform(7.5, 45.0), 1),
                )
            )
        return devices

    @cached_property
    def products(self) -> list[Product]:
        rng = self.rng("products")
        link_categories = {c["code"]: c["links"] for c in chains()}
        out = []
        for e in self.enterprises:
            categories = link_categories.get(e.chain_code, {}).get(e.chain_link) or ["通用工业品"]
            for n in range(rng.randint(1, 4)):
                category = rng.choice(categories)
                first = self.months[0] if rng.random() < 0.85 else rng.choice(self.months)
                out.append(
                    Product(
                        product_id=f"P{e.uscc[8:17]}{n + 1:02d}",
                        uscc=e.uscc,
                        enterprise_name=e.name,
                        name=f"{category}{rng.choice(['A', 'B', 'C', 'X', 'Pro'])}{rng.randint(100, 999)}型",
                        category=category,
                        chain_link=e.chain_link,
                        industry_code=e.industry_code,
                        unit=rng.choice(["台", "套", "吨", "件"]),
                        annual_capacity=round(rng.lognormvariate(6, 1), 0),
                        launched_on=e.established_on + dt.timedelta(days=rng.randrange(30, 3000)),
                        listed_in=first,
                    )
                )
        return out

    @cached_property
    def supply_edges(self) -> list[SupplyEdge]:
        """Midstream buys from upstream of its chain; downstream buys from midstream."""
        rng = self.rng("supply")
        by_chain_link: dict[tuple[str | None, str], list[Enterprise]] = {}
        for e in self.enterprises:
            by_chain_link.setdefault((e.chain_code, e.chain_link), []).append(e)
        link_categories = {c["code"]: c["links"] for c in chains()}
        chain_codes = [c["code"] for c in chains()]
        edges = []
        for buyer in self.enterprises:
            if buyer.chain_link == "中游":
                pool, link, chain = (
                    by_chain_link.get((buyer.chain_code, "上游"), []),
                    "上游",
                    buyer.chain_code,
                )
            elif buyer.chain_link == "下游":
                chain = buyer.chain_code or rng.choice(chain_codes)
                pool, link = by_chain_link.get((chain, "中游"), []), "中游"
            else:
                continue
            if not pool:
                continue
            for supplier in rng.sample(pool, min(len(pool), rng.randint(1, 4))):
                material = rng.choice(link_categories[chain][link])
                unit = unit_of(material)
                edges.append(
                    SupplyEdge(buyer, supplier, material, round(rng.lognormvariate(5, 1.2), 0), unit)
                )
        return edges

    @cached_property
    def registry(self) -> list[RegistryVersion]:
        """Each enterprise's registration and its changes during the window (CST timestamps)."""
        rng = self.rng("registry")
        span = (self.window_end - self.window_start).days + 1
        out = []
        for e in self.enterprises:
            # The registry's history here starts with its migration to the current system (within
            # the two years before the window), so first versions carry today's region codes.
            migrated = self.window_start - dt.timedelta(days=rng.randint(1, 720))
            first_seen = dt.datetime.combine(max(e.established_on, migrated), dt.time(9, 30), CST)
            version = RegistryVersion(
                uscc=e.uscc,
                name=e.name,
                legal_representative=e.legal_representative,
                registered_capital=e.registered_capital,
                established_on=e.established_on,
                address=e.address,
                region_code=e.region_code,
                industry_code=e.industry_code,
                status=rng.choice(["存续", "在业"]),
                enterprise_type=e.enterprise_type,
                updated_at=first_seen + dt.timedelta(minutes=rng.randrange(0, 480)),
            )
            out.append(version)
            for _ in range(rng.choices((0, 1, 2), (70, 22, 8))[0]):
                day = self.window_start + dt.timedelta(days=rng.randrange(span))
                at = dt.datetime.combine(day, dt.time(rng.randrange(8, 18), rng.randrange(60)), CST)
                change = rng.choice(["name", "address", "capital", "legal_representative", "status"])
                if change == "name":
                    version = _replace(version, name=version.name.replace("有限公司", "股份有限公司"))
                elif change == "address":
                    city = region_names()[e.city_code]
                    version = _replace(
                        version, address=f"辽宁省{city}{rng.choice(STREETS)}{rng.randrange(1, 999)}号"
                    )
                elif change == "capital":
                    version = _replace(version, registered_capital=round(version.registered_capital * 1.5, 2))
                elif change == "legal_representative":
                    version = _replace(version, legal_representative=person_name(rng))
                else:
                    version = _replace(version, status=rng.choice(["注销", "吊销", "存续"]))
                version = _replace(version, updated_at=max(at, version.updated_at + dt.timedelta(minutes=1)))
                out.append(version)
        return sorted(out, key=lambda v: (v.updated_at, v.uscc))


def _replace(version: RegistryVersion, **changes: object) -> RegistryVersion:
    return replace(version, **changes)
