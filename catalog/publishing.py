"""What may be published as a data-service API product, and the masking rules' syntax.

A contract's ``api`` block publishes its table at ``/v<version>/<layer>/<table>`` (serving/api;
docs/architecture.md: security and serving). This module is the catalog check over those blocks:
only gold, theme, topic, indicator and quality tables are publishable (nothing of silver, bronze,
quarantine or audit); every column the block names exists, is not 核心 and is not excluded; the
primary key (the paging order) and the row-scope columns are 一般; and every 重要 column it
publishes states its masking rule, which must be one this module knows.

Masking rules (applied by ``serving/masking.py`` to a 重要 value served without a grant):

- ``none`` — withheld: the column is left out of the response.
- ``suppress`` — the column is kept, every value is null.
- ``hash`` — HMAC-SM3 of the value's text under the masking key (hex); equal values stay equal.
- ``round_10k`` — rounded half away from zero to a multiple of 10,000 **in the column's declared
  unit** (``unit: 元`` → 1万元 steps; ``unit: 万元`` → 1亿元 steps). The unit is required: a 万元
  column rounded to 10,000 元 would be rounded to whole 万元, which masks nothing.
- ``keep_ends:<a>:<b>`` — the first ``a`` and last ``b`` characters kept, each other character
  replaced by ``*``; a value of at most ``a + b`` characters becomes all ``*``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from catalog.contracts import Contract

PUBLISHABLE_LAYERS = ("gold", "theme", "topic", "indicator", "quality")
NUMERIC = re.compile(r"^(int|bigint|double|decimal\(\d+,\d+\))$")
KEEP_ENDS = re.compile(r"^keep_ends:(\d{1,2}):(\d{1,2})$")
SIMPLE_RULES = ("none", "suppress", "hash", "round_10k")


class MaskingRuleError(ValueError):
    """A masking rule that is not one of the known rules."""


@dataclass(frozen=True)
class MaskingRule:
    name: str  # none | suppress | hash | round_10k | keep_ends
    keep_first: int = 0
    keep_last: int = 0

    @property
    def withholds(self) -> bool:
        return self.name == "none"


def parse_masking(text: str) -> MaskingRule:
    """The rule named by a contract's ``masking`` text; :class:`MaskingRuleError` when unknown."""
    if text in SIMPLE_RULES:
        return MaskingRule(text)
    found = KEEP_ENDS.match(text)
    if found:
        return MaskingRule("keep_ends", int(found.group(1)), int(found.group(2)))
    raise MaskingRuleError(
        f"unknown masking rule {text!r}: expected none, suppress, hash, round_10k or keep_ends:<a>:<b>"
    )


def masking_problems(contract: Contract) -> list[str]:
    """Every column's masking rule is known and fits the column (any contract, published or not)."""
    problems = []
    for col in contract.columns:
        where = f"{contract.name}.{col.name}"
        try:
            rule = parse_masking(col.masking)
        except MaskingRuleError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if rule.name == "round_10k":
            if not NUMERIC.match(col.type):
                problems.append(f"{where}: round_10k needs a numeric column, not {col.type}")
            if not col.unit:
                problems.append(f"{where}: round_10k rounds to 10,000 of the column's unit: declare `unit`")
        if rule.name == "keep_ends" and col.type != "string":
            problems.append(f"{where}: keep_ends needs a string column, not {col.type}")
    return problems


def published_columns(contract: Contract) -> list[str]:
    """The columns an API product may ever return: not 核心, not excluded (order of the contract)."""
    api = contract.api
    excluded = set(api.exclude) if api else set()
    return [c.name for c in contract.columns if c.classification != "核心" and c.name not in excluded]


def api_problems(contract: Contract) -> list[str]:
    """What is wrong with ``contract``'s ``api`` block (empty when it has none or it is sound)."""
    api = contract.api
    if api is None:
        return []
    name = contract.name
    if contract.layer not in PUBLISHABLE_LAYERS:
        layers = ", ".join(PUBLISHABLE_LAYERS)
        return [f"{name}: the {contract.layer} layer is never published (only {layers})"]
    problems: list[str] = []
    columns = {c.name: c for c in contract.columns}
    published = set(published_columns(contract))

    def check(role: str, column: str, level: str | None = None) -> None:
        if column not in columns:
            problems.append(f"{name}: api {role} names unknown column {column!r}")
        elif column not in published:
            problems.append(f"{name}: api {role} names {column!r}, which is 核心 or excluded")
        elif level and columns[column].classification != level:
            problems.append(f"{name}: api {role} column {column!r} must be {level}")

    for column in api.exclude:
        if column not in columns:
            problems.append(f"{name}: api exclude names unknown column {column!r}")
    for column in api.filters:
        check("filter", column)
    for column in api.sort:
        check("sort", column)
    for dimension, column in api.scope.items():
        check(f"scope {dimension}", column, "一般")
    if api.as_of:
        check("as_of", api.as_of, "一般")
    if not contract.primary_key:
        problems.append(f"{name}: a published table needs a primary key (the paging order)")
    for column in contract.primary_key:
        check("primary key (paging order)", column, "一般")
    if not api.default_page_size <= api.max_page_size <= 1000:
        problems.append(f"{name}: api page sizes must satisfy default ≤ max ≤ 1000")
    for col in contract.columns:
        if col.name in published and col.classification == "重要" and not col.masking_declared:
            problems.append(
                f"{name}.{col.name}: a published 重要 column must state its masking rule "
                "(none = withheld without a grant)"
            )
    return problems + masking_problems(contract)


def catalog_api_problems(catalog: dict[str, Contract]) -> list[str]:
    """The catalog check over every contract: API blocks and masking rules (empty = sound)."""
    problems: list[str] = []
    for contract in catalog.values():
        problems += api_problems(contract) if contract.api else masking_problems(contract)
    return problems


def published(catalog: dict[str, Contract]) -> list[Contract]:
    """The contracts published as API products (in catalog order)."""
    return [c for c in catalog.values() if c.api is not None and c.layer in PUBLISHABLE_LAYERS]
