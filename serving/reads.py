"""One read of an API product: visibility by grade and grant, the SQL, masking (issue 14).

Sharing by grade, per column (grades live in the contracts):

- 一般: any registered app sees it.
- 重要: clear only on rows a live grant covering the column scopes in; elsewhere masked by the
  column's rule, or withheld (left out, or null on rows out of scope) when the rule is ``none``.
- 核心: never selected, so it cannot appear in any response.

The grants' row scopes become SQL predicates: one boolean column per grant, selected beside the
data, tells on which rows its columns are clear — the scope is part of the query. A filter or a
sort on a 重要 column is refused (403 naming it) unless a grant covers the column; when one does,
the query is restricted to the rows its grants cover, so the condition never runs over masked rows
(otherwise a mask could be undone by binary search).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from catalog.contracts import Column, Contract
from catalog.publishing import parse_masking, published_columns
from serving.grants import GrantScope
from serving.masking import mask_array
from serving.query import Request, literal, quote

FLAG = "__grant_{}"


class Refused(PermissionError):
    """A condition on a column the caller does not see in clear (a 403 naming the column)."""

    def __init__(self, parameter: str, column: str) -> None:
        super().__init__(f"{parameter}: {column} is masked or withheld for you; conditions on it are refused")
        self.parameter = parameter
        self.column = column


@dataclass(frozen=True)
class Visibility:
    """How each published column is served to this caller."""

    clear: tuple[str, ...]  # 一般 columns
    granted: dict[str, tuple[int, ...]]  # 重要 column -> indexes of the grants covering it
    masked: tuple[str, ...]  # 重要 columns without any grant, masked by their rule
    withheld: tuple[str, ...]  # 重要 columns without any grant whose rule is none

    @property
    def served(self) -> list[str]:
        return [*self.clear, *self.granted, *self.masked]


def visibility(contract: Contract, grants: tuple[GrantScope, ...]) -> Visibility:
    clear, masked, withheld = [], [], []
    granted: dict[str, tuple[int, ...]] = {}
    for name in published_columns(contract):
        col = contract.column(name)
        if col.classification == "一般":
            clear.append(name)
            continue
        covering = tuple(i for i, g in enumerate(grants) if name in g.columns)
        if covering:
            granted[name] = covering
        elif parse_masking(col.masking).withholds:
            withheld.append(name)
        else:
            masked.append(name)
    return Visibility(tuple(clear), granted, tuple(masked), tuple(withheld))


def scope_predicate(contract: Contract, grant: GrantScope) -> str:
    """The rows ``grant`` covers, as SQL over the contract's scope columns (FALSE when the grant
    restricts a dimension this dataset has no column for)."""
    api = contract.api
    assert api is not None
    parts: list[str] = []
    for dimension, values in (
        ("city", grant.cities),
        ("chain", grant.chains),
        ("enterprise", grant.enterprises),
    ):
        if values is None:
            continue
        column = api.scope.get(dimension)
        if column is None or not values:
            return "FALSE"
        col = contract.column(column)
        parts.append(f"{quote(column)} IN ({', '.join(literal(col, v, 'grant') for v in values)})")
    for bound, operator in ((grant.period_from, ">="), (grant.period_to, "<=")):
        if bound is None:
            continue
        if api.as_of is None:
            return "FALSE"
        parts.append(f"{quote(api.as_of)} {operator} DATE '{bound.isoformat()}'")
    return " AND ".join(f"({p})" for p in parts) if parts else "TRUE"


@dataclass
class Plan:
    """The SQL of one page and of its total count, and what the caller sees."""

    select_sql: str
    count_sql: str
    seen: Visibility
    grant_flags: list[str] = field(default_factory=list)
    restricted_to_grants: bool = False


def plan(contract: Contract, request: Request, grants: tuple[GrantScope, ...], offset: int) -> Plan:
    seen = visibility(contract, grants)
    conditions = [f.sql() for f in request.filters]
    needs_grant: set[tuple[int, ...]] = set()
    for parameter, column in [(f.parameter, f.column) for f in request.filters] + [
        ("sort", column) for column, _ in request.sort
    ]:
        if column in seen.clear:
            continue
        if column not in seen.granted:
            raise Refused(parameter, column)
        needs_grant.add(seen.granted[column])
    predicates = [scope_predicate(contract, g) for g in grants]
    for group in needs_grant:
        conditions.append("(" + " OR ".join(f"({predicates[i]})" for i in group) + ")")
    where = (" WHERE " + " AND ".join(f"({c})" for c in conditions)) if conditions else ""
    used = sorted({i for covering in seen.granted.values() for i in covering})
    flags = [f"({predicates[i]}) AS {FLAG.format(i)}" for i in used]
    columns = ", ".join([quote(c) for c in seen.served] + flags)
    order_columns = list(request.sort) + [(c, False) for c in contract.primary_key]
    seen_order: set[str] = set()
    order = []
    for column, descending in order_columns:
        if column not in seen_order:
            seen_order.add(column)
            order.append(f"{quote(column)} {'DESC' if descending else 'ASC'} NULLS LAST")
    page = f"LIMIT {request.page_size} OFFSET {offset}"
    select_sql = f"SELECT {columns} FROM t{where} ORDER BY {', '.join(order)} {page}"
    return Plan(
        select_sql=select_sql,
        count_sql=f"SELECT count(*) AS n FROM t{where}",
        seen=seen,
        grant_flags=[FLAG.format(i) for i in used],
        restricted_to_grants=bool(needs_grant),
    )


def apply_masks(
    contract: Contract, result: pa.Table, seen: Visibility, secret: bytes
) -> tuple[pa.Table, list[str]]:
    """The page as served — 重要 values masked where no grant covers their row, flags dropped — and
    the granted columns that were masked on some row of it (outside their grants' scope)."""
    arrays, names, partly = [], [], []
    for name in seen.served:
        col: Column = contract.column(name)
        values = result.column(name).combine_chunks()
        if name in seen.granted:
            flags = [result.column(FLAG.format(i)).to_pylist() for i in seen.granted[name]]
            clear = [any(bool(f[row]) for f in flags) for row in range(result.num_rows)]
            values = mask_array(col, values, clear, secret)
            if not all(clear):
                partly.append(name)
        elif name in seen.masked:
            values = mask_array(col, values, None, secret)
        arrays.append(values)
        names.append(name)
    return pa.table(arrays, names=names), partly
