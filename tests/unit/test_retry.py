"""The retry module: which errors are retried, how long it waits, and that it gives up.

Commit conflicts are the exception classes and texts the engines raised (docs/engine-notes.md);
HTTP runs against a scripted server on loopback.
"""

from __future__ import annotations

import datetime as dt
import http.server
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import requests
from deltalake.exceptions import CommitFailedError, SchemaMismatchError
from pyspark.errors.exceptions.connect import AnalysisException, SparkRuntimeException

from ibrain.retry import (
    COMMIT_CONFLICTS,
    CommitRetryPolicy,
    HttpRetryPolicy,
    RetriesExhausted,
    RetryableStatus,
    commit_conflict,
    commit_retrying,
    http_get,
    retry_after_seconds,
    with_commit_retry,
)
from ibrain.settings import SettingsError
from ingest.connectors.http_pages import ApiError, PageFetcher

QUICK = CommitRetryPolicy(attempts=4, first_wait_seconds=0.001, max_wait_seconds=0.002)

# (recorded error, index of the COMMIT_CONFLICTS entry it is)
RECORDED_CONFLICTS = [
    (SparkRuntimeException(message="Failed to commit transaction: 0"), 0),
    (SparkRuntimeException(message="Missing commit file: expected version 0, found 8"), 1),
    (RuntimeError("The transaction 34 already exists, will retry!"), 2),
    (
        CommitFailedError(
            "Failed to commit transaction: Commit failed: a concurrent transactions added new data.\n"
            "Help: This transaction's query must be rerun to include the new data. Also, if you don't "
            "care to require this check to pass in the future, the isolation level can be set to "
            "Snapshot Isolation."
        ),
        3,
    ),
    (
        CommitFailedError(
            "Failed to commit transaction: Commit failed: a concurrent transaction deleted data this "
            "operation read.\nHelp: This transaction's query must be rerun to exclude the removed data. "
            "Also, if you don't care to require this check to pass in the future, the isolation level "
            "can be set to Snapshot Isolation."
        ),
        3,
    ),
    (CommitFailedError("Failed to commit transaction: Metadata changed since last commit."), 4),
]

NOT_CONFLICTS = [
    # Sail, appending a column the table lacks (docs/engine-notes.md, warehouses)
    AnalysisException(
        message="Field 'z' not found in table schema. Use mergeSchema=true to allow schema evolution."
    ),
    # delta-rs, appending a table with fewer columns
    SchemaMismatchError("Cannot cast schema, number of fields does not match: 2 vs 3"),
    # delta-rs refuses a DELETE on an append-only table: a CommitFailedError that is no conflict
    CommitFailedError(
        "The transaction includes Remove action with data change but Delta table is append-only"
    ),
    # unknown errors, one of them with the word "conflict"
    RuntimeError("column names conflict: 'period' appears twice"),
    ValueError("something else went wrong"),
]


class Flaky:
    """Raises ``exc`` the first ``failures`` calls, then returns "ok"."""

    def __init__(self, exc: BaseException, failures: int) -> None:
        self.exc, self.failures, self.calls = exc, failures, 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.exc
        return "ok"


@pytest.mark.parametrize(("exc", "entry"), RECORDED_CONFLICTS, ids=lambda v: str(v)[:50])
def test_each_recorded_conflict_is_retried(exc: BaseException, entry: int, caplog) -> None:
    assert commit_conflict(exc) is COMMIT_CONFLICTS[entry]
    fn = Flaky(exc, failures=2)
    with caplog.at_level(logging.WARNING, logger="ibrain.retry"):
        assert with_commit_retry(fn, what="merge silver.x", policy=QUICK) == "ok"
    assert fn.calls == 3
    retried = [r.getMessage() for r in caplog.records]
    assert len(retried) == 2 and all(m.startswith("merge silver.x: commit conflict") for m in retried)
    assert "(attempt 1/4)" in retried[0] and "(attempt 2/4)" in retried[1]


def test_every_recorded_pattern_has_a_recorded_message() -> None:
    assert {entry for _, entry in RECORDED_CONFLICTS} == set(range(len(COMMIT_CONFLICTS)))


@pytest.mark.parametrize("exc", NOT_CONFLICTS, ids=lambda v: str(v)[:50])
def test_schema_and_unknown_errors_are_raised_at_once(exc: BaseException) -> None:
    assert commit_conflict(exc) is None
    fn, waits = Flaky(exc, failures=1), []
    with pytest.raises(type(exc)) as raised:
        commit_retrying(QUICK, sleep=waits.append)(fn)
    assert raised.value is exc and fn.calls == 1 and waits == []


def test_commit_attempts_are_bounded_and_waits_double() -> None:
    exc = SparkRuntimeException(message="Failed to commit transaction: 0")
    fn, waits = Flaky(exc, failures=100), []
    policy = CommitRetryPolicy(attempts=4, first_wait_seconds=0.2, max_wait_seconds=0.5)
    with pytest.raises(SparkRuntimeException) as raised:
        commit_retrying(policy, sleep=waits.append)(fn)
    assert raised.value is exc and fn.calls == 4 and len(waits) == 3
    # 0.2, 0.4, then capped at 0.5 — each jittered by a factor in [0.5, 1.5)
    for wait, base in zip(waits, [0.2, 0.4, 0.5], strict=True):
        assert 0.5 * base <= wait < 1.5 * base


# -- HTTP --------------------------------------------------------------------------------------


@dataclass
class ScriptedServer:
    """Answers each GET with the next (status, headers, delay) of ``script``; the last repeats."""

    script: list[tuple[int, dict[str, str], float]]
    arrivals: list[float] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    scripted = ScriptedServer([(200, {}, 0.0)])

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            scripted.arrivals.append(time.monotonic())
            status, headers, delay = scripted.script[min(len(scripted.arrivals), len(scripted.script)) - 1]
            time.sleep(delay)
            body = f'{{"status": {status}, "request": {len(scripted.arrivals)}}}'.encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            try:
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client timed out and hung up (the timeout test wants exactly that)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    scripted.url = f"http://127.0.0.1:{httpd.server_address[1]}/api"
    try:
        yield scripted
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


FAST_HTTP = HttpRetryPolicy(attempts=4, backoff_seconds=0.001, max_wait_seconds=5.0)


def test_429_waits_as_long_as_retry_after_then_succeeds(server: ScriptedServer, caplog) -> None:
    server.script = [(429, {"Retry-After": "1"}, 0.0), (200, {}, 0.0)]
    retries = []
    with caplog.at_level(logging.WARNING, logger="ibrain.retry"):
        response = http_get(
            requests.Session(), server.url, policy=FAST_HTTP, on_retry=lambda: retries.append(1)
        )
    assert response.status_code == 200 and response.json() == {"status": 200, "request": 2}
    assert len(server.arrivals) == 2 and retries == [1]
    gap = server.arrivals[1] - server.arrivals[0]
    assert 1.0 <= gap < 2.0  # the backoff alone would be about a millisecond
    assert [r.getMessage() for r in caplog.records] == [f"GET {server.url}: HTTP 429, retry 1 in 1.00s"]


def test_retry_after_is_capped(server: ScriptedServer) -> None:
    server.script = [(503, {"Retry-After": "120"}, 0.0), (200, {}, 0.0)]
    policy = HttpRetryPolicy(attempts=3, backoff_seconds=0.001, max_wait_seconds=0.2)
    assert http_get(requests.Session(), server.url, policy=policy).status_code == 200
    assert 0.2 <= server.arrivals[1] - server.arrivals[0] < 1.0


def test_404_is_not_retried(server: ScriptedServer) -> None:
    server.script = [(404, {}, 0.0)]
    assert http_get(requests.Session(), server.url, policy=FAST_HTTP).status_code == 404
    assert len(server.arrivals) == 1
    fetcher = PageFetcher(server.url.removesuffix("/api"), "token", FAST_HTTP)
    with pytest.raises(ApiError, match=r"/api\?page=1: HTTP 404"):
        fetcher.get("/api", {"page": 1})
    assert len(server.arrivals) == 2 and fetcher.retries == 0


def test_503_forever_gives_up_after_the_allowed_attempts(server: ScriptedServer) -> None:
    server.script = [(503, {}, 0.0)]
    with pytest.raises(RetriesExhausted) as raised:
        http_get(requests.Session(), server.url, params={"page": 3}, policy=FAST_HTTP)
    message = str(raised.value)
    assert message.startswith(f"GET {server.url} {{'page': 3}}: gave up after 4 attempts in ")
    assert message.endswith('(last: HTTP 503: {"status": 503, "request": 4})')
    assert isinstance(raised.value.__cause__, RetryableStatus) and raised.value.__cause__.status == 503
    assert len(server.arrivals) == 4
    fetcher = PageFetcher(server.url.removesuffix("/api"), "token", FAST_HTTP)
    with pytest.raises(ApiError, match="gave up after 4 attempts"):
        fetcher.get("/api", {})
    assert fetcher.retries == 3


def test_total_time_is_bounded(server: ScriptedServer) -> None:
    server.script = [(500, {}, 0.0)]
    policy = HttpRetryPolicy(attempts=100, backoff_seconds=0.1, max_wait_seconds=0.1, max_total_seconds=0.5)
    started = time.monotonic()
    with pytest.raises(RetriesExhausted, match="gave up after"):
        http_get(requests.Session(), server.url, policy=policy)
    # waits of at most 0.1 s: a wait would end after 0.5 s long before 100 attempts
    assert time.monotonic() - started < 1.0 and 3 <= len(server.arrivals) < 12


def test_timeouts_and_refused_connections_are_retried(server: ScriptedServer) -> None:
    server.script = [(200, {}, 1.0), (200, {}, 0.0)]
    response = http_get(requests.Session(), server.url, policy=FAST_HTTP, timeout_seconds=0.3)
    assert response.json() == {"status": 200, "request": 2}

    with socket.socket() as s:  # a loopback port nobody listens on: bound, then closed
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/api"
    with pytest.raises(RetriesExhausted) as raised:
        http_get(requests.Session(), url, policy=HttpRetryPolicy(attempts=2, backoff_seconds=0.001))
    assert "gave up after 2 attempts" in str(raised.value) and "(last: ConnectionError" in str(raised.value)


def test_retry_after_forms() -> None:
    now = dt.datetime(2015, 10, 21, 7, 27, 30, tzinfo=dt.UTC)
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now) == 30.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:27:00 GMT", now) == 0.0  # already past
    assert retry_after_seconds("2.5") == 2.5
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None


def test_backoff_setting() -> None:
    assert HttpRetryPolicy.from_env({}) == HttpRetryPolicy(backoff_seconds=0.5, max_wait_seconds=10.0)
    assert HttpRetryPolicy.from_env({"IBRAIN_API_BACKOFF_SECONDS": "0.05"}).max_wait_seconds == 2.0
    assert HttpRetryPolicy.from_env({"IBRAIN_API_BACKOFF_SECONDS": " "}).backoff_seconds == 0.5
    with pytest.raises(SettingsError, match="IBRAIN_API_BACKOFF_SECONDS"):
        HttpRetryPolicy.from_env({"IBRAIN_API_BACKOFF_SECONDS": "fast"})
