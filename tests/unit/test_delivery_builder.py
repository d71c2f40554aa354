"""The package builder's disclosure logic on hand-made rows (no engine): which atoms a cell covers,
one fate for cells of the same enterprises across packages, growth only between published cells,
and which columns may leave (every export contract)."""

from __future__ import annotations

import dataclasses
import re

import pytest

from serving.deliveries.builder import (
    Export,
    ExportDeclarationError,
    atoms_of,
    control,
    disclose,
    exports,
    payload_columns,
)
from serving.disclosure import Cell, derivable

# city × division × chain: Shenyang has cnc (division 34) and robots (35), Dalian the same
A, B, C, D = (
    ("210100", "34", "cnc"),
    ("210100", "35", "robots"),
    ("210200", "34", "cnc"),
    ("210200", "35", "robots"),
)
ATOMS = {A, B, C, D}
SIZES = {A: 10, B: 2, C: 10, D: 10}  # Shenyang's robots cell has 2 enterprises: primary suppression


def by_name() -> dict[str, Export]:
    return {e.dataset: e for e in exports("zhgl_platform")}


def economic_rows(key: str, sizes: dict) -> list[dict]:
    codes = {"chain_code": 2, "division_code": 1}
    return [
        {
            "city_code": atom[0],
            key: atom[codes[key]],
            "enterprise_count": n,
            "largest_share": 0.3,
            "gross_output": 100.0 * n,
            "gross_output_mom_pct": 1.5,
            "gross_output_yoy_pct": 2.5,
            "revenue_yoy_pct": 3.5,
        }
        for atom, n in sizes.items()
    ]


def indicator_rows(sizes: dict) -> list[dict]:
    cells = {
        ("210000", "all"): list(sizes),
        ("210100", "all"): [a for a in sizes if a[0] == "210100"],
        ("210200", "all"): [a for a in sizes if a[0] == "210200"],
        ("210000", "cnc"): [a for a in sizes if a[2] == "cnc"],
        ("210000", "robots"): [a for a in sizes if a[2] == "robots"],
        **{(a[0], a[2]): [a] for a in sizes},
    }
    rows = []
    for (region, chain), atoms in cells.items():
        n = sum(sizes[a] for a in atoms)
        for code in ("IND_OUTPUT", "IND_OUTPUT_MOM"):
            rows.append(
                {
                    "indicator_code": code,
                    "region_code": region,
                    "chain_code": chain,
                    "enterprise_count": n,
                    "largest_share": 0.3,
                    "value": float(n),
                }
            )
    return rows


def period_rows(sizes: dict) -> dict[Export, list[dict]]:
    e = by_name()
    return {
        e["economic_city_chain_month"]: economic_rows("chain_code", sizes),
        e["economic_city_division_month"]: economic_rows("division_code", sizes),
        e["indicator_value"]: indicator_rows(sizes),
    }


def test_a_cell_covers_the_atoms_its_key_matches() -> None:
    assert atoms_of({"city_code": "210100", "chain_code": "cnc"}, ATOMS) == {A}
    assert atoms_of({"city_code": "210100", "division_code": "35"}, ATOMS) == {B}
    assert atoms_of({"region_code": "210000", "chain_code": "cnc"}, ATOMS) == {A, C}  # province: every city
    assert atoms_of({"region_code": "210200", "chain_code": "all"}, ATOMS) == {C, D}  # all: every chain
    assert atoms_of({"region_code": "210300", "chain_code": "all"}, ATOMS) == frozenset()


def test_one_fate_for_the_same_enterprises_in_every_package_and_nothing_derivable() -> None:
    rows = period_rows(SIZES)
    result = control("2024-02", rows, ATOMS)
    # the primary cell (Shenyang robots, 2 enterprises) is hidden in all three packages
    assert result.suppressed("economic_city_chain_month", ("210100", "robots"))
    assert result.suppressed("economic_city_division_month", ("210100", "35"))
    assert result.suppressed("indicator_value", ("210100", "robots"))
    # cells over the same atoms share their fate, whichever package they are in
    fates: dict[frozenset, set[bool]] = {}
    for (package, key), atoms in result.cell_atoms.items():
        fates.setdefault(atoms, set()).add(result.suppressed(package, key))
    assert all(len(f) == 1 for f in fates.values()), fates
    # complementary suppression: Shenyang's total minus its cnc cell would give it away otherwise
    cells = [Cell("x", tuple(sorted(a)), a, 10) for a in fates]
    hidden = {("x", tuple(sorted(a))) for a, f in fates.items() if f == {True}}
    assert len(hidden) >= 2 and derivable(cells, hidden) == set()
    # as they leave: hidden cells' amounts null, the enterprise count stays
    shown, count = disclose(
        by_name()["economic_city_chain_month"],
        rows[by_name()["economic_city_chain_month"]],
        {"2024-02": result},
        "2024-02",
    )
    [robots] = [r for r in shown if r["city_code"] == "210100" and r["chain_code"] == "robots"]
    assert robots["gross_output"] is None and robots["gross_output_mom_pct"] is None
    assert robots["enterprise_count"] == 2 and count >= 1


def test_growth_leaves_only_between_two_published_cells() -> None:
    big = dict.fromkeys(ATOMS, 10)
    # January: Dalian's cnc cell has 2 enterprises. In a 2 × 2 table published with its city,
    # chain and province totals, hiding one inner cell takes all four (by hand: with three hidden,
    # the fourth follows from its row and column totals); the totals stay published.
    january = control("2024-01", period_rows({**big, C: 2}), ATOMS)
    for city, chain in [("210100", "cnc"), ("210100", "robots"), ("210200", "cnc"), ("210200", "robots")]:
        assert january.suppressed("economic_city_chain_month", (city, chain))
    for total in [("210000", "all"), ("210100", "all"), ("210200", "all"), ("210000", "cnc")]:
        assert not january.suppressed("indicator_value", total)
    february = control("2024-02", period_rows(big), ATOMS)  # nothing hidden in February
    assert not february.protection.suppressed
    controls = {"2024-01": january, "2024-02": february}

    chain = by_name()["economic_city_chain_month"]
    shown, hidden = disclose(chain, economic_rows("chain_code", big), controls, "2024-02")
    assert hidden == 0
    for row in shown:
        assert row["gross_output"] == 1000.0  # published itself
        assert row["gross_output_mom_pct"] is None  # January's cell is hidden
        assert row["gross_output_yoy_pct"] is None  # no February 2023 to compare with
    indicator = by_name()["indicator_value"]
    shown, _ = disclose(indicator, indicator_rows(big), controls, "2024-02")
    values = {(r["indicator_code"], r["region_code"], r["chain_code"]): r["value"] for r in shown}
    assert values[("IND_OUTPUT", "210200", "cnc")] == 10.0
    assert values[("IND_OUTPUT_MOM", "210200", "cnc")] is None
    assert values[("IND_OUTPUT_MOM", "210100", "all")] == 20.0  # Shenyang's total: both months published
    assert values[("IND_OUTPUT_MOM", "210000", "cnc")] == 20.0


def test_only_general_columns_and_declared_downgrades_leave_from_every_export() -> None:
    declared = exports()
    assert {(e.recipient, e.dataset) for e in declared} == {
        ("zhgl_platform", "economic_city_chain_month"),
        ("zhgl_platform", "economic_city_division_month"),
        ("zhgl_platform", "indicator_value"),
        ("gyhlw_platform", "connectivity_city_chain_month"),
        ("gyhlw_platform", "capacity_sharing_month"),
        ("gyhlw_platform", "chain_map"),
    }
    for e in declared:
        leaving = {c.name for c in payload_columns(e)}
        levels = {c.name: c.classification for c in e.contract.columns}
        assert all(levels[n] == "一般" or n in e.downgraded for n in leaving), e.dataset
        assert "largest_share" not in leaving and "核心" not in {levels[n] for n in leaving}
        assert e.contract.primary_key and e.period_column in levels
    economic = by_name()["economic_city_chain_month"]
    units = {c.name: c.unit for c in payload_columns(economic)}
    assert units["gross_output"] == "万元" and units["gross_output_mom_pct"] == "%"
    codes = {c.name: c.codes for c in payload_columns(economic)}
    assert re.fullmatch(
        r"试点产业链代码（catalog/reference/chains.yaml 版本 [0-9a-f]{12}）", codes["chain_code"]
    )


def test_a_core_column_never_leaves_even_when_declared() -> None:
    economic = by_name()["economic_city_chain_month"]
    columns = tuple(
        dataclasses.replace(c, classification="核心") if c.name == "gross_output" else c
        for c in economic.contract.columns
    )
    tampered = Export(dataclasses.replace(economic.contract, columns=columns), economic.spec)
    with pytest.raises(ExportDeclarationError, match="核心"):
        payload_columns(tampered)
