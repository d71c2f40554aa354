"""What the portal reads from the lake: enterprise ids of a USCC, quality scores, the indicator
library, and an enterprise's own records (一企一档).

Every read goes through the data service's own machinery — published contracts only, column names
from the contract, literals rendered by ``serving.query.literal``, grants and masking by
``serving.reads`` — so the portal shows nothing the API would not serve the same caller.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from catalog.contracts import Contract
from catalog.publishing import published, published_columns
from security.audit import trail
from security.db import transaction
from security.identity.accounts import Principal
from serving.engine import TableUnavailable
from serving.formats import rows
from serving.grants import grants_for
from serving.portal.access import enterprise_datasets
from serving.query import Filter, Request, literal, quote
from serving.reads import apply_masks, plan

if TYPE_CHECKING:
    from serving.api.app import Service

SCORECARD = "quality.dq_scorecard"
INDICATORS = "indicator.indicator_definition"
MAX_OWN_ROWS = 50


def enterprise_ids(service: Service, uscc: str) -> list[str]:
    """The enterprise ids the published enterprise datasets hold for ``uscc`` (those with a 一般
    ``uscc`` column beside their enterprise scope column)."""
    found: set[str] = set()
    for contract in enterprise_datasets(service.catalog):
        if "uscc" not in published_columns(contract) or contract.column("uscc").classification != "一般":
            continue
        api = contract.api
        assert api is not None
        column = api.scope["enterprise"]
        try:
            _version, handle = service.reader.latest(contract)
        except TableUnavailable:
            continue
        value = literal(contract.column("uscc"), uscc, "uscc")
        result = service.reader.query(
            handle, f'SELECT DISTINCT {quote(column)} AS id FROM t WHERE "uscc" = {value}'
        )
        found.update(str(v) for v in result.column("id").to_pylist() if v is not None)
    return sorted(found)


def quality_scores(service: Service) -> dict[str, tuple[str, float]]:
    """Each dataset's latest overall quality score (quality.dq_scorecard): dataset → (month, score)."""
    contract = service.catalog.get(SCORECARD)
    if contract is None or contract.api is None:
        return {}
    try:
        _version, handle = service.reader.latest(contract)
    except TableUnavailable:
        return {}
    result = service.reader.query(
        handle, "SELECT dataset, period, score FROM t WHERE dimension = 'overall' ORDER BY dataset, period"
    )
    scores: dict[str, tuple[str, float]] = {}
    for row in result.to_pylist():
        scores[row["dataset"]] = (str(row["period"])[:7], round(float(row["score"]), 1))
    return scores


def indicator_library(service: Service) -> tuple[list[str], list[dict[str, Any]]]:
    """The indicator definitions' 一般 columns (names in Chinese) and rows, in key order."""
    contract = service.catalog.get(INDICATORS)
    if contract is None or contract.api is None:
        return [], []
    columns = [c for c in published_columns(contract) if contract.column(c).classification == "一般"]
    try:
        _version, handle = service.reader.latest(contract)
    except TableUnavailable:
        return columns, []
    order = ", ".join(quote(c) for c in contract.primary_key)
    result = service.reader.query(
        handle, f"SELECT {', '.join(quote(c) for c in columns)} FROM t ORDER BY {order}"
    )
    return columns, rows(result)


@dataclass(frozen=True)
class OwnRecords:
    contract: Contract
    columns: list[str]
    masked: list[str]
    rows: list[dict[str, Any]]


def own_records(
    service: Service, principal: Principal, ids: list[str], client: str | None
) -> list[OwnRecords]:
    """The enterprise's rows (``ids``) of each published enterprise dataset, read as the API reads
    them for this caller (grants, masking; at most 50 rows each) and audited as ``data.read``."""
    now = dt.datetime.now(dt.UTC)
    found = []
    for contract in enterprise_datasets(service.catalog):
        api = contract.api
        assert api is not None
        column = api.scope["enterprise"]
        try:
            version, handle = service.reader.latest(contract)
        except TableUnavailable:
            continue
        literals = tuple(literal(contract.column(column), i, "enterprise") for i in ids)
        request = Request((Filter(column, "in", literals, "enterprise"),), (), MAX_OWN_ROWS, "json", None)
        with transaction(service.db) as session:
            grants = grants_for(
                session, principal=principal.name, org=principal.org, dataset=contract.name, now=now
            )
        page_plan = plan(contract, request, grants, 0)
        result = service.reader.query(handle, page_plan.select_sql)
        page, outside = apply_masks(contract, result, page_plan.seen, service.masking_secret)
        masked = sorted({*page_plan.seen.masked, *outside})
        with transaction(service.db) as session:
            trail.record(
                session,
                actor=principal.actor(),
                event_type="data.read",
                object=contract.name,
                result="success",
                request_id=uuid.uuid4().hex,
                client=client,
                params={
                    "interface": "portal",
                    "version": version,
                    "filters": [f"{column} in {','.join(ids)}"],
                    "columns": page_plan.seen.served,
                    "masked": masked,
                    "withheld": list(page_plan.seen.withheld),
                    "scope": [g.summary() for g in grants],
                    "rows": page.num_rows,
                },
            )
        found.append(OwnRecords(contract, page_plan.seen.served, masked, rows(page)))
    return found


def products(service: Service) -> list[Contract]:
    return published(service.catalog)
