"""Deliveries against the simulated platform: a real HTTP server on loopback, the real client, an
injectable clock, seeded failures; no engine (packages are built from rows given here)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ibrain.lake import Lake
from ibrain.retry import HttpRetryPolicy
from ibrain.settings import Settings
from security.actor import Actor
from security.db import make_engine, migrate
from security.keys import init_key, load_keyring
from serving.deliveries.outbox import ResendRefused, resend, status, verify
from serving.deliveries.packages import Column, PackageContent, build_package
from serving.deliveries.sender import Sender
from serving.deliveries.transport import Answer, HttpAdapter, TransportConfigError, check_url
from simulators.platform import Platform

pytestmark = pytest.mark.integration
RECIPIENT = "zhgl_platform"
ACTOR = Actor("system:test-deliveries")
COLUMNS = (Column("city_code", "地市代码", "string"), Column("gross_output", "工业总产值", "decimal", "万元"))
PERIODS = ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]


class FakeClock:
    def __init__(self, start: dt.datetime) -> None:
        self.moment = start
        self.slept = 0.0

    def now(self) -> dt.datetime:
        return self.moment

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.moment += dt.timedelta(seconds=seconds)


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("IBRAIN_DELIVERY_KEY_DIR", str(tmp_path / "keys"))
    init_key("delivery", RECIPIENT)
    init_key("delivery_hmac", RECIPIENT)
    url = f"sqlite:///{tmp_path / 'state.db'}"
    engine = make_engine(url)
    migrate(engine)
    lake = Lake(Settings.from_env({"IBRAIN_LAKE_ROOT": str(tmp_path / "lake")}))
    clock = FakeClock(dt.datetime.now(dt.UTC).replace(microsecond=0))
    signing = load_keyring("delivery", RECIPIENT)
    secrets = [s for _, s in load_keyring("delivery_hmac", RECIPIENT).secrets()]
    publics = {k.kid: k.public.public_bytes_raw() for k in signing.keys}
    platform = Platform(
        RECIPIENT,
        secrets,
        public_keys=publics,
        schemas={"economic_city_chain": ("city_code", "gross_output")},
        now=clock.now,
        stall_seconds=0.5,
    )
    platform.start()
    yield {
        "engine": engine,
        "lake": lake,
        "clock": clock,
        "platform": platform,
        "keyring": signing,
        "url": url,
        "tmp": tmp_path,
    }
    platform.stop()


def build(w, period: str, value: str = "100.50", dataset: str = "economic_city_chain"):
    rows = [{"city_code": "210100", "gross_output": value}, {"city_code": "210200", "gross_output": "7.25"}]
    content = PackageContent(RECIPIENT, dataset, period, COLUMNS, rows, contract_version="1")
    return build_package(w["engine"], w["lake"], content, w["keyring"], ACTOR, w["clock"].now())


def sender(w, attempts: int = 8, adapter=None) -> Sender:
    return Sender(
        w["engine"],
        w["lake"],
        {RECIPIENT: adapter or HttpAdapter(RECIPIENT, w["platform"].url, timeout_seconds=0.25)},
        {RECIPIENT: load_keyring("delivery_hmac", RECIPIENT)},
        ACTOR,
        clock=w["clock"],
        policy=HttpRetryPolicy(
            attempts=attempts, backoff_seconds=30, max_wait_seconds=3600, max_total_seconds=86400
        ),
    )


def test_30_percent_failures_every_package_acknowledged_once(world) -> None:
    world["platform"].failure_rate, world["platform"].seed = 0.3, 7
    for period in PERIODS:
        assert build(world, period).created
    report = sender(world).send_due(max_wait_seconds=86400)
    assert sorted(report.acknowledged) == sorted(f"{RECIPIENT}.economic_city_chain.{p}.r1" for p in PERIODS)
    assert report.attempts > len(PERIODS), "seed 7 at 30 % must fail some attempts"
    assert world["clock"].slept > 0
    assert set(world["platform"].applied.values()) == {1} and len(world["platform"].applied) == 6
    outbox = {s["id"]: s["receipt_id"] for s in status(world["engine"])}
    held = {r["id"]: r["receipt_id"] for r in world["platform"].holdings()}
    assert outbox == held
    assert verify(world["engine"], world["lake"]) == []
    # unchanged content creates nothing; changed content for one period is its revision 2
    assert not build(world, "2024-03").created
    again = build(world, "2024-03", value="101.00")
    assert again.created and again.revision == 2


def test_all_failures_reach_dead_letter_then_resend_delivers(world) -> None:
    world["platform"].failure_rate = 1.0
    build(world, "2024-01")
    report = sender(world, attempts=4).send_due(max_wait_seconds=86400)
    assert report.dead_letter == [f"{RECIPIENT}.economic_city_chain.2024-01.r1"]
    (row,) = status(world["engine"])
    assert row["state"] == "dead_letter" and row["attempts"] == 4
    world["platform"].failure_rate = 0.0
    with pytest.raises(ResendRefused, match="no package"):
        resend(world["engine"], "nope", ACTOR)
    resend(world["engine"], row["id"], ACTOR)
    assert sender(world).send_due().acknowledged == [row["id"]]
    with pytest.raises(ResendRefused, match="--force"):
        resend(world["engine"], row["id"], ACTOR)
    resend(world["engine"], row["id"], ACTOR, force=True)  # same key: the platform returns its receipt
    assert sender(world).send_due().acknowledged == [row["id"]]
    assert world["platform"].applied == {("economic_city_chain", "2024-01", 1): 1}


class FlipOneByte:
    """Changes one byte of the body after it was signed."""

    def __init__(self, inner: HttpAdapter) -> None:
        self.inner = inner

    def post(self, body: bytes, headers) -> Answer:
        index = body.index(b"210100")
        return self.inner.post(body[:index] + b"3" + body[index + 1 :], headers)


def test_one_byte_changed_is_401_and_not_delivered(world) -> None:
    build(world, "2024-01")
    adapter = FlipOneByte(HttpAdapter(RECIPIENT, world["platform"].url))
    report = sender(world, adapter=adapter).send_due()
    assert report.dead_letter and not report.acknowledged
    (row,) = status(world["engine"])
    assert row["state"] == "dead_letter" and row["last_error"].startswith("HTTP 401")
    assert world["platform"].holdings() == []


def test_an_older_revision_sent_late_is_not_applied(world) -> None:
    build(world, "2024-01")
    first = sender(world).send_due().acknowledged[0]
    build(world, "2024-01", value="99.00")
    second = sender(world).send_due().acknowledged[0]
    assert second.endswith(".r2")
    # the older revision arrives late under a key the platform has not seen
    resend(world["engine"], first, ACTOR, force=True)
    world["platform"].receipts.pop(first)
    report = sender(world).send_due()
    assert report.superseded == [first]
    assert world["platform"].current[("economic_city_chain", "2024-01")]["revision"] == 2
    assert world["platform"].applied == {
        ("economic_city_chain", "2024-01", 1): 1,
        ("economic_city_chain", "2024-01", 2): 1,
    }


def test_a_redirect_is_not_followed(world) -> None:
    elsewhere = Platform(RECIPIENT, [b"x" * 32])
    elsewhere.start()
    try:
        world["platform"].redirect_to = elsewhere.url
        build(world, "2024-01")
        report = sender(world).send_due()
        assert report.dead_letter
        assert "not followed" in status(world["engine"])[0]["last_error"]
        assert elsewhere.requests == 0
    finally:
        elsewhere.stop()


def test_plain_http_only_to_loopback() -> None:
    assert check_url("http://127.0.0.1:9/x") and check_url("https://platform.example.cn/in")
    with pytest.raises(TransportConfigError):
        check_url("http://platform.example.cn/in")


def test_schema_violation_is_422_naming_the_field(world) -> None:
    world["platform"].schemas["economic_city_chain"] = ("city_code", "gross_output", "chain_code")
    build(world, "2024-01")
    sender(world).send_due()
    assert "'chain_code' missing" in status(world["engine"])[0]["last_error"]


CHILD = """
import sys
from ibrain.lake import Lake
from ibrain.settings import Settings
from security.actor import Actor
from security.db import make_engine
from security.keys import load_keyring
from serving.deliveries.sender import Sender
from serving.deliveries.transport import HttpAdapter
url, lake_root, platform = sys.argv[1:4]
adapter = HttpAdapter("zhgl_platform", platform, timeout_seconds=60)
Sender(make_engine(url), Lake(Settings.from_env({"IBRAIN_LAKE_ROOT": lake_root})), {"zhgl_platform": adapter},
       {"zhgl_platform": load_keyring("delivery_hmac", "zhgl_platform")}, Actor("system:child")).send_due()
"""


def test_kill_9_mid_delivery_then_rerun_loses_nothing_applies_nothing_twice(world) -> None:
    for period in PERIODS[:3]:
        build(world, period)
    world["platform"].stall_all = 60.0  # applies, then holds the answer: the sender is mid-request
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, world["url"], str(world["tmp"] / "lake"), world["platform"].url],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    deadline = time.monotonic() + 60
    while not world["platform"].applied and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert len(world["platform"].applied) == 1
    states = {s["state"] for s in status(world["engine"])}
    assert states == {"sending", "pending"}
    world["platform"].stall_all = 0.0
    world["clock"].moment += dt.timedelta(seconds=600)  # the dead sender's lease has expired
    report = sender(world).send_due()
    assert len(report.acknowledged) == 3
    assert set(world["platform"].applied.values()) == {1} and len(world["platform"].applied) == 3
    assert verify(world["engine"], world["lake"]) == []
