"""The figures of the monthly economic-operation brief (经济运行月报), from the theme table.

Everything is read from ``theme.economic_operation_month`` (one row per city × division × chain ×
month; a city's, chain's or the province's total is the plain sum of its rows — see the theme's
contract) and from the open issues of ``quality.dq_issue``, with delta-rs' DataFusion query
builder (no Spark session: the brief is built by a schedule and by a command in seconds). Growth
here is of the *totals* (sum this month ÷ sum a month / a year earlier − 1), which is what a
reader of a province or city figure expects; the theme's own ``*_pct`` columns are per cell.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal

import pyarrow as pa
from deltalake import DeltaTable, QueryBuilder
from deltalake.exceptions import DeltaError, TableNotFoundError

from catalog.contracts import get_contract
from catalog.deadlines import CST, delivery_deadline
from ibrain.lake import Lake

THEME = ("theme", "economic_operation_month")
ISSUES = ("quality", "dq_issue")
STATS_SOURCE = "gov_stats_monthly"  # the survey the theme sums; its deadline gates the brief
TOP_MOVERS = 5
TREND_MONTHS = 13


class BriefError(RuntimeError):
    """The brief cannot be built for this period (no data, or a bad period)."""


def parse_period(text: str) -> dt.date:
    """``YYYY-MM`` → the month's first day; a clear error otherwise."""
    try:
        day = dt.datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise BriefError(f"period must be YYYY-MM, not {text!r}") from None
    return day


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def statistics_deadline(period: str) -> dt.datetime:
    """When the month's statistics (gov_stats_monthly) are due (catalog/deadlines.py): the brief
    is built after it."""
    spec = get_contract("bronze", STATS_SOURCE).ingest
    assert spec is not None
    return delivery_deadline(spec, period)


def growth(current: Decimal | None, before: Decimal | None) -> float | None:
    """(current ÷ before − 1) × 100, None when either is missing or ``before`` is not positive."""
    if current is None or before is None or before <= 0:
        return None
    return float((current / before - 1) * 100)


@dataclass(frozen=True)
class Totals:
    """Sums over a set of theme rows in one month, with growth against the month and year before."""

    enterprise_count: int
    gross_output: Decimal
    revenue: Decimal
    total_profit: Decimal
    gross_output_mom_pct: float | None
    gross_output_yoy_pct: float | None
    revenue_yoy_pct: float | None
    profit_yoy_pct: float | None


@dataclass(frozen=True)
class Row:
    """A named group (a city, a chain, a city × chain cell) and its totals."""

    code: str
    name: str
    totals: Totals
    gross_output_yoy_change: Decimal | None = None  # 万元 against a year earlier
    note: str = ""


@dataclass
class Figures:
    period: dt.date
    version: int  # the theme's Delta version read
    province: Totals
    cities: list[Row]  # by gross output, largest first
    chains: list[Row]  # pilot chains, by gross output
    risers: list[Row]  # city × chain cells with the largest rise in output against a year earlier
    fallers: list[Row]
    trend: list[tuple[dt.date, Decimal]]  # province gross output, oldest first
    issues: list[dict[str, str]] = field(default_factory=list)  # open quality issues (caveats)

    def to_json(self) -> str:
        """The figures as JSON (numbers as strings for amounts, so nothing is rounded)."""

        def plain(value: object) -> object:
            if isinstance(value, Decimal | dt.date):
                return str(value)
            if isinstance(value, Totals | Row):
                return {k: plain(v) for k, v in value.__dict__.items()}
            if isinstance(value, list | tuple):
                return [plain(v) for v in value]
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            return value

        return json.dumps(plain(self.__dict__), ensure_ascii=False, indent=1)


def _table(lake: Lake, layer: str, table: str) -> DeltaTable:
    try:
        return DeltaTable(lake.table_uri(layer, table), storage_options=lake.storage_options())
    except (TableNotFoundError, DeltaError, OSError) as exc:
        raise BriefError(f"{layer}.{table} cannot be read: {exc}") from exc


def _query(handle: DeltaTable, sql: str) -> list[dict]:
    return pa.table(QueryBuilder().register("t", handle).execute(sql).read_all()).to_pylist()


def _sums(handle: DeltaTable, months: list[dt.date], keys: list[str]) -> dict[tuple, dict[dt.date, dict]]:
    """Sums per ``keys`` group and month over ``months``: {group: {month: sums}}."""
    key_cols = "".join(f"{k}, " for k in keys)
    listed = ", ".join(f"DATE '{m.isoformat()}'" for m in months)
    rows = _query(
        handle,
        f"SELECT {key_cols}period, CAST(sum(enterprise_count) AS BIGINT) AS enterprise_count, "
        "sum(gross_output) AS gross_output, sum(revenue) AS revenue, sum(total_profit) AS total_profit "
        f"FROM t WHERE period IN ({listed}) GROUP BY {key_cols}period",
    )
    found: dict[tuple, dict[dt.date, dict]] = {}
    for row in rows:
        found.setdefault(tuple(row[k] for k in keys), {})[row["period"]] = row
    return found


def _totals(months: dict[dt.date, dict], period: dt.date) -> Totals | None:
    now = months.get(period)
    if now is None:
        return None
    month_before = months.get(add_months(period, -1), {})
    year_before = months.get(add_months(period, -12), {})
    return Totals(
        enterprise_count=int(now["enterprise_count"]),
        gross_output=now["gross_output"],
        revenue=now["revenue"],
        total_profit=now["total_profit"],
        gross_output_mom_pct=growth(now["gross_output"], month_before.get("gross_output")),
        gross_output_yoy_pct=growth(now["gross_output"], year_before.get("gross_output")),
        revenue_yoy_pct=growth(now["revenue"], year_before.get("revenue")),
        profit_yoy_pct=growth(now["total_profit"], year_before.get("total_profit")),
    )


def _names(handle: DeltaTable, period: dt.date, code: str, name: str) -> dict[str, str]:
    rows = _query(
        handle, f"SELECT DISTINCT {code} AS c, {name} AS n FROM t WHERE period = DATE '{period.isoformat()}'"
    )
    return {r["c"]: r["n"] or r["c"] for r in rows}


def compute(lake: Lake, period: str) -> Figures:
    """The brief's figures for ``period`` (``YYYY-MM``); :class:`BriefError` when the theme has
    no row for that month."""
    month = parse_period(period)
    handle = _table(lake, *THEME)
    months = [month, add_months(month, -1), add_months(month, -12)]
    province = _totals(_sums(handle, months, []).get((), {}), month)
    if province is None:
        raise BriefError(f"theme.economic_operation_month has no row for {period}")

    city_names = _names(handle, month, "city_code", "city_name")
    cities = []
    for (code,), by_month in _sums(handle, months, ["city_code"]).items():
        totals = _totals(by_month, month)
        if totals is not None:
            cities.append(Row(code, city_names.get(code, code), totals))
    cities.sort(key=lambda r: (-r.totals.gross_output, r.code))

    chain_names = _names(handle, month, "chain_code", "chain_name_zh")
    by_chain_city = _sums(handle, months, ["chain_code", "city_code"])
    chains = []
    for (code,), by_month in _sums(handle, months, ["chain_code"]).items():
        totals = _totals(by_month, month)
        if totals is None or code == "none":
            continue
        city_output = {
            city: m[month]["gross_output"]
            for (chain, city), m in by_chain_city.items()
            if chain == code and month in m
        }
        top_city = max(sorted(city_output), key=lambda c: city_output[c])
        share = float(totals.gross_output / province.gross_output * 100) if province.gross_output else 0.0
        note = (
            f"占全省工业总产值 {share:.1f}%；产值最大的地市为{city_names.get(top_city, top_city)}"
            f"（{city_output[top_city]:,.2f} 万元）"
        )
        chains.append(Row(code, chain_names.get(code, code), totals, note=note))
    chains.sort(key=lambda r: (-r.totals.gross_output, r.code))

    cells = []
    year_before = add_months(month, -12)
    for (chain, city), by_month in by_chain_city.items():
        totals = _totals(by_month, month)
        if totals is None or year_before not in by_month:
            continue
        change = totals.gross_output - by_month[year_before]["gross_output"]
        name = f"{city_names.get(city, city)} · {chain_names.get(chain, chain)}"
        cells.append(Row(f"{city}/{chain}", name, totals, gross_output_yoy_change=change))
    risers = sorted(
        (c for c in cells if c.gross_output_yoy_change > 0),
        key=lambda r: (-r.gross_output_yoy_change, r.code),
    )
    fallers = sorted(
        (c for c in cells if c.gross_output_yoy_change < 0), key=lambda r: (r.gross_output_yoy_change, r.code)
    )

    trend_months = [add_months(month, -i) for i in range(TREND_MONTHS - 1, -1, -1)]
    trend_sums = _sums(handle, trend_months, []).get((), {})
    trend = [(m, trend_sums[m]["gross_output"]) for m in trend_months if m in trend_sums]

    return Figures(
        period=month,
        version=handle.version(),
        province=province,
        cities=cities,
        chains=chains,
        risers=risers[:TOP_MOVERS],
        fallers=fallers[:TOP_MOVERS],
        trend=trend,
        issues=open_issues(lake, month),
    )


def open_issues(lake: Lake, month: dt.date) -> list[dict[str, str]]:
    """Open quality issues (quality.dq_issue, status ``open``), those failing this month first —
    the brief's data-quality caveats. No sample rows (they may be 重要)."""
    try:
        handle = _table(lake, *ISSUES)
    except BriefError:
        return []  # the quality run has not written any issue yet: no caveat to state
    rows = _query(
        handle,
        "SELECT issue_id, dataset, rule_id, dimension, severity, affected_rows, failing_periods "
        "FROM t WHERE status = 'open'",
    )
    key = month.strftime("%Y-%m")
    for row in rows:
        row["this_month"] = key in (row["failing_periods"] or "")
    rows.sort(key=lambda r: (not r["this_month"], r["severity"] != "ERROR", r["dataset"], r["rule_id"]))
    return [{k: str(v) if v is not None else "" for k, v in r.items()} for r in rows]


def due_now(period: str, now: dt.datetime | None = None) -> bool:
    """Whether the month's statistics deadline has passed (CST)."""
    now = now or dt.datetime.now(CST)
    return now > statistics_deadline(period)
