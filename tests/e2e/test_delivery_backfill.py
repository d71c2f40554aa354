"""A one-month backfill of a recipient's package asset builds just that month's packages, and the
send job (what the outbox sensor launches) delivers just those to the (simulated) platform."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from orchestration.assets.deliveries import deliveries_send, package_asset
from orchestration.resources import SparkResource
from security.keys import init_key, load_keyring
from serving.deliveries.outbox import status
from serving.deliveries.service import state_engine
from simulators.platform import Platform
from tests.e2e.conftest import DemoLake

pytestmark = pytest.mark.e2e
RECIPIENT = "zhgl_platform"


def test_a_one_month_backfill_builds_and_sends_just_that_month(
    lake_copy: DemoLake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("IBRAIN_ENV", "IBRAIN_LAKE_ROOT", "IBRAIN_INBOX", "DAGSTER_HOME"):
        monkeypatch.setenv(name, lake_copy.env[name])
    monkeypatch.setenv("IBRAIN_DB_URL", f"sqlite:///{tmp_path / 'outbox.db'}")
    monkeypatch.setenv("IBRAIN_DELIVERY_KEY_DIR", str(tmp_path / "keys"))
    init_key("delivery", RECIPIENT)
    init_key("delivery_hmac", RECIPIENT)
    signing = load_keyring("delivery", RECIPIENT)
    platform = Platform(
        RECIPIENT,
        [s for _, s in load_keyring("delivery_hmac", RECIPIENT).secrets()],
        public_keys={k.kid: k.public.public_bytes_raw() for k in signing.keys},
    )
    monkeypatch.setenv("IBRAIN_DELIVERY_URL_ZHGL_PLATFORM", platform.start())
    try:
        built = dg.materialize(
            [package_asset(RECIPIENT)], partition_key="2024-06", resources={"spark": SparkResource()}
        )
        assert built.success
        [materialisation] = built.asset_materializations_for_node(f"deliveries__{RECIPIENT}")
        assert materialisation.metadata["built"].value == 3
        sent = deliveries_send.execute_in_process()
        assert sent.success
    finally:
        platform.stop()

    held = platform.holdings()
    assert sorted((h["dataset"], h["period"], h["revision"]) for h in held) == [
        ("economic_city_chain_month", "2024-06", 1),
        ("economic_city_division_month", "2024-06", 1),
        ("indicator_value", "2024-06", 1),
    ]
    engine = state_engine()
    rows = status(engine)
    engine.dispose()
    assert sorted((r["dataset"], r["period"], r["state"]) for r in rows) == [
        ("economic_city_chain_month", "2024-06", "acknowledged"),
        ("economic_city_division_month", "2024-06", "acknowledged"),
        ("indicator_value", "2024-06", "acknowledged"),
    ]
