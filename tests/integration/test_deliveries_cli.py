"""`ibrain deliveries` as an identified engineer against a simulated platform on loopback."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ibrain.lake import Lake
from ibrain.settings import Settings
from security.actor import Actor
from security.db import database_url, make_engine, migrate
from security.keys import init_key, load_keyring
from serving.deliveries.packages import Column, PackageContent, build_package
from simulators.platform import Platform
from tests.conftest import lake_env
from tests.support.cli import run_cli
from tests.support.identity import engineer_env

pytestmark = pytest.mark.integration
RECIPIENT = "gyhlw_platform"


def test_send_status_resend_verify(tmp_path: Path) -> None:
    env = engineer_env(lake_env(tmp_path), login="dispatcher")
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    settings = Settings.from_env(env)
    init_key("delivery", RECIPIENT, settings=settings)
    init_key("delivery_hmac", RECIPIENT, settings=settings)
    engine = make_engine(database_url(settings))
    migrate(engine)
    signing = load_keyring("delivery", RECIPIENT, settings=settings)
    content = PackageContent(
        RECIPIENT,
        "capacity_sharing_month",
        "2024-05",
        (Column("offers", "产能共享发布数", "bigint", "项"),),
        [{"offers": 12}],
        contract_version="1",
    )
    built = build_package(
        engine, Lake(settings), content, signing, Actor("system:test"), dt.datetime.now(dt.UTC)
    )
    secrets = [s for _, s in load_keyring("delivery_hmac", RECIPIENT, settings=settings).secrets()]
    platform = Platform(
        RECIPIENT,
        secrets,
        public_keys={k.kid: k.public.public_bytes_raw() for k in signing.keys},
        schemas={"capacity_sharing_month": ("offers",)},  # this test's one-column package
    )
    env["IBRAIN_DELIVERY_URL_GYHLW_PLATFORM"] = platform.start()
    try:
        assert "acknowledged 1," in run_cli(["deliveries", "send"], env).stdout
        (row,) = [
            json.loads(line) for line in run_cli(["deliveries", "status", "--json"], env).stdout.splitlines()
        ]
        assert (
            row["id"],
            row["recipient"],
            row["dataset"],
            row["period"],
            row["revision"],
            row["state"],
        ) == (built.package_id, RECIPIENT, "capacity_sharing_month", "2024-05", 1, "acknowledged")
        refused = run_cli(["deliveries", "resend", built.package_id], env, check=False)
        assert refused.returncode == 1 and "--force" in refused.stderr + refused.stdout
        run_cli(["deliveries", "resend", built.package_id, "--force"], env)
        assert "acknowledged 1," in run_cli(["deliveries", "send"], env).stdout
        assert platform.applied == {("capacity_sharing_month", "2024-05", 1): 1}
        assert "matches" in run_cli(["deliveries", "verify"], env).stdout
        # the trail holds the build, the attempts, the receipts, the refused and the forced resend
        trail = run_cli(["deliveries", "status"], env).stdout
        assert built.package_id in trail
    finally:
        platform.stop()
