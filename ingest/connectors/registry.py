"""市场监管 registry: incremental pulls (``updated_since``), pages landed before parsing.

Each pull saves every page to landing through the ingest ledger (source ``gov_registry``,
period = the pull date, unit = ``<HHMMSS>-p<page>``) and records itself in
``audit.api_pull_log`` with the watermark (the largest ``updated_at`` received), from which the
next pull continues. Bronze then parses the pages from landing like any delivery, so a backfill
of a past pull date replays from landing without calling the API.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass, field

from pyspark.sql import Row

from catalog import Contract, get_contract
from catalog.spark_schema import struct_type
from catalog.tables import LakeTables
from ibrain.retry import HttpRetryPolicy
from ibrain.settings import SettingsError
from ingest.connectors.http_pages import ApiError, PageFetcher
from ingest.ledger import Delivery, IngestLedger, utc_now

log = logging.getLogger(__name__)
SOURCE = "gov_registry"


def pull_log_contract() -> Contract:
    return get_contract("audit", "api_pull_log")


ENDPOINT = "/api/v1/enterprises"


@dataclass(frozen=True)
class RegistryApiConfig:
    base_url: str
    token: str
    page_size: int = 200
    retry: HttpRetryPolicy = field(default_factory=HttpRetryPolicy)

    @classmethod
    def from_env(cls) -> RegistryApiConfig | None:
        """From IBRAIN_REGISTRY_API_URL / _TOKEN; None when no API is configured. A URL without a
        token is an error: there is no default credential."""
        url = (os.environ.get("IBRAIN_REGISTRY_API_URL") or "").strip()
        if not url:
            return None
        token = (os.environ.get("IBRAIN_REGISTRY_API_TOKEN") or "").strip()
        if not token:
            raise SettingsError("IBRAIN_REGISTRY_API_URL is set but IBRAIN_REGISTRY_API_TOKEN is not")
        page_size = int(os.environ.get("IBRAIN_REGISTRY_PAGE_SIZE") or 200)
        return cls(url, token, page_size=page_size, retry=HttpRetryPolicy.from_env())


@dataclass
class PullReport:
    pull_id: str
    period: str
    updated_since: str | None
    watermark: str | None
    pages: int
    records: int
    retries: int
    landed: list[str]


def last_watermark(tables: LakeTables) -> str | None:
    """The watermark of the latest successful pull (None: never pulled, pull everything)."""
    pulls = tables.read("audit", "api_pull_log")
    rows = (
        pulls.filter("source = 'gov_registry' AND status = 'ok' AND watermark IS NOT NULL")
        .orderBy("started_at", ascending=False)
        .limit(1)
        .collect()
    )
    return rows[0].watermark if rows else None


def pull(tables: LakeTables, config: RegistryApiConfig, period: str | None = None) -> PullReport:
    """Pull every registration changed since the last watermark and land its pages."""
    started = utc_now()
    period = period or (started + dt.timedelta(hours=8)).date().isoformat()  # pull date in CST
    since = last_watermark(tables)
    report = PullReport(f"{period.replace('-', '')}-{started:%H%M%S}", period, since, since, 0, 0, 0, [])
    fetcher = PageFetcher(config.base_url, config.token, config.retry)
    deliveries = []
    try:
        for page, raw, body in fetcher.pages(
            ENDPOINT, {"updated_since": since} if since else {}, config.page_size
        ):
            report.pages += 1
            data = body.get("data") or []
            if not data:
                continue  # nothing changed: an empty page is no delivery (the pull log records it)
            unit = f"{started:%H%M%S}-p{page:04d}"
            deliveries.append(
                Delivery(SOURCE, f"gov_registry_{period.replace('-', '')}_{unit}.json", raw, unit, period)
            )
            report.records += len(data)
            for record in data:
                stamp = record.get("updated_at")
                if isinstance(stamp, str) and (report.watermark is None or _later(stamp, report.watermark)):
                    report.watermark = stamp
    except ApiError as exc:
        report.retries = fetcher.retries
        _log_pull(tables, report, started, "failed", str(exc))
        raise
    report.retries = fetcher.retries
    report.landed = IngestLedger(tables).land(deliveries).landed
    _log_pull(tables, report, started, "ok", None)
    log.info(
        "registry pull %s: %d pages, %d records, %d retries",
        report.pull_id,
        report.pages,
        report.records,
        report.retries,
    )
    return report


def _later(a: str, b: str) -> bool:
    return dt.datetime.fromisoformat(a) > dt.datetime.fromisoformat(b)


def _log_pull(
    tables: LakeTables, report: PullReport, started: dt.datetime, status: str, message: str | None
) -> None:
    row = Row(
        pull_id=report.pull_id,
        source=SOURCE,
        period=report.period,
        started_at=started,
        finished_at=utc_now(),
        updated_since=report.updated_since,
        watermark=report.watermark if status == "ok" else None,
        pages=report.pages,
        records=report.records,
        retries=report.retries,
        status=status,
        message=message,
    )
    contract = pull_log_contract()
    tables.append(contract, tables.spark.createDataFrame([row], struct_type(contract)))
