"""The registry connector against the simulated registry API: a real HTTP server on loopback."""

import datetime as dt
from pathlib import Path

import pytest

from catalog.tables import LakeTables
from ibrain.retry import HttpRetryPolicy
from ingest.bronze import load
from ingest.connectors.http_pages import ApiError
from ingest.connectors.registry import RegistryApiConfig, pull
from ingest.ledger import IngestLedger
from simulators import registry_api, simulate
from simulators.world import CST

pytestmark = pytest.mark.integration
FAST = HttpRetryPolicy(attempts=12, backoff_seconds=0.001, max_wait_seconds=0.01)


@pytest.fixture
def registry(tmp_path: Path):
    simulation = simulate(tmp_path / "sim", 0.05, 11, "2024-01:2024-12", sources=("gov_registry",))
    api = registry_api(
        simulation.registry_path, "secret-token", dt.datetime(2024, 6, 30, tzinfo=CST), error_rate=0.4, seed=3
    )
    api.start()
    yield api
    api.stop()


def changed(api, since: dt.datetime | None, until: dt.datetime) -> list[dict]:
    """The registration versions the API's change log holds for (since, until]."""
    return [r for r in api.records if r["_at"] <= until and (since is None or r["_at"] > since)]


def bronze_rows(tables: LakeTables) -> list[tuple]:
    df = tables.read("bronze", "gov_registry")
    return sorted(tuple(r) for r in df.drop("_unmapped").collect())


def test_pulls_pages_through_errors_then_only_what_changed(tmp_lake: LakeTables, registry) -> None:
    config = RegistryApiConfig(registry.url, "secret-token", page_size=25, retry=FAST)
    first = pull(tmp_lake, config, "2024-06-30")
    expected = changed(registry, None, registry.as_of)
    assert first.records == len(expected) and first.pages == -(-len(expected) // 25) > 1
    assert registry.errors > 0 and first.retries == registry.errors  # every 429/503 was retried
    assert len(first.landed) == first.pages
    report = load(tmp_lake, "gov_registry")
    assert report.rows_bronze == len(expected)
    stamps = sorted(r.updated_at for r in tmp_lake.read("bronze", "gov_registry").collect())
    assert stamps == sorted(r["updated_at"] for r in expected)

    registry.set_as_of(dt.datetime(2024, 12, 31, tzinfo=CST))
    second = pull(tmp_lake, config, "2024-12-31")
    assert second.updated_since == first.watermark
    delta = changed(registry, dt.datetime.fromisoformat(first.watermark), registry.as_of)
    assert 0 < second.records == len(delta) < len(expected)

    log = tmp_lake.read("audit", "api_pull_log").orderBy("started_at").collect()
    assert [(r.status, r.records, r.updated_since) for r in log] == [
        ("ok", first.records, None),
        ("ok", second.records, first.watermark),
    ]
    third = pull(tmp_lake, config, "2024-12-31")  # nothing changed since: no page is landed
    assert third.records == 0 and third.landed == []


def test_backfill_replays_from_landing_without_the_api(tmp_lake: LakeTables, registry) -> None:
    config = RegistryApiConfig(registry.url, "secret-token", page_size=40, retry=FAST)
    pull(tmp_lake, config, "2024-06-30")
    load(tmp_lake, "gov_registry")
    before = bronze_rows(tmp_lake)
    registry.stop()
    replayed = load(tmp_lake, "gov_registry", ["2024-06-30"], replay=True)
    assert replayed.replayed == ["2024-06-30"]
    assert bronze_rows(tmp_lake) == before  # identical rows, _ingested_at included
    assert all(e["status"] == "loaded" for e in IngestLedger(tmp_lake).entries())


def test_bad_token_and_persistent_outage_are_clear_errors(tmp_lake: LakeTables, registry) -> None:
    with pytest.raises(ApiError, match="HTTP 401"):
        pull(tmp_lake, RegistryApiConfig(registry.url, "wrong", retry=FAST), "2024-06-30")
    registry.error_rate = 1.0
    with pytest.raises(ApiError, match="gave up after 12 attempts"):
        pull(tmp_lake, RegistryApiConfig(registry.url, "secret-token", retry=FAST), "2024-06-30")
    statuses = [r.status for r in tmp_lake.read("audit", "api_pull_log").collect()]
    assert statuses == ["failed", "failed"]
    assert IngestLedger(tmp_lake).entries() == []


def test_daily_schedule_pulls_the_day_it_runs() -> None:
    import dagster as dg

    from orchestration.jobs import registry_daily_pull

    when = dt.datetime(2026, 11, 25, 6, 0, tzinfo=CST)
    request = registry_daily_pull(dg.build_schedule_context(scheduled_execution_time=when))
    assert request.partition_key == "2026-11-25"
    assert {k.to_user_string() for k in request.asset_selection} == {
        "bronze/gov_registry",
        "quarantine/bronze_gov_registry",
    }
