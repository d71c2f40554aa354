"""The catalog: table contracts (catalog/contracts), their loader, and what is derived from them."""

from catalog.contracts import (
    LEVEL_TAGS,
    LEVELS,
    Column,
    Contract,
    ContractError,
    QualityRule,
    get_contract,
    highest_level,
    load_catalog,
)

__all__ = [
    "LEVELS",
    "LEVEL_TAGS",
    "Column",
    "Contract",
    "ContractError",
    "QualityRule",
    "get_contract",
    "highest_level",
    "load_catalog",
]
