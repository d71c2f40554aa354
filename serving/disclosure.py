"""Statistical disclosure control for aggregates that leave as 一般 through a declared downgrade.

Why: a cell summing the 重要 amounts of a few enterprises, or dominated by one, tells a reader
that enterprise's figure (issue 15). Primary suppression hides such cells: fewer than
``min_contributors`` enterprises, or the largest one holding more than ``dominance`` of the cell.
That alone is not enough — a suppressed cell is recomputed from a published total minus the
published cells beside it — so complementary suppression hides further cells until no suppressed
cell is a linear combination of published ones, across every package of one period (a city's
total is the same in the city × chain and the city × division packages).

The model: every published cell is the sum of *atoms* (the finest partition of the enterprises'
amounts, e.g. city × division × chain), so a package family is a 0/1 matrix, cells × atoms. A
suppressed cell is derivable exactly when its row lies in the row space of the published rows;
``derivable`` tests that with exact rational elimination (no float tolerance). Growth rates are
not cells: a MoM/YoY rate may be published only when the cell and the cell it is compared with
are both published (``growth_publishable``), otherwise value = other × (1 + rate) undoes it.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

MIN_CONTRIBUTORS = 5
DOMINANCE = 0.85

CellId = tuple[str, tuple[Hashable, ...]]  # (package, key)


@dataclass(frozen=True)
class Cell:
    """One published aggregate: which package, its key, the atoms it sums, how many enterprises
    contribute, the largest contribution's share, and its (main) value — the value only ranks
    candidates for complementary suppression (hide the smallest first)."""

    package: str
    key: tuple[Hashable, ...]
    atoms: frozenset[Hashable]
    contributors: int
    largest_share: float | None = None
    value: float = 0.0

    @property
    def id(self) -> CellId:
        return (self.package, self.key)


@dataclass(frozen=True)
class Rule:
    """The primary-suppression thresholds (defaults: n < 5, largest > 85 %)."""

    min_contributors: int = MIN_CONTRIBUTORS
    dominance: float = DOMINANCE

    def primary_reason(self, cell: Cell) -> str | None:
        if cell.contributors < self.min_contributors:
            return f"primary: {cell.contributors} enterprises (< {self.min_contributors})"
        if cell.largest_share is not None and cell.largest_share > self.dominance:
            return (
                f"primary: largest enterprise {cell.largest_share:.0%} of the cell (> {self.dominance:.0%})"
            )
        return None


@dataclass
class Protection:
    """Why each suppressed cell is suppressed (primary or complementary)."""

    reasons: dict[CellId, str] = field(default_factory=dict)

    @property
    def suppressed(self) -> set[CellId]:
        return set(self.reasons)

    def is_suppressed(self, package: str, key: tuple[Hashable, ...]) -> bool:
        return (package, key) in self.reasons


class _Basis:
    """Row-reduced basis of sparse rational vectors (atom index → coefficient)."""

    def __init__(self) -> None:
        self.rows: dict[int, dict[int, Fraction]] = {}  # pivot (smallest index) → row, pivot coeff 1

    def reduce(self, vector: Mapping[int, Fraction]) -> dict[int, Fraction]:
        v = {k: c for k, c in vector.items() if c}
        while True:
            pivots = [k for k in v if k in self.rows]
            if not pivots:
                return v
            p = min(pivots)
            factor = v[p]
            for k, c in self.rows[p].items():  # every k ≥ p: the loop only moves rightwards
                value = v.get(k, Fraction(0)) - factor * c
                if value:
                    v[k] = value
                else:
                    v.pop(k, None)

    def add(self, vector: Mapping[int, Fraction]) -> bool:
        v = self.reduce(vector)
        if not v:
            return False
        p = min(v)
        lead = v[p]
        self.rows[p] = {k: c / lead for k, c in v.items()}
        return True


def _vectors(cells: Iterable[Cell]) -> dict[CellId, dict[int, Fraction]]:
    index: dict[Hashable, int] = {}
    out = {}
    for cell in cells:
        out[cell.id] = {index.setdefault(a, len(index)): Fraction(1) for a in cell.atoms}
    return out


def derivable(cells: Iterable[Cell], suppressed: set[CellId]) -> set[CellId]:
    """The suppressed cells whose value is a linear combination of the published cells' values."""
    cells = list(cells)
    vectors = _vectors(cells)
    basis = _Basis()
    for cell in cells:
        if cell.id not in suppressed:
            basis.add(vectors[cell.id])
    return {cid for cid in suppressed if cid in vectors and not basis.reduce(vectors[cid])}


def protect(cells: Iterable[Cell], rule: Rule = Rule()) -> Protection:
    """Primary suppression, then complementary suppression until no suppressed cell is derivable.

    Greedy and monotone: while some suppressed cell is derivable, hide the first published cell
    near it (sharing a row, column or total; inner and small cells before margins) whose hiding
    makes it non-derivable (or, when no single cell does, the first near cell, and look again).
    Hiding more never makes a cell derivable, so the loop ends, at the latest with all hidden.
    """
    cells = [c for c in cells if c.atoms]
    protection = Protection()
    for cell in cells:
        reason = rule.primary_reason(cell)
        if reason:
            protection.reasons[cell.id] = reason
    by_id = {c.id: c for c in cells}
    while True:
        exposed = sorted(derivable(cells, protection.suppressed), key=str)
        if not exposed:
            return protection
        target = by_id[exposed[0]]
        # Candidates: published cells that meet the target through a shared cell (its row, its
        # column, a total); margins and cells containing the target last, small ones first.
        near = {a for c in cells if c.atoms & target.atoms for a in c.atoms}
        candidates = sorted(
            (c for c in cells if c.id not in protection.reasons and c.atoms & near),
            key=lambda c: (c.atoms >= target.atoms, len(c.atoms), c.value, str(c.id)),
        )
        chosen = candidates[0]
        for candidate in candidates:
            trial = protection.suppressed | {candidate.id}
            if target.id not in derivable(cells, trial):
                chosen = candidate
                break
        protection.reasons[chosen.id] = f"complementary: protects {target.package} {target.key}"


def growth_publishable(current: CellId, compared: CellId | None, suppressed: set[CellId]) -> bool:
    """A growth rate of ``current`` against ``compared`` may leave only if neither is suppressed
    (and the compared cell existed): otherwise one cell's value follows from the other's."""
    return compared is not None and current not in suppressed and compared not in suppressed
