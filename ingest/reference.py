"""Reference data from the repo (catalog/reference) into ``silver.ref_*`` tables.

Silver needs it before dbt runs (docs/architecture.md); dbt reads these tables as sources. A table is
rewritten only when its content changed, so re-runs add no Delta versions.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import yaml
from pyspark.sql import Row

from catalog import Contract, get_contract
from catalog.contracts import CATALOG_DIR
from catalog.spark_schema import struct_type
from catalog.tables import LakeTables

REFERENCE_DIR = CATALOG_DIR / "reference"
LINK_ORDER = {"上游": 1, "中游": 2, "下游": 3}


def _read_csv(name: str) -> list[dict[str, str]]:
    with (REFERENCE_DIR / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))  # every value stays text: codes keep leading zeros


OLDEST = "1980-01-01"  # validity start for codes older than the change table


def region_rows() -> list[dict[str, str | None]]:
    """GB/T 2260 Liaoning with validity periods from the change table.

    A change in year Y (the year the new code or name first appears in the published tables)
    ends the old entry on Y-01-01 (exclusive) and starts the new one on that day. An abolished code
    keeps its successor, so a record that still uses it after the change can be mapped.
    """
    current = {r["code"]: r for r in _read_csv("gbt2260_liaoning.csv")}
    city_of = {"province": lambda r: None, "city": lambda r: r["code"], "county": lambda r: r["parent_code"]}
    out: dict[tuple[str, str], dict[str, str | None]] = {}
    for code, r in current.items():
        out[(code, OLDEST)] = {
            "code": code,
            "name": r["name"],
            "level": r["level"],
            "parent_code": r["parent_code"] or None,
            "city_code": city_of[r["level"]](r),
            "valid_from": OLDEST,
            "valid_to": None,
            "successor_code": None,
        }
    for change in _read_csv("gbt2260_liaoning_changes.csv"):
        since = f"{change['year']}-01-01"
        old_code, new_code = change["old_code"], change["new_code"]
        new_row = out.pop((new_code, OLDEST))
        out[(new_code, since)] = new_row | {"valid_from": since}
        out[(old_code, OLDEST)] = new_row | {
            "code": old_code,
            "name": change["old_name"],
            "valid_from": OLDEST,
            "valid_to": since,
            "successor_code": new_code if old_code != new_code else None,
        }
    return [out[k] for k in sorted(out)]


def industry_rows() -> list[dict[str, str | None]]:
    rows = _read_csv("gbt4754_2017.csv")
    parent = {r["code"]: r["parent_code"] for r in rows}
    out = []
    for r in rows:
        chain = [r["code"]]
        while parent.get(chain[-1]):
            chain.append(parent[chain[-1]])
        division = next((c for c in chain if len(c) == 2 and c.isdigit()), None)
        out.append(
            {
                "code": r["code"],
                "name": r["name"],
                "level": r["level"],
                "parent_code": r["parent_code"] or None,
                "section_code": chain[-1],
                "division_code": division,
            }
        )
    return out


def chain_industry_rows(chains_path: Path = REFERENCE_DIR / "chains.yaml") -> list[dict[str, str]]:
    chains = yaml.safe_load(chains_path.read_text(encoding="utf-8"))["chains"]
    industries = industry_rows()
    classes = [r for r in industries if r["level"] == "class"]
    known = {r["code"] for r in industries}
    out = []
    for chain in chains:
        for prefix in chain["industry_codes"]:
            if prefix not in known:
                raise ValueError(f"{chains_path}: chain {chain['code']}: {prefix!r} is not a GB/T 4754 code")
        for r in classes:
            if any(r["code"].startswith(p) for p in chain["industry_codes"]):
                out.append(
                    {
                        "chain_code": chain["code"],
                        "chain_name_zh": chain["name_zh"],
                        "industry_code": r["code"],
                        "industry_name": r["name"],
                        "section_code": r["section_code"],
                    }
                )
    return out


def chain_link_rows(chains_path: Path = REFERENCE_DIR / "chains.yaml") -> list[dict[str, str | int]]:
    """Chain → link (上游/中游/下游) → product category, in the order chains.yaml lists them."""
    chains = yaml.safe_load(chains_path.read_text(encoding="utf-8"))["chains"]
    out = []
    for chain in chains:
        unknown = sorted(set(chain["links"]) - set(LINK_ORDER))
        if unknown:
            raise ValueError(f"{chains_path}: chain {chain['code']}: unknown links {unknown}")
        for link, categories in chain["links"].items():
            for position, category in enumerate(categories, start=1):
                out.append(
                    {
                        "chain_code": chain["code"],
                        "chain_name_zh": chain["name_zh"],
                        "link": link,
                        "link_order": LINK_ORDER[link],
                        "product_category": category,
                        "category_order": position,
                    }
                )
    return out


def _frame(tables: LakeTables, contract: Contract, rows: list[dict]):
    dates = {c.name for c in contract.columns if c.type == "date"}
    typed = [{k: dt.date.fromisoformat(v) if k in dates and v else v for k, v in r.items()} for r in rows]
    return tables.spark.createDataFrame([Row(**r) for r in typed], struct_type(contract))


# silver.<table> → its rows, in load order
REFERENCE_ROWS = {
    "ref_region": region_rows,
    "ref_industry": industry_rows,
    "ref_chain_industry": chain_industry_rows,
    "ref_chain_link": chain_link_rows,
}


def reference_contracts() -> list[Contract]:
    """The contracts of the reference tables, in load order."""
    return [get_contract("silver", table) for table in REFERENCE_ROWS]


def load_reference(tables: LakeTables) -> dict[str, dict[str, int | bool]]:
    """Load every reference table; returns rows and whether each changed."""
    report = {}
    for contract in reference_contracts():
        rows = REFERENCE_ROWS[contract.table]()
        changed = tables.overwrite_if_changed(contract, _frame(tables, contract, rows))
        report[contract.name] = {"rows": len(rows), "changed": changed}
    return report
