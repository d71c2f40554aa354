"""Disclosure control: primary and complementary suppression, and an attacker's attempt to derive
every suppressed cell from what is published (linear algebra and linear programming, numpy/scipy —
independent of the library's exact elimination)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from scipy.optimize import linprog

from serving.disclosure import Cell, Rule, derivable, growth_publishable, protect


def _table_with_totals(values: dict[tuple[str, str], tuple[int, float]]) -> list[Cell]:
    """A two-way table: inner cells (r, c), row totals, column totals and the grand total."""
    cells = []
    rows = sorted({r for r, _ in values})
    cols = sorted({c for _, c in values})
    for (r, c), (n, v) in values.items():
        cells.append(Cell("t", (r, c), frozenset({(r, c)}), n, 0.5, v))
    for r in rows:
        n = sum(values[(r, c)][0] for c in cols)
        cells.append(
            Cell("t", (r, "*"), frozenset((r, c) for c in cols), n, 0.3, sum(values[(r, c)][1] for c in cols))
        )
    for c in cols:
        n = sum(values[(r, c)][0] for r in rows)
        cells.append(
            Cell("t", ("*", c), frozenset((r, c) for r in rows), n, 0.3, sum(values[(r, c)][1] for r in rows))
        )
    cells.append(Cell("t", ("*", "*"), frozenset(values), 99, 0.1, sum(v for _, v in values.values())))
    return cells


def test_one_small_cell_in_a_table_with_totals_needs_a_rectangle() -> None:
    # Worked by hand: (a, x) has 2 enterprises. Row total minus (a, y), (a, z) gives it back, and so
    # does column total minus (b, x): no single hidden cell protects it, so the smallest near inner
    # cell goes, (b, y) = 20, then (b, x) = 30 (still no single cell suffices), then (a, y) closes
    # the rectangle {a, b} × {x, y}: every row and column holding a hidden cell holds two, and the
    # totals stay published.
    values = {
        ("a", "x"): (2, 10.0),
        ("a", "y"): (9, 50.0),
        ("a", "z"): (8, 40.0),
        ("b", "x"): (7, 30.0),
        ("b", "y"): (6, 20.0),
        ("b", "z"): (9, 90.0),
    }
    protection = protect(_table_with_totals(values))
    assert protection.reasons[("t", ("a", "x"))].startswith("primary: 2 enterprises")
    assert protection.suppressed == {
        ("t", ("a", "x")),
        ("t", ("a", "y")),
        ("t", ("b", "x")),
        ("t", ("b", "y")),
    }
    assert derivable(_table_with_totals(values), protection.suppressed) == set()


def test_dominance_is_primary() -> None:
    rule = Rule()
    assert rule.primary_reason(Cell("p", ("k",), frozenset({1}), 12, 0.86, 1.0)).startswith(
        "primary: largest"
    )
    assert rule.primary_reason(Cell("p", ("k",), frozenset({1}), 12, 0.85, 1.0)) is None
    assert rule.primary_reason(Cell("p", ("k",), frozenset({1}), 5, None, 1.0)) is None
    assert rule.primary_reason(Cell("p", ("k",), frozenset({1}), 4, None, 1.0)) is not None


def test_growth_rates_leave_only_between_published_cells() -> None:
    hidden = {("p", ("2024-02",))}
    assert growth_publishable(("p", ("2024-03",)), ("p", ("2024-02",)), hidden) is False
    assert growth_publishable(("p", ("2024-02",)), ("p", ("2024-01",)), hidden) is False
    assert growth_publishable(("p", ("2024-03",)), ("p", ("2024-01",)), hidden) is True
    assert growth_publishable(("p", ("2024-03",)), None, hidden) is False


def _family(seed: int) -> tuple[list[Cell], dict[tuple, float]]:
    """One period's packages over city × division × chain atoms: city × chain, city × division,
    per-chain province totals (another package) and the province total."""
    rng = random.Random(seed)
    cities, divisions, chains = (
        [f"c{i}" for i in range(5)],
        [f"d{i}" for i in range(4)],
        ["ch1", "ch2", "none"],
    )
    atoms = {}
    for city in cities:
        for division in divisions:
            for chain in chains:
                if rng.random() < 0.8:
                    enterprises = [
                        rng.lognormvariate(3, 1.2) for _ in range(rng.choice([1, 1, 2, 3, 4, 6, 9, 15]))
                    ]
                    atoms[(city, division, chain)] = enterprises

    def cell(package: str, key: tuple, members: list[tuple]) -> Cell | None:
        amounts = [x for m in members for x in atoms[m]]
        if not amounts:
            return None
        return Cell(package, key, frozenset(members), len(amounts), max(amounts) / sum(amounts), sum(amounts))

    cells = []
    for city in cities:
        for chain in chains:
            cells.append(
                cell("city_chain", (city, chain), [a for a in atoms if a[0] == city and a[2] == chain])
            )
        for division in divisions:
            cells.append(
                cell(
                    "city_division", (city, division), [a for a in atoms if a[0] == city and a[1] == division]
                )
            )
    for chain in chains:
        cells.append(cell("province_chain", (chain,), [a for a in atoms if a[2] == chain]))
    cells.append(cell("province", (), list(atoms)))
    return [c for c in cells if c is not None], {a: sum(v) for a, v in atoms.items()}


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_no_suppressed_cell_is_derivable_by_an_attacker(seed: int) -> None:
    cells, truth = _family(seed)
    protection = protect(cells)
    primary = {cid for cid, why in protection.reasons.items() if why.startswith("primary")}
    assert primary, "the family must contain small cells, or the test proves nothing"
    atom_index = {a: i for i, a in enumerate(sorted(truth))}

    def row(c: Cell) -> np.ndarray:
        r = np.zeros(len(atom_index))
        for a in c.atoms:
            r[atom_index[a]] = 1.0
        return r

    published = [c for c in cells if c.id not in protection.suppressed]
    hidden = [c for c in cells if c.id in protection.suppressed]
    a = np.array([row(c) for c in published])
    b = np.array([c.value for c in published])
    # 1. exact: a hidden cell s·x is determined by A x = b iff s is orthogonal to the null space of A.
    _, singular, vt = np.linalg.svd(a)
    rank = int((singular > 1e-9).sum())
    null_space = vt[rank:]
    # 2. bounds: with x ≥ 0 the attacker gets an interval; it must not collapse to the value.
    for c in hidden:
        s = row(c)
        assert np.abs(null_space @ s).max() > 1e-6, f"{c.id} is determined by the published cells"
        low = linprog(s, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
        high = linprog(-s, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
        assert low.status == 0 and high.status in (0, 3)  # 3: unbounded above, nothing pins it
        upper = np.inf if high.status == 3 else -high.fun
        assert upper - low.fun > 1e-6 * max(1.0, c.value), f"{c.id} pinned to {low.fun}"
        assert low.fun - 1e-6 <= c.value <= upper + 1e-6
    # And the control does work: without complementary suppression an attacker would succeed.
    s_rows = [row(c) for c in cells if c.id in primary]
    bare = np.array([row(c) for c in cells if c.id not in primary])
    _, sv, vt2 = np.linalg.svd(bare)
    ns = vt2[int((sv > 1e-9).sum()) :]
    assert any(np.abs(ns @ s).max() < 1e-9 for s in s_rows) or len(primary) == len(cells)
