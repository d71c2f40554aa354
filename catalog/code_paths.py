"""Where the code that writes a table lives, found from the table's name in one step.

:func:`code_path` derives a repo-relative path from the contract (layer, table, ``produced_by``)
by the rules below, so the contracts stay the one source of truth: a new table needs no entry
here as long as its code is named after it (a ``code:`` field in every contract would only repeat
what the names already say, and could drift from them). ``ibrain catalog show`` and the data map print the
path; tests/unit/test_code_paths.py checks, for every contract, that the file exists and writes
that table. The catalog is below ingest and transforms (docs/architecture.md), so the paths are
plain strings: nothing here imports those modules.

By ``produced_by``:

- ``dbt``: the model ``transforms/dbt/models/<layer>/<table>.sql``, or the seed
  ``transforms/dbt/seeds/<table>.csv`` when the table is one (:func:`catalog.dbt_yaml.is_seed`).
- ``pyspark``, silver: a silver *entity* (a table with a ``quarantine.silver_<table>``: bronze
  rows typed, checked and resolved by the silver framework) is defined in
  ``transforms/silver/entities/<table>.py``, and so is its quarantine table; any other silver
  table is built by ``transforms/silver/<table>.py``.
- ``pyspark``, quality: ``quality/store.py`` writes results, scorecard and issues together.
- ``ingest``: bronze tables are loaded by the generic loader (ingest/bronze.py) as the source's
  definition says, and that definition is the bronze contract's ``ingest`` block (format, file
  names, grain; see ingest/sources): the code of ``bronze.<source>``, of
  ``quarantine.bronze_<source>`` (what its parser rejects) and of the landing files is
  ``catalog/contracts/bronze/<source>.yaml``.
- ``reference``: ``ingest/reference.py`` loads every reference table from repo CSV/YAML.

:data:`OVERRIDES` names the few tables whose module is named after what it keeps rather than the
table (the audit tables of ingest).
"""

from __future__ import annotations

from collections.abc import Mapping

from catalog.contracts import CONTRACTS_DIR, Contract, load_catalog
from catalog.dbt_yaml import is_seed
from ibrain.settings import REPO_ROOT

OVERRIDES: dict[str, str] = {
    "audit.ingest_ledger": "ingest/ledger.py",  # the ledger and landing
    "audit.api_pull_log": "ingest/connectors/registry.py",  # the registry API's pulls
    "audit.security_trail": "security/audit/lake_copy.py",  # the state database's audit trail
}
CONTRACTS = CONTRACTS_DIR.relative_to(REPO_ROOT).as_posix()


class NoCodePathError(LookupError):
    """No rule or override says where a table's code lives."""


def code_path(contract: Contract, catalog: Mapping[str, Contract] | None = None) -> str:
    """The repo-relative path of the code that writes ``contract``'s table (``catalog``: every
    contract, to tell silver entities by their quarantine table; the loaded catalog by default)."""
    if contract.name in OVERRIDES:
        return OVERRIDES[contract.name]
    catalog = load_catalog() if catalog is None else catalog
    layer, table = contract.layer, contract.table
    if contract.produced_by == "dbt":
        if is_seed(contract):
            return f"transforms/dbt/seeds/{table}.csv"
        return f"transforms/dbt/models/{layer}/{table}.sql"
    if contract.produced_by == "reference":
        return "ingest/reference.py"
    if layer == "bronze" and contract.ingest is not None:
        return source_definition_path(table)
    if layer == "quarantine":  # quarantine.<layer>_<table> holds the rows <layer>.<table> rejects
        origin_layer, _, origin = table.partition("_")
        origin_contract = catalog.get(f"{origin_layer}.{origin}")
        if origin_contract is not None and origin_layer in ("bronze", "silver"):
            return code_path(origin_contract, catalog)
    if layer == "silver" and contract.produced_by == "pyspark":
        if f"quarantine.silver_{table}" in catalog:
            return f"transforms/silver/entities/{table}.py"
        return f"transforms/silver/{table}.py"
    if layer == "quality":
        return "quality/store.py"
    raise NoCodePathError(
        f"no rule says where the code of {contract.name} (produced by {contract.produced_by}) lives; "
        "name its module after the table or add it to catalog/code_paths.py OVERRIDES"
    )


def source_definition_path(source: str) -> str:
    """The bronze contract whose ``ingest`` block defines ``source`` (its landing files too)."""
    return f"{CONTRACTS}/bronze/{source}.yaml"
