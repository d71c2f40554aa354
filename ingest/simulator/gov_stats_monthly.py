"""规上工业企业月报 files, one per city and month, the way city bureaus deliver them.

Defects are injected at documented, configurable rates (``Defects``) so that every rule of the
pipeline has something to catch.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from pathlib import Path

from ibrain.uscc import ALPHABET
from ingest.simulator.population import ENERGY_INTENSITY, Enterprise, city_names

HEADER = [
    "统一社会信用代码",
    "企业名称",
    "行政区划代码",
    "行业代码",
    "报告期",
    "工业总产值(万元)",
    "营业收入(万元)",
    "利润总额(万元)",
    "从业人员平均人数(人)",
    "综合能源消费量(吨标准煤)",
]
SEASONALITY = [0.78, 0.82, 1.02, 1.0, 1.02, 1.06, 0.98, 0.98, 1.03, 1.0, 1.05, 1.26]
FULL_WIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")


@dataclass(frozen=True)
class Defects:
    """Share of data rows carrying each defect (documented in the README)."""

    invalid_uscc: float = 0.02  # last character changed: check digit fails
    thousands_separator: float = 0.05  # "12,345.60"
    full_width_digits: float = 0.01  # "１２３４５"
    blank_energy: float = 0.01  # energy left blank
    missing_field: float = 0.003  # a field dropped: the line has 9 fields
    gbk_city_share: float = 0.3  # share of cities delivering GBK instead of UTF-8 with BOM


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


def _amount(rng: random.Random, value: float, defects: Defects) -> str:
    text = f"{value:.2f}"
    roll = rng.random()
    if roll < defects.thousands_separator:
        return f"{value:,.2f}"
    if roll < defects.thousands_separator + defects.full_width_digits:
        return text.translate(FULL_WIDTH)
    return text


def _period_text(rng: random.Random, period: str) -> str:
    y, m = period.split("-")
    return rng.choice([period, f"{y}年{int(m)}月", f"{y}{m}", f"{y}/{int(m)}"])


def enterprise_month(e: Enterprise, period: str, first_year: int, rng: random.Random) -> dict:
    y, m = (int(x) for x in period.split("-"))
    years = (y - first_year) + (m - 1) / 12
    output = e.base_output * SEASONALITY[m - 1] * (1 + e.growth) ** years * rng.uniform(0.93, 1.07)
    revenue = output * rng.uniform(0.85, 1.05)
    profit = revenue * (e.margin + rng.gauss(0, 0.01))
    energy = output * ENERGY_INTENSITY[e.chain_code] * rng.uniform(0.9, 1.1)
    return {
        "output": output,
        "revenue": revenue,
        "profit": profit,
        "energy": energy,
        "employees": max(1, int(e.employees * rng.uniform(0.97, 1.03))),
    }


def render_file(
    city: str, period: str, rows: list[Enterprise], first_year: int, seed: int, defects: Defects
) -> tuple[str, bytes]:
    rng = random.Random(f"{seed}/{city}/{period}")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    y, m = period.split("-")
    writer.writerow(["辽宁省规模以上工业企业主要指标月报"])
    writer.writerow([f"填报单位：{city_names()[city]}统计局 报告期：{y}年{int(m)}月"])
    writer.writerow(HEADER)
    total = 0.0
    for e in rows:
        v = enterprise_month(e, period, first_year, rng)
        total += v["output"]
        uscc = e.uscc
        if rng.random() < defects.invalid_uscc:
            wrong = [c for c in ALPHABET if c != uscc[-1]]
            uscc = uscc[:-1] + rng.choice(wrong)
        energy = "" if rng.random() < defects.blank_energy else _amount(rng, v["energy"], defects)
        line = [
            uscc,
            e.name,
            e.region_code,
            e.industry_code,
            _period_text(rng, period),
            _amount(rng, v["output"], defects),
            _amount(rng, v["revenue"], defects),
            _amount(rng, v["profit"], defects),
            str(v["employees"]),
            energy,
        ]
        if rng.random() < defects.missing_field:
            del line[rng.randrange(1, len(line))]
        writer.writerow(line)
    writer.writerow(["合计", "", "", "", "", f"{total:.2f}", "", "", "", ""])
    writer.writerow([])
    writer.writerow(["注：本表为快报数据，金额单位为万元。"])
    text = out.getvalue()
    gbk = random.Random(f"{seed}/{city}").random() < defects.gbk_city_share
    data = text.encode("gbk") if gbk else text.encode("utf-8-sig")
    return f"gov_stats_monthly_{city}_{y}{m}.csv", data


def write_files(
    enterprises: list[Enterprise], months: list[str], out_dir: Path, seed: int, defects: Defects | None = None
) -> list[Path]:
    defects = defects or Defects()
    first_year = int(months[0][:4])
    by_city: dict[str, list[Enterprise]] = {}
    for e in enterprises:
        by_city.setdefault(e.city_code, []).append(e)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for period in months:
        for city in sorted(by_city):
            name, data = render_file(city, period, by_city[city], first_year, seed, defects)
            path = out_dir / name
            path.write_bytes(data)
            written.append(path)
    return written
