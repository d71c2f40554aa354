"""Each source system's files, in its own native form, with injected defects logged.

Headers and JSON keys come from the bronze contracts (``source_header``), so the simulator and
the parsers cannot drift apart.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import orjson

from catalog import get_contract
from simulators.defects import (
    ABOLISHED_REGIONS,
    DefectLog,
    Defects,
    amount_text,
    break_uscc,
    messy,
    pick_row_defect,
    unknown_industry,
    unknown_region,
)
from simulators.delivery import DeliveryLog, arrival, monthly_deadline, telemetry_deadline
from simulators.population import ENERGY_INTENSITY, Enterprise, region_names
from simulators.world import CST, MATERIALS, POLICIES, Device, World, month_end, month_start

SEASONALITY = [0.78, 0.82, 1.02, 1.0, 1.02, 1.06, 0.98, 0.98, 1.03, 1.0, 1.05, 1.26]


def headers(source: str) -> list[str]:
    return [c.source_header for c in get_contract("bronze", source).columns if c.source_header]


def csv_bytes(rows: list[list[str]], encoding: str) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[str]]) -> bytes:
    """A workbook with every cell as text, as exported by the senders' systems."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Sheet1"
    for row in rows:
        sheet.append(row if row else [None])
    # Same content, same bytes: fixed document times and zip entry times, so a re-simulated
    # workbook is recognised as a re-delivery (a no-op), not a correction.
    workbook.properties.created = dt.datetime(2000, 1, 1)
    out = io.BytesIO()
    workbook.save(out)
    stable = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(out.getvalue())) as src,
        zipfile.ZipFile(stable, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "docProps/core.xml":  # openpyxl stamps "modified" with the save time
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2000-01-01T00:00:00Z", data)
            dst.writestr(
                zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0)),
                data,
                compress_type=zipfile.ZIP_DEFLATED,
            )
    return stable.getvalue()


def corrupt(data: bytes, fmt: str) -> bytes:
    """Unreadable bytes of the same kind: a truncated workbook, or text in no known encoding."""
    if fmt == "xlsx":
        return data[: len(data) // 3]
    if fmt == "json":
        return data[: len(data) // 2]
    return b"\xff\xfe\xff" + data[: len(data) // 2]


@dataclass
class Writer:
    world: World
    out_dir: Path
    defects: Defects
    log: DefectLog
    deliveries: DeliveryLog

    def _write(
        self,
        source: str,
        name: str,
        data: bytes,
        period: str,
        unit: str,
        deadline: dt.datetime,
        earliest: dt.datetime,
        late_by: dt.timedelta,
        rng: random.Random,
    ) -> Path:
        late = rng.random() < self.defects.late_file
        if late:
            self.log.add(source, "late_file", file=name)
        arrived = arrival(rng, deadline, late, earliest, late_by)
        path = self.out_dir / source / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.deliveries.add(source, name, period, unit, arrived, deadline, late)
        return path

    def _maybe_corrupt(self, source: str, name: str, data: bytes, fmt: str, rng: random.Random) -> bytes:
        if rng.random() < self.defects.corrupt_file:
            self.log.add(source, "corrupt_file", file=name)
            return corrupt(data, fmt)
        return data

    def _deliver_monthly(
        self,
        source: str,
        name: str,
        data: bytes,
        fmt: str,
        period: str,
        unit: str,
        rng: random.Random,
        late_by_days: int = 10,
        earliest: dt.datetime | None = None,
    ) -> Path:
        """Write a monthly file (corrupting it now and then) and log its arrival and deadline."""
        data = self._maybe_corrupt(source, name, data, fmt, rng)
        earliest = earliest or dt.datetime.combine(month_end(period), dt.time(18), CST)
        return self._write(
            source,
            name,
            data,
            period,
            unit,
            monthly_deadline(source, period),
            earliest,
            dt.timedelta(days=late_by_days),
            rng,
        )

    def _add(
        self, rows: list[list[str]], line: list[str], kind: str | None, source: str, name: str, key: str
    ) -> None:
        """Append a row, twice for an exact duplicate (the second copy is the logged defect)."""
        rows.append(line)
        if kind == "exact_duplicate":
            rows.append(list(line))
            self.log.add(source, kind, file=name, row=len(rows), key=key)

    def _row_defect(
        self, source: str, name: str, row: int, rng: random.Random, applicable: tuple[str, ...]
    ) -> str | None:
        kind = pick_row_defect(rng, self.defects, applicable)
        if kind is not None and kind not in ("exact_duplicate", "near_duplicate"):
            self.log.add(source, kind, file=name, row=row)
        return kind

    # -- 规上工业企业月报 ------------------------------------------------------------------------
    def gov_stats_monthly(self) -> list[Path]:
        source = "gov_stats_monthly"
        first_year = int(self.world.months[0][:4])
        by_city: dict[str, list[Enterprise]] = {}
        for e in self.world.enterprises:
            by_city.setdefault(e.city_code, []).append(e)
        paths = []
        kinds = ("invalid_uscc", "messy_text", "exact_duplicate", "near_duplicate", "missing_required",
                 "unknown_region", "abolished_region", "unknown_industry", "unit_mixup", "out_of_range",
                 "missing_field")  # fmt: skip
        for period in self.world.months:
            for city in sorted(by_city):
                rng = self.world.rng(source, city, period)
                fmt = "xlsx" if rng.random() < self.defects.xlsx_share else "csv"
                y, m = period.split("-")
                name = f"{source}_{city}_{y}{m}.{fmt}"
                rows: list[list[str]] = [
                    ["辽宁省规模以上工业企业主要指标月报"],
                    [f"填报单位：{region_names()[city]}统计局 报告期：{y}年{int(m)}月"],
                    headers(source),
                ]
                total = 0.0
                for e in by_city[city]:
                    v = enterprise_month(e, period, first_year, rng)
                    total += v["output"]
                    line = [e.uscc, e.name, e.region_code, e.industry_code, _period_text(rng, period),
                            amount_text(rng, v["output"], self.defects),
                            amount_text(rng, v["revenue"], self.defects),
                            amount_text(rng, v["profit"], self.defects), str(v["employees"]),
                            amount_text(rng, v["energy"], self.defects)]  # fmt: skip
                    row = len(rows) + 1
                    # a spreadsheet cannot lose a field the way a CSV line can
                    kind = self._row_defect(source, name, row, rng, kinds if fmt == "csv" else kinds[:-1])
                    line = mutate(kind, line, STATS_COLUMNS, rng, v["output"])
                    rows.append(line)
                    if kind in ("exact_duplicate", "near_duplicate"):
                        copy = list(line)
                        if kind == "near_duplicate":
                            copy[1] = copy[1].replace("有限公司", " 有限公司")
                        rows.append(copy)
                        self.log.add(source, kind, file=name, row=len(rows), key=e.uscc)
                rows.append(["合计", "", "", "", "", f"{total:.2f}", "", "", "", ""])
                rows.append([])
                rows.append(["注：本表为快报数据，金额单位为万元。"])
                if fmt == "xlsx":
                    data = xlsx_bytes(rows)
                else:
                    gbk = self.world.rng(source, city).random() < self.defects.gbk_share
                    data = csv_bytes(rows, "gbk" if gbk else "utf-8-sig")
                paths.append(
                    self._deliver_monthly(source, name, data, fmt, period, city, rng, late_by_days=12)
                )
        return paths

    # -- 惠企政策奖补 ----------------------------------------------------------------------------
    def gov_subsidy(self) -> list[Path]:
        source = "gov_subsidy"
        kinds = (
            "invalid_uscc",
            "messy_text",
            "exact_duplicate",
            "missing_required",
            "unit_mixup",
            "out_of_range",
            "missing_field",
        )
        paths = []
        for period in self.world.months:
            rng = self.world.rng(source, period)
            y, m = period.split("-")
            name = f"{source}_{y}{m}.csv"
            rows = [["辽宁省惠企政策专项资金拨付明细"], headers(source)]
            start, end = month_start(period), month_end(period)
            n = 0
            for e in self.world.enterprises:
                if rng.random() >= 0.02:
                    continue
                n += 1
                code, policy, fund = rng.choice(POLICIES)
                amount = round(rng.lognormvariate(4.5, 0.8), 2)
                day = start + dt.timedelta(days=rng.randrange((end - start).days + 1))
                line = [
                    f"SUB{y}{m}{n:04d}",
                    policy,
                    code,
                    e.uscc,
                    e.name,
                    fund,
                    amount_text(rng, amount, self.defects),
                    day.isoformat(),
                    "辽宁省工业和信息化厅",
                ]
                kind = self._row_defect(source, name, len(rows) + 1, rng, kinds)
                self._add(
                    rows,
                    mutate(kind, line, Columns(uscc=3, amount=6), rng, amount),
                    kind,
                    source,
                    name,
                    line[0],
                )
            gbk = self.world.rng(source).random() < self.defects.gbk_share
            data = csv_bytes(rows, "gbk" if gbk else "utf-8-sig")
            paths.append(
                self._deliver_monthly(source, name, data, "csv", period, "210000", rng, late_by_days=20)
            )
        return paths

    # -- 产品主数据 (XLSX) ------------------------------------------------------------------------
    def ent_products(self) -> list[Path]:
        source = "ent_products"
        kinds = (
            "invalid_uscc",
            "messy_text",
            "exact_duplicate",
            "missing_required",
            "unknown_industry",
            "out_of_range",
        )
        paths = []
        for period in self.world.months:
            rng = self.world.rng(source, period)
            listed = [
                p
                for p in self.world.products
                if p.listed_in == period or (p.listed_in < period and rng.random() < 0.02)
            ]
            y, m = period.split("-")
            name = f"{source}_{y}{m}.xlsx"
            rows = [headers(source)]
            for p in listed:
                line = [
                    p.product_id,
                    p.uscc,
                    p.enterprise_name,
                    p.name,
                    p.category,
                    p.chain_link,
                    p.industry_code,
                    p.unit,
                    f"{p.annual_capacity:.0f}",
                    p.launched_on.isoformat(),
                ]
                kind = self._row_defect(source, name, len(rows) + 1, rng, kinds)
                at = Columns(uscc=1, amount=8, industry=6)
                self._add(rows, mutate(kind, line, at, rng), kind, source, name, p.product_id)
            paths.append(
                self._deliver_monthly(source, name, xlsx_bytes(rows), "xlsx", period, "platform", rng)
            )
        return paths

    # -- 产业链供需关系 (quarterly CSV) ----------------------------------------------------------
    def ind_supply_chain(self) -> list[Path]:
        source = "ind_supply_chain"
        kinds = (
            "invalid_uscc",
            "messy_text",
            "exact_duplicate",
            "missing_required",
            "out_of_range",
            "missing_field",
        )
        paths = []
        for period in self.world.months:
            if int(period[5:]) % 3 != 1:
                continue  # delivered in the first month of each quarter
            rng = self.world.rng(source, period)
            y, m = period.split("-")
            name = f"{source}_{y}{m}.csv"
            rows = [headers(source)]
            for edge in self.world.supply_edges:
                line = [
                    edge.buyer.uscc,
                    edge.buyer.name,
                    edge.supplier.uscc,
                    edge.supplier.name,
                    edge.material,
                    f"{edge.annual_volume * rng.uniform(0.9, 1.1):.0f}",
                    edge.unit,
                    y,
                ]
                kind = self._row_defect(source, name, len(rows) + 1, rng, kinds)
                at = Columns(uscc=2, amount=5)
                self._add(rows, mutate(kind, line, at, rng), kind, source, name, edge.buyer.uscc)
            opens = dt.datetime.combine(month_start(period), dt.time(9), CST)  # due within its own month
            data = csv_bytes(rows, "utf-8-sig")
            paths.append(
                self._deliver_monthly(source, name, data, "csv", period, "association", rng, earliest=opens)
            )
        return paths

    # -- 原材料价格指数 (XLSX) ---------------------------------------------------------------------
    def ind_prices(self) -> list[Path]:
        source = "ind_prices"
        kinds = ("missing_required", "unit_mixup", "out_of_range")
        series: dict[str, list[float]] = {}
        walk = self.world.rng(source, "walk")
        for material, _, _, base in MATERIALS:
            price, values = base, []
            for _ in range(len(self.world.months) + 12):  # a year of history for year-on-year
                price = max(base * 0.5, price * (1 + walk.gauss(0.003, 0.03)))
                values.append(price)
            series[material] = values[12:]
            series[f"{material}:history"] = values[:12]
        paths = []
        for i, period in enumerate(self.world.months):
            rng = self.world.rng(source, period)
            y, m = period.split("-")
            name = f"{source}_{y}{m}.xlsx"
            rows = [[f"{y}年{int(m)}月 辽宁省重点原材料价格"], headers(source)]
            for material, spec, region, _ in MATERIALS:
                values = series[f"{material}:history"] + series[material]
                now, prev, year_ago = values[12 + i], values[11 + i], values[i]
                line = [
                    material,
                    spec,
                    "元/吨",
                    f"{now:.2f}",
                    f"{(now / prev - 1) * 100:.2f}",
                    f"{(now / year_ago - 1) * 100:.2f}",
                    region,
                    month_end(period).isoformat(),
                ]
                kind = self._row_defect(source, name, len(rows) + 1, rng, kinds)
                if kind == "missing_required":
                    line[3] = ""
                elif kind == "unit_mixup":
                    line[2], line[3] = "元/千克", f"{now / 1000:.3f}"
                elif kind == "out_of_range":
                    line[3] = f"-{now:.2f}"
                rows.append(line)
            paths.append(
                self._deliver_monthly(source, name, xlsx_bytes(rows), "xlsx", period, "association", rng)
            )
        return paths

    # -- 订单与产能共享 (JSON) ---------------------------------------------------------------------
    def ent_orders(self) -> list[Path]:
        source = "ent_orders"
        kinds = ("invalid_uscc", "exact_duplicate", "missing_required", "out_of_range", "missing_field")
        owners = sorted({d.uscc for d in self.world.devices})
        edges = self.world.supply_edges
        paths = []
        for period in self.world.months:
            rng = self.world.rng(source, period)
            y, m = period.split("-")
            name = f"{source}_{y}{m}.json"
            start, end = month_start(period), month_end(period)
            records: list[object] = []
            for n in range(max(1, round(len(edges) * 0.15))):
                edge = rng.choice(edges)
                ordered = start + dt.timedelta(days=rng.randrange((end - start).days + 1))
                rec: dict[str, object] = {
                    "type": "order",
                    "id": f"ORD{y}{m}{n + 1:05d}",
                    "uscc": edge.supplier.uscc,
                    "buyer_uscc": edge.buyer.uscc,
                    "product_category": edge.material,
                    "quantity": rng.randint(1, 500),
                    "amount_10k": round(rng.lognormvariate(3.5, 1.0), 2),
                    "order_date": ordered.isoformat(),
                    "due_date": (ordered + dt.timedelta(days=rng.randint(15, 120))).isoformat(),
                    "status": rng.choice(["新建", "生产中", "已交付", "已取消"]),
                }
                records.append(self._order_defect(source, name, len(records) + 1, rng, kinds, rec, records))
            for n, uscc in enumerate(u for u in owners if rng.random() < 0.2):
                rec = {
                    "type": "capacity",
                    "id": f"CAP{y}{m}{n + 1:05d}",
                    "uscc": uscc,
                    "equipment_type": rng.choice(
                        ["五轴加工中心", "数控车床", "六轴工业机器人", "激光切割机"]
                    ),
                    "idle_hours": rng.randint(20, 300),
                    "available_from": start.isoformat(),
                    "available_to": end.isoformat(),
                    "price_per_hour": rng.randint(80, 600),
                }
                records.append(self._order_defect(source, name, len(records) + 1, rng, kinds, rec, records))
            data = orjson.dumps(
                {"platform": "产能共享平台", "period": period, "records": records}, option=orjson.OPT_INDENT_2
            )
            paths.append(self._deliver_monthly(source, name, data, "json", period, "platform", rng))
        return paths

    def _order_defect(
        self,
        source: str,
        name: str,
        index: int,
        rng: random.Random,
        kinds: tuple[str, ...],
        rec: dict[str, object],
        records: list[object],
    ) -> object:
        kind = pick_row_defect(rng, self.defects, kinds)
        if kind is None:
            return rec
        if kind == "exact_duplicate":
            records.append(dict(rec))
            self.log.add(source, kind, file=name, row=index + 1, key=str(rec["id"]))
            return rec  # the copy sits before it; the original is the later record
        self.log.add(source, "not_an_object" if kind == "missing_field" else kind, file=name, row=index)
        if kind == "invalid_uscc":
            rec["uscc"] = break_uscc(rng, str(rec["uscc"]))
        elif kind == "missing_required":
            rec["uscc"] = None
        elif kind == "out_of_range":
            key = "quantity" if rec["type"] == "order" else "idle_hours"
            rec[key] = -int(rec[key])  # type: ignore[call-overload]
        elif kind == "missing_field":
            return f"{rec['id']},{rec['uscc']}"  # a flattened record: not a JSON object
        return rec

    # -- 设备遥测 (hourly JSON Lines) ------------------------------------------------------------
    def ent_telemetry(self) -> list[Path]:
        source = "ent_telemetry"
        paths = []
        devices = self.world.devices
        for day in self.world.telemetry_dates:
            state = {d.device_id: "run" for d in devices}
            parts = {d.device_id: 0 for d in devices}
            for hour in range(24):
                rng = self.world.rng(source, day, hour)
                name = f"{source}_{day:%Y%m%d}_{hour:02d}.jsonl"
                lines: list[bytes] = []
                injected: Counter[str] = Counter()
                for d in devices:
                    for minute in range(60):
                        state[d.device_id] = _next_status(rng, state[d.device_id], hour)
                        reading = Reading(d, day, hour, minute, state[d.device_id])
                        lines.extend(self._reading(rng, reading, parts, injected))
                for kind, count in sorted(injected.items()):  # per file: telemetry is millions of lines
                    self.log.add(source, kind, file=name, count=count)
                end = dt.datetime.combine(day, dt.time(hour), CST) + dt.timedelta(hours=1)
                data = b"\n".join(lines) + b"\n"
                paths.append(
                    self._write(
                        source,
                        name,
                        data,
                        day.isoformat(),
                        f"h{hour:02d}",
                        end + telemetry_deadline(),
                        end,
                        dt.timedelta(hours=30),
                        rng,
                    )
                )
        return paths

    def _reading(
        self, rng: random.Random, r: Reading, parts: dict[str, int], injected: Counter[str]
    ) -> list[bytes]:
        ts = dt.datetime.combine(r.day, dt.time(r.hour, r.minute), CST)
        device = r.device
        if r.status == "run":
            load = round(rng.uniform(35, 95), 1)
            if rng.random() < 0.3:
                parts[device.device_id] += 1
        else:
            load = round(rng.uniform(0, 5), 1) if r.status == "idle" else 0.0
        rec: dict[str, object] = {
            "device_id": device.device_id,
            "uscc": device.uscc,
            "ts": ts.isoformat(),
            "status": r.status,
            "spindle_load": load if device.kind == "cnc" else None,
            "joint_load": load if device.kind == "robot" else None,
            "power_kw": round(device.rated_kw * (load / 100 + 0.05), 2) if r.status != "offline" else 0.0,
            "part_count": parts[device.device_id],
        }
        d = self.defects
        kinds = (
            ("clock_skew", d.telemetry_clock_skew),
            ("out_of_range", d.out_of_range),
            ("missing_required", d.missing_required),
            ("json_syntax", d.missing_field),
        )
        roll, kind = rng.random(), None
        for name, rate in kinds:
            if roll < rate:
                kind = name
                break
            roll -= rate
        if kind == "clock_skew":  # kept as reported: the reading is real, its stamp a little off
            rec["ts"] = (ts + dt.timedelta(seconds=rng.choice([-1, 1]) * rng.randint(5, 50))).isoformat()
        elif kind == "out_of_range":
            rec["spindle_load" if device.kind == "cnc" else "joint_load"] = round(rng.uniform(120, 200), 1)
        elif kind == "missing_required":
            rec["device_id"] = None
        if kind:
            injected[kind] += 1
        if kind == "json_syntax":
            return [orjson.dumps(rec)[:-7]]  # truncated in transit: not valid JSON
        line = orjson.dumps(rec)
        if rng.random() < d.telemetry_duplicate and kind is None:  # one defect per row
            injected["telemetry_duplicate"] += 1
            return [line, line]
        return [line]


@dataclass(frozen=True)
class Reading:
    device: Device
    day: dt.date
    hour: int
    minute: int
    status: str


@dataclass(frozen=True)
class Columns:
    """Where a source's row keeps the fields that row-level defects touch."""

    uscc: int
    amount: int | None = None
    region: int | None = None
    industry: int | None = None


def mutate(
    kind: str | None, line: list[str], at: Columns, rng: random.Random, amount: float | None = None
) -> list[str]:
    """Apply one row-level defect to a delimited row (duplicates are added by the caller)."""
    if kind == "invalid_uscc":
        line[at.uscc] = break_uscc(rng, line[at.uscc])
    elif kind == "messy_text":
        line[at.uscc] = messy(rng, line[at.uscc])
    elif kind == "missing_required":
        line[at.uscc] = ""
    elif kind == "unknown_region" and at.region is not None:
        line[at.region] = unknown_region()
    elif kind == "abolished_region" and at.region is not None:
        line[at.region] = rng.choice(ABOLISHED_REGIONS)
    elif kind == "unknown_industry" and at.industry is not None:
        line[at.industry] = unknown_industry(rng)
    elif kind == "unit_mixup" and at.amount is not None and amount is not None:
        line[at.amount] = f"{amount * 10000:.2f}"  # 元 in a 万元 column
    elif kind == "out_of_range" and at.amount is not None:
        line[at.amount] = f"-{line[at.amount].lstrip('-')}"
    elif kind == "missing_field":
        del line[rng.randrange(1, len(line))]
    return line


STATS_COLUMNS = Columns(uscc=0, amount=5, region=2, industry=3)


def _next_status(rng: random.Random, status: str, hour: int) -> str:
    """A per-minute Markov chain: busy by day, idle by night, rare faults and outages."""
    day_shift = 8 <= hour < 20
    if status == "run":
        roll = rng.random()
        return "fault" if roll < 0.0005 else "idle" if roll < (0.01 if day_shift else 0.05) else "run"
    if status == "idle":
        return (
            "run"
            if rng.random() < (0.08 if day_shift else 0.01)
            else "offline"
            if rng.random() < 0.001
            else "idle"
        )
    if status == "fault":
        return "idle" if rng.random() < 0.05 else "fault"
    return "idle" if rng.random() < 0.02 else "offline"


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


def _period_text(rng: random.Random, period: str) -> str:
    y, m = period.split("-")
    return rng.choice([period, f"{y}年{int(m)}月", f"{y}{m}", f"{y}/{int(m)}"])
