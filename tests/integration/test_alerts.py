"""Alerts against a loopback HTTP sink (issue 16): each rule fires once per event, signed; a URL
not on the allow-list is refused; a transient failure is retried; late sources are found from the
ledger and the contracts' deadlines. Small Delta tables written by the test, a real state database
(SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from catalog.contracts import load_catalog
from catalog.deadlines import CST
from ibrain.lake import Lake
from ibrain.retry import HttpRetryPolicy
from ibrain.settings import Settings
from security.db import make_engine, migrate, transaction
from security.outbox import DeliveryPackage
from serving.alerts import events
from serving.alerts.rules import AlertConfigError, load_rules
from serving.alerts.webhooks import dispatch, recent

pytestmark = pytest.mark.integration
SECRET = b"test-secret"
NO_WAIT = HttpRetryPolicy(attempts=3, backoff_seconds=0.0, max_wait_seconds=0.0)


class Sink:
    """A loopback HTTP server that records every POST; ``fail_next`` answers 503 that many times."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.fail_next = 0
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if sink.fail_next:
                    sink.fail_next -= 1
                    self.send_response(503)
                else:
                    sink.received.append((dict(self.headers), body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/ibrain"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def sink() -> Iterator[Sink]:
    found = Sink()
    yield found
    found.server.shutdown()


def write_quality(root: Path) -> Lake:
    """dq_result: one failed ERROR rule (two periods), one failed WARN, one passed; dq_issue: one
    open, one reopened, one closed."""
    when = dt.datetime(2025, 2, 1, tzinfo=dt.UTC)
    write_deltalake(
        str(root / "quality" / "dq_result"),
        pa.table({
            "run_id": ["r1", "r1", "r1", "r1"],
            "evaluated_at": [when] * 4,
            "dataset": ["silver.enterprise_month_stats"] * 2 + ["gold.fct_order", "gold.x"],
            "rule_id": ["uscc_check_digit", "uscc_check_digit", "order_amount_range", "ok_rule"],
            "dimension": ["规范性", "规范性", "准确性", "完整性"],
            "severity": ["ERROR", "ERROR", "WARN", "ERROR"],
            "source": ["quarantine"] * 4,
            "period": [dt.date(2024, 12, 1), dt.date(2025, 1, 1), dt.date(2025, 1, 1), dt.date(2025, 1, 1)],
            "x_ratio": [0.9, 0.95, 0.5, 1.0],
            "threshold": [0.99, 0.99, 0.9, 0.99],
            "passed": [False, False, False, True],
        }),
    )  # fmt: skip
    write_deltalake(
        str(root / "quality" / "dq_issue"),
        pa.table({
            "issue_id": ["I1", "I2", "I3"],
            "dataset": ["silver.enterprise_month_stats", "gold.fct_order", "gold.dim_region"],
            "rule_id": ["uscc_check_digit", "order_amount_range", "r3"],
            "dimension": ["规范性", "准确性", "完整性"],
            "severity": ["ERROR", "WARN", "ERROR"],
            "owner": ["team:data-governance"] * 3,
            "status": ["open", "open", "closed"],
            "first_seen": [when] * 3,
            "last_seen": [when] * 3,
            "reopened_count": pa.array([0, 2, 0], pa.int32()),
            "failing_periods": ["2024-12,2025-01", "2025-01", ""],
            "affected_rows": pa.array([12, 3, 0], pa.int64()),
        }),
    )  # fmt: skip
    return Lake(Settings.from_env({"IBRAIN_LAKE_ROOT": str(root)}))


def dead_letter(engine) -> None:
    with transaction(engine) as session:
        session.add(DeliveryPackage(
            id="pkg-1", recipient="zhgl-platform", dataset="exchange.x", period="2025-01", revision=1,
            content_hash="c", payload_sha256="p", rows=1, payload_uri="u", manifest_uri="m",
            state="dead_letter",
            attempts=8, last_error="HTTP 400", created_at="2025-02-01T00:00:00.000000Z",
            updated_at="2025-02-02T00:00:00.000000Z",
        ))  # fmt: skip


def test_each_rule_fires_once_per_event_signed(tmp_path: Path, state_db_url: str, sink: Sink) -> None:
    lake = write_quality(tmp_path / "lake")
    engine = make_engine(state_db_url)
    migrate(engine)
    dead_letter(engine)
    found = [
        *events.failed_checks(lake),
        *events.opened_issues(lake),
        *events.dead_letters(engine),
        events.run_failed("run-9", "ibrain_pipeline", "step failed"),
    ]
    env = {
        "IBRAIN_ALERT_WEBHOOK_OPS": sink.url,
        "IBRAIN_ALERT_ALLOWED_URLS": f"https://other.example/x,{sink.url}",
    }
    rules = load_rules()
    sink.fail_next = 1  # the first POST meets a 503 and is retried
    first = dispatch(engine, rules, found, SECRET, env, NO_WAIT)
    # the ERROR check (one event for its two periods), two open issues (I2 reopened twice), the
    # dead letter, the failed run; the WARN check matches no rule, the closed issue is no event
    keys = sorted(json.loads(body)["key"] for _, body in sink.received)
    assert keys == [
        "check_failed:r1:silver.enterprise_month_stats:uscc_check_digit",
        "delivery_dead_letter:pkg-1:8:2025-02-02T00:00:00.000000Z",
        "issue_opened:I1:0",
        "issue_opened:I2:2",
        "run_failed:run-9",
    ]
    assert len(first.sent) == 5 and not first.failed
    for headers, body in sink.received:
        mac = hmac.new(
            SECRET, headers["X-Ibrain-Timestamp"].encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        assert headers["X-Ibrain-Signature"] == f"sha256={mac}"
        assert headers["X-Ibrain-Event-Id"].endswith(json.loads(body)["key"])
    check = next(json.loads(b) for _, b in sink.received if json.loads(b)["event"] == "check_failed")
    assert (
        check["fields"]["periods"] == ["2024-12-01", "2025-01-01"]
        and check["rule"] == "blocking_check_failed"
    )
    # again, and from another "process" (a second dispatch): nothing is posted twice
    second = dispatch(engine, rules, found, SECRET, env, NO_WAIT)
    assert len(sink.received) == 5 and second.sent == [] and second.skipped == 5
    listed = recent(engine)
    assert len(listed) == 5 and {a["state"] for a in listed} == {"sent"}
    engine.dispose()


def test_a_url_not_on_the_allow_list_is_refused(tmp_path: Path, sink: Sink) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'state.db'}")
    migrate(engine)
    event = events.run_failed("run-1", "ibrain_pipeline", "boom")
    env = {"IBRAIN_ALERT_WEBHOOK_OPS": sink.url, "IBRAIN_ALERT_ALLOWED_URLS": sink.url + "/other"}
    with pytest.raises(
        AlertConfigError, match=r"webhook 'ops' .* is not on the allow-list IBRAIN_ALERT_ALLOWED_URLS"
    ):
        dispatch(engine, load_rules(), [event], SECRET, env, NO_WAIT)
    # plain HTTP to another host is refused even when listed
    env = {
        "IBRAIN_ALERT_WEBHOOK_OPS": "http://example.com/h",
        "IBRAIN_ALERT_ALLOWED_URLS": "http://example.com/h",
    }
    with pytest.raises(AlertConfigError, match="HTTPS"):
        dispatch(engine, load_rules(), [event], SECRET, env, NO_WAIT)
    assert sink.received == [] and recent(engine) == []
    engine.dispose()


def test_a_failed_post_is_kept_and_sent_later(tmp_path: Path, sink: Sink) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'state.db'}")
    migrate(engine)
    event = events.run_failed("run-2", "ibrain_pipeline", "boom")
    env = {"IBRAIN_ALERT_WEBHOOK_OPS": sink.url, "IBRAIN_ALERT_ALLOWED_URLS": sink.url}
    sink.fail_next = 3  # every attempt of the first dispatch
    first = dispatch(engine, load_rules(), [event], SECRET, env, NO_WAIT)
    assert first.failed and not first.sent and recent(engine)[0]["state"] == "failed"
    second = dispatch(engine, load_rules(), [event], SECRET, env, NO_WAIT)
    assert second.sent and len(sink.received) == 1
    assert recent(engine)[0]["state"] == "sent" and recent(engine)[0]["attempts"] == 2
    engine.dispose()


def test_late_sources_from_the_ledger_and_deadlines(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    write_deltalake(str(root / "audit" / "ingest_ledger"),
                    pa.table({"source": ["gov_stats_monthly"], "period": ["2025-01"]}))  # fmt: skip
    lake = Lake(Settings.from_env({"IBRAIN_LAKE_ROOT": str(root)}))
    catalog = {"bronze.gov_stats_monthly": load_catalog()["bronze.gov_stats_monthly"]}
    # gov_stats_monthly is due on the 10th of the next month, 23:59 CST: on 12 March 2025 the
    # January (delivered) and February (not) deliveries have fallen due within 45 days
    now = dt.datetime(2025, 3, 12, 12, 0, tzinfo=CST)
    late = events.late_sources(lake, now=now, catalog=catalog)
    assert [e.key for e in late] == ["source_late:gov_stats_monthly:2025-02"]
    assert late[0].fields["deadline"] == "2025-03-10 23:59 CST"
    # on 10 March at noon February is not yet due
    assert events.late_sources(lake, now=dt.datetime(2025, 3, 10, 12, 0, tzinfo=CST), catalog=catalog) == []


def test_alerts_cli_posts_once_and_lists(tmp_path: Path, sink: Sink) -> None:
    from tests.conftest import lake_env
    from tests.support.cli import run_cli

    env = {**lake_env(tmp_path), "IBRAIN_ALERT_WEBHOOK_OPS": sink.url, "IBRAIN_ALERT_ALLOWED_URLS": sink.url}
    write_quality(Path(env["IBRAIN_LAKE_ROOT"]))
    first = run_cli(["alerts", "check"], env).stdout
    posted = {json.loads(body)["key"] for _, body in sink.received}
    # the lake has no ingest ledger: every monthly source is late for the months just due
    assert {"issue_opened:I1:0", "issue_opened:I2:2"} <= posted and any(
        k.startswith("source_late:") for k in posted
    )
    assert f"{len(posted)} alerts sent" in first
    again = run_cli(["alerts", "check"], env).stdout
    assert (
        "0 alerts sent" in again
        and f"{len(posted)} sent before" in again
        and len(sink.received) == len(posted)
    )
    refused = run_cli(["alerts", "check"], {**env, "IBRAIN_ALERT_ALLOWED_URLS": ""}, check=False)
    assert refused.returncode != 0 and "not on the allow-list" in refused.stdout + refused.stderr
