"""Posting alerts: each (rule, event, webhook) once, signed, retried, remembered.

A dispatch claims the dedupe key in the state database (``alert_delivery``, primary key) before
it posts, so a second sensor tick or process finds it taken; after a 2xx it is ``sent``, after
retries are exhausted (ibrain.retry: 429/5xx/timeouts, backoff) or a 4xx it is ``failed`` and a
later dispatch tries it again. The receiver can also dedupe: ``X-Ibrain-Event-Id`` is the key.

Signature (what a receiver checks): ``X-Ibrain-Signature: sha256=<hex>`` where hex =
HMAC-SHA256(secret, ``<X-Ibrain-Timestamp>.<body>``) — the timestamp (Unix seconds) inside the
MAC so a captured request cannot be replayed later with a fresh time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
import tenacity
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from ibrain.retry import HttpRetryPolicy, RetryableStatus, http_retrying, is_retryable_status
from security.alerts import AlertDelivery
from security.audit.trail import utc_text
from security.db import transaction
from serving.alerts.events import Event
from serving.alerts.rules import AlertConfigError, Rule, webhook_url

log = logging.getLogger(__name__)
STALE_CLAIM = dt.timedelta(minutes=15)  # a "sending" claim older than this was left by a dead process


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def body_of(rule: Rule, event: Event) -> bytes:
    document = {"rule": rule.id, "event": event.kind, "key": event.key, "title": event.title}
    document["fields"] = event.fields
    return json.dumps(document, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8")


@dataclass
class Outcome:
    """What one dispatch did, for the sensor's log and the command's output."""

    sent: list[str] = field(default_factory=list)  # dedupe keys
    failed: list[str] = field(default_factory=list)
    skipped: int = 0  # already sent (or being sent)
    unconfigured: set[str] = field(default_factory=set)  # webhooks without a URL


def _claim(
    engine: Engine, key: str, rule: Rule, event: Event, webhook: str, body: bytes, now: dt.datetime
) -> bool:
    """Take the dedupe key (insert ``sending``); a failed or stale claim is taken over."""
    with transaction(engine) as session:
        found = session.get(AlertDelivery, key)
        if found is not None:
            stale = found.state == "sending" and found.created_at < utc_text(now - STALE_CLAIM)
            if found.state == "failed" or stale:
                found.state, found.attempts = "sending", found.attempts + 1
                return True
            return False
    try:
        with transaction(engine) as session:
            session.add(
                AlertDelivery(
                    dedupe_key=key, rule_id=rule.id, event_kind=event.kind, event_key=event.key[:300],
                    webhook=webhook, title=event.title, payload=body.decode("utf-8"), state="sending",
                    attempts=1, created_at=utc_text(now),
                )
            )  # fmt: skip
    except IntegrityError:
        return False  # another process claimed it between the look and the insert
    return True


def _finish(engine: Engine, key: str, error: str | None, now: dt.datetime) -> None:
    with transaction(engine) as session:
        row = session.get(AlertDelivery, key)
        assert row is not None
        row.state = "failed" if error else "sent"
        row.last_error = error
        row.sent_at = None if error else utc_text(now)


def post(
    session: requests.Session, url: str, body: bytes, key: str, secret: bytes, policy: HttpRetryPolicy,
    clock: Callable[[], dt.datetime],
) -> None:  # fmt: skip
    """POST ``body`` (signed afresh on each attempt); raises on a final failure."""

    def attempt() -> None:
        timestamp = str(int(clock().timestamp()))
        response = session.post(
            url, data=body, timeout=10, allow_redirects=False,
            headers={"Content-Type": "application/json; charset=utf-8", "X-Ibrain-Event-Id": key,
                     "X-Ibrain-Timestamp": timestamp, "X-Ibrain-Signature": sign(secret, timestamp, body)},
        )  # fmt: skip
        if is_retryable_status(response.status_code):
            raise RetryableStatus(response)
        if not 200 <= response.status_code < 300:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")

    try:
        http_retrying(policy, what=f"alert POST {url}")(attempt)
    except tenacity.RetryError as exc:
        raise RuntimeError(f"gave up after {exc.last_attempt.attempt_number} attempts: "
                           f"{exc.last_attempt.exception()}") from None  # fmt: skip


def dispatch(
    engine: Engine,
    rules: Iterable[Rule],
    events: Iterable[Event],
    secret: bytes,
    environ: Mapping[str, str] | None = None,
    policy: HttpRetryPolicy | None = None,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> Outcome:
    """Post every (rule, event, webhook) not yet sent. A webhook whose URL is not on the allow-list
    raises :class:`AlertConfigError` before anything is posted (a misconfiguration is loud)."""
    rules = list(rules)
    urls: dict[str, str | None] = {}
    for rule in rules:
        for hook in rule.webhooks:
            if hook not in urls:
                urls[hook] = webhook_url(hook, environ)  # raises for a URL off the allow-list
    policy = policy or HttpRetryPolicy.from_env(environ)
    http = requests.Session()
    http.trust_env = False  # no proxy or netrc from the environment for signed traffic
    outcome = Outcome()
    for event in events:
        for rule in rules:
            if not rule.matches(event.kind, event.fields):
                continue
            for hook in rule.webhooks:
                url = urls[hook]
                if url is None:
                    outcome.unconfigured.add(hook)
                    continue
                key = f"{rule.id}|{hook}|{event.key}"
                body = body_of(rule, event)
                if not _claim(engine, key, rule, event, hook, body, clock()):
                    outcome.skipped += 1
                    continue
                try:
                    post(http, url, body, key, secret, policy, clock)
                except (RuntimeError, requests.RequestException, RetryableStatus) as exc:
                    log.warning("alert %s to %s failed: %s", key, hook, exc)
                    _finish(engine, key, str(exc)[:2000], clock())
                    outcome.failed.append(key)
                else:
                    _finish(engine, key, None, clock())
                    outcome.sent.append(key)
    return outcome


def recent(engine: Engine, limit: int = 100) -> list[dict[str, Any]]:
    """The latest alerts, newest first (the portal's listing): no payload beyond the title."""
    with transaction(engine) as session:
        rows = session.scalars(select(AlertDelivery).order_by(AlertDelivery.created_at.desc()).limit(limit))
        return [
            {
                "rule": r.rule_id, "event": r.event_kind, "key": r.event_key, "webhook": r.webhook,
                "title": r.title, "state": r.state, "attempts": r.attempts, "error": r.last_error,
                "created_at": r.created_at, "sent_at": r.sent_at,
            }
            for r in rows
        ]  # fmt: skip


__all__ = ["AlertConfigError", "Outcome", "dispatch", "post", "recent", "sign"]
