"""The one retry module: Delta commit conflicts and transient HTTP failures, both on tenacity.

Each policy is a tenacity ``Retrying`` whose retry decision is a *classifier*: a commit is run
again only when its error is one of the commit-conflict messages recorded in
``docs/engine-notes.md``; an HTTP request only on 429, a 5xx, a timeout or a connection error.
Everything else (a schema mismatch, a bad token, a 404) is raised at once. Waits are
exponential with jitter, attempts (and, for HTTP, total time) are bounded, and every retry is
logged.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import os
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
import tenacity
from tenacity import RetryCallState

from ibrain.settings import SettingsError

log = logging.getLogger(__name__)
T = TypeVar("T")
Sleep = Callable[[float], None]


# -- Delta commits ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ConflictMessage:
    """A commit-conflict error message, and where it was seen (docs/engine-notes.md)."""

    pattern: re.Pattern[str]
    seen: str


COMMIT_CONFLICTS: tuple[ConflictMessage, ...] = (
    ConflictMessage(
        re.compile(r"Failed to commit transaction: \d+\b"),
        "Sail, SparkRuntimeException 'Failed to commit transaction: 0': another writer committed the "
        "version first and Sail does not retry (concurrent replaceWhere, MERGE or append; two processes "
        "on a local folder and on SeaweedFS S3, and three threads of one process)",
    ),
    ConflictMessage(
        re.compile(r"Missing commit file: expected version \d+, found \d+"),
        "Sail, SparkRuntimeException 'Missing commit file: expected version 0, found 8': a snapshot read "
        "racing another writer's commit (concurrent MERGEs on SeaweedFS S3, about 1 run in 10; also "
        "three threads replacing partitions of one local table)",
    ),
    ConflictMessage(
        re.compile(r"[Tt]ransaction \d+ already exists, will retry"),
        "Sail's log 'The transaction 34 already exists, will retry!' while it retries an append itself; "
        "logged, not raised so far — matched should it ever end an operation",
    ),
    ConflictMessage(
        re.compile(
            r"Commit failed: a concurrent transactions? "
            r"(?:added new data|deleted data this operation read)"
        ),
        "delta-rs (deltalake CommitFailedError 'Failed to commit transaction: Commit failed: a concurrent "
        "transactions added new data.' / '… a concurrent transaction deleted data this operation read.'): "
        "OPTIMIZE or DELETE from a snapshot another writer has since changed (maintain)",
    ),
    ConflictMessage(
        re.compile(r"Failed to commit transaction: Metadata changed since last commit"),
        "delta-rs (deltalake CommitFailedError): a write from a snapshot whose schema or table "
        "properties another writer has since changed",
    ),
)


def commit_conflict(exc: BaseException) -> ConflictMessage | None:
    """The recorded conflict ``exc`` is, or None (then it is no conflict and must not be retried).

    Messages, not exception classes, decide: deltalake raises ``CommitFailedError`` for conflicts
    *and* for refusals such as an append-only table, and Sail raises every error as a
    ``SparkRuntimeException`` or ``AnalysisException``.
    """
    text = str(exc)
    return next((c for c in COMMIT_CONFLICTS if c.pattern.search(text)), None)


def is_commit_conflict(exc: BaseException) -> bool:
    return commit_conflict(exc) is not None


@dataclass(frozen=True)
class CommitRetryPolicy:
    """How often and how long to retry a conflicting commit (waits double, jittered ±50 %)."""

    attempts: int = 8
    first_wait_seconds: float = 0.2
    max_wait_seconds: float = 5.0

    def wait(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        base = min(self.max_wait_seconds, self.first_wait_seconds * 2 ** (attempt - 1))
        return base * (0.5 + random.random())


COMMIT_RETRY = CommitRetryPolicy()


def commit_retrying(
    policy: CommitRetryPolicy = COMMIT_RETRY, *, what: str = "commit", sleep: Sleep = time.sleep
) -> tenacity.Retrying:
    """The tenacity policy for Delta commits: retry recorded conflicts only, then re-raise."""

    def log_retry(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning(
            "%s: commit conflict (attempt %d/%d), retrying in %.2fs: %s",
            what,
            state.attempt_number,
            policy.attempts,
            state.upcoming_sleep,
            str(exc).splitlines()[0][:200] if exc else "",
        )

    return tenacity.Retrying(
        stop=tenacity.stop_after_attempt(policy.attempts),
        wait=lambda state: policy.wait(state.attempt_number),
        retry=tenacity.retry_if_exception(is_commit_conflict),
        before_sleep=log_retry,
        reraise=True,
        sleep=sleep,
    )


def with_commit_retry(
    fn: Callable[[], T], *, what: str = "commit", policy: CommitRetryPolicy = COMMIT_RETRY
) -> T:
    """Run ``fn``; on a recorded Delta commit conflict wait and run it again (from a fresh snapshot).

    The operations retried here (append, replaceWhere, MERGE, OPTIMIZE) are idempotent or commit
    nothing when they fail, so running one again is safe.
    """
    return commit_retrying(policy, what=what)(fn)


# -- HTTP -------------------------------------------------------------------------------------

BACKOFF_ENV = "IBRAIN_API_BACKOFF_SECONDS"


def is_retryable_status(status: int) -> bool:
    """429 (rate limited) and every 5xx (the server failed, not the request)."""
    return status == 429 or 500 <= status <= 599


@dataclass(frozen=True)
class HttpRetryPolicy:
    """Exponential backoff (doubling from ``backoff_seconds``, jittered ±50 %), a server's
    ``Retry-After`` honoured up to ``max_wait_seconds``, at most ``attempts`` requests and no
    wait that would end after ``max_total_seconds``."""

    attempts: int = 8
    backoff_seconds: float = 0.5
    max_wait_seconds: float = 30.0
    max_total_seconds: float = 300.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> HttpRetryPolicy:
        """Backoff from ``IBRAIN_API_BACKOFF_SECONDS`` (default 0.5 s); waits capped at 20× that
        (at least 2 s)."""
        environ = os.environ if environ is None else environ
        raw = (environ.get(BACKOFF_ENV) or "").strip()
        try:
            backoff = float(raw) if raw else 0.5
        except ValueError:
            raise SettingsError(f"{BACKOFF_ENV} must be a number of seconds, not {raw!r}") from None
        if backoff < 0:
            raise SettingsError(f"{BACKOFF_ENV} must not be negative, not {raw!r}")
        return cls(backoff_seconds=backoff, max_wait_seconds=max(2.0, backoff * 20))

    def wait(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        backoff = self.backoff_seconds * 2 ** (attempt - 1) * (0.5 + random.random())
        return min(self.max_wait_seconds, max(backoff, retry_after or 0.0))


class RetryableStatus(Exception):
    """A response worth asking again for (429 or 5xx); carries the server's ``Retry-After``."""

    def __init__(self, response: requests.Response) -> None:
        self.status = response.status_code
        self.retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        super().__init__(f"HTTP {self.status}: {response.text[:200]}")


class RetriesExhausted(RuntimeError):
    """Every allowed attempt failed with a retryable error; the last one is the ``__cause__``."""


def is_transient_http_error(exc: BaseException) -> bool:
    """A retryable status, a timeout (connect or read) or a connection error."""
    return isinstance(exc, RetryableStatus | requests.Timeout | requests.ConnectionError)


def retry_after_seconds(value: str | None, now: dt.datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        log.warning("ignoring an unreadable Retry-After header: %r", value)
        return None
    now = now or dt.datetime.now(dt.UTC)
    return max(0.0, (when - now).total_seconds())


def http_retrying(
    policy: HttpRetryPolicy,
    *,
    what: str,
    on_retry: Callable[[], None] | None = None,
) -> tenacity.Retrying:
    """The tenacity policy for one HTTP request; ``on_retry`` is called before each wait."""

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hint = exc.retry_after if isinstance(exc, RetryableStatus) else None
        return policy.wait(state.attempt_number, hint)

    def log_retry(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        reason = f"HTTP {exc.status}" if isinstance(exc, RetryableStatus) else type(exc).__name__
        log.warning("%s: %s, retry %d in %.2fs", what, reason, state.attempt_number, state.upcoming_sleep)
        if on_retry is not None:
            on_retry()

    stop = tenacity.stop_after_attempt(policy.attempts) | tenacity.stop_before_delay(policy.max_total_seconds)
    return tenacity.Retrying(
        stop=stop,
        wait=wait,
        retry=tenacity.retry_if_exception(is_transient_http_error),
        before_sleep=log_retry,
    )


def http_get(
    session: requests.Session,
    url: str,
    *,
    params: Mapping[str, Any] | None = None,
    policy: HttpRetryPolicy,
    timeout_seconds: float = 30.0,
    on_retry: Callable[[], None] | None = None,
) -> requests.Response:
    """GET ``url``, retrying transient failures; returns the first non-retryable response (the
    caller judges a 4xx). Raises :class:`RetriesExhausted` naming the URL, the attempts and the
    last failure when no attempt got through."""
    what = f"GET {url}" + (f" {dict(params)}" if params else "")

    def attempt() -> requests.Response:
        response = session.get(url, params=params, timeout=timeout_seconds)
        if is_retryable_status(response.status_code):
            raise RetryableStatus(response)
        return response

    started = time.monotonic()
    try:
        return http_retrying(policy, what=what, on_retry=on_retry)(attempt)
    except tenacity.RetryError as exc:
        last = exc.last_attempt.exception()
        reason = str(last) if isinstance(last, RetryableStatus) else f"{type(last).__name__}: {last}"
        raise RetriesExhausted(
            f"{what}: gave up after {exc.last_attempt.attempt_number} attempts in "
            f"{time.monotonic() - started:.1f}s (last: {reason})"
        ) from last
