"""The sender: lease due packages from the outbox, POST them, record every outcome.

One pass (``send_due``) claims packages one at a time with a lease — a conditional UPDATE that
succeeds for one sender only — so two senders never send the same package at once; a sender
killed mid-request leaves a lease that expires, and the next pass sends the package again with
the same idempotency key (the recipient returns its original receipt: applied once). Attempts are
counted when claimed, so a crash counts too.

Outcomes: a 2xx whose receipt names this package and its payload hash → ``acknowledged``; a
receipt for a newer revision the recipient already holds → ``superseded``; 429, 5xx, a timeout or
a connection error → ``retrying`` after the backoff of the shared retry policy (``ibrain.retry``:
exponential, jittered, ``Retry-After`` honoured) until the attempts or the window run out →
``dead_letter``; any other answer (a redirect, 401, 422 …) is a refusal → ``dead_letter`` at once.
Each state change commits with its audit record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests
from sqlalchemy import Engine, and_, func, or_, select, update

from ibrain.lake import Lake
from ibrain.retry import HttpRetryPolicy, is_retryable_status, retry_after_seconds
from ibrain.settings import SettingsError
from security.actor import Actor
from security.audit.trail import record, utc_text
from security.db import transaction
from security.keys import Keyring
from security.outbox import DeliveryPackage
from serving.deliveries.signing import signature_header
from serving.deliveries.transport import Answer

SENDABLE = ("pending", "retrying")


class Clock(Protocol):
    def now(self) -> dt.datetime: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class Adapter(Protocol):
    def post(self, body: bytes, headers: Mapping[str, str]) -> Answer: ...


def delivery_policy(environ: Mapping[str, str] | None = None) -> HttpRetryPolicy:
    """The delivery retry policy: 10 attempts within 24 h, backoff doubling from 30 s, waits capped
    at 1 h; ``IBRAIN_DELIVERY_BACKOFF_SECONDS`` and ``IBRAIN_DELIVERY_ATTEMPTS`` change it (the demo
    uses seconds)."""
    environ = os.environ if environ is None else environ
    try:
        backoff = float(environ.get("IBRAIN_DELIVERY_BACKOFF_SECONDS") or 30.0)
        attempts = int(environ.get("IBRAIN_DELIVERY_ATTEMPTS") or 10)
    except ValueError as exc:
        raise SettingsError(f"IBRAIN_DELIVERY_BACKOFF_SECONDS / IBRAIN_DELIVERY_ATTEMPTS: {exc}") from None
    return HttpRetryPolicy(
        attempts=attempts,
        backoff_seconds=backoff,
        max_wait_seconds=max(2.0, min(3600.0, backoff * 120)),
        max_total_seconds=24 * 3600.0,
    )


@dataclass
class SendReport:
    acknowledged: list[str] = field(default_factory=list)
    superseded: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    dead_letter: list[str] = field(default_factory=list)
    attempts: int = 0


def _due(now_text: str) -> Any:
    return or_(
        and_(
            DeliveryPackage.state.in_(SENDABLE),
            or_(DeliveryPackage.next_attempt_at.is_(None), DeliveryPackage.next_attempt_at <= now_text),
        ),
        and_(DeliveryPackage.state == "sending", DeliveryPackage.lease_until < now_text),
    )


def claim(
    engine: Engine, owner: str, now: dt.datetime, lease_seconds: float, recipients: set[str]
) -> str | None:
    """Lease one due package (oldest first) for ``owner``; None when nothing is due."""
    now_text = utc_text(now)
    until = utc_text(now + dt.timedelta(seconds=lease_seconds))
    with transaction(engine) as session:
        ids = session.execute(
            select(DeliveryPackage.id)
            .where(_due(now_text), DeliveryPackage.recipient.in_(recipients))
            .order_by(DeliveryPackage.created_at, DeliveryPackage.id)
            .limit(20)
        ).scalars()
        for pid in ids:
            done = session.execute(
                update(DeliveryPackage)
                .where(DeliveryPackage.id == pid, _due(now_text))
                .values(
                    state="sending",
                    lease_owner=owner,
                    lease_until=until,
                    attempts=DeliveryPackage.attempts + 1,
                    first_attempt_at=func.coalesce(DeliveryPackage.first_attempt_at, now_text),
                    updated_at=now_text,
                )
                .execution_options(synchronize_session=False)
            )
            if done.rowcount == 1:
                return pid
    return None


def request_body(package: DeliveryPackage, signed_manifest: dict[str, Any], payload: bytes) -> bytes:
    """The signed body: everything the recipient acts on, the manifest and its signature, the payload."""
    manifest = signed_manifest["manifest"]
    document = {
        "id": package.id,
        "recipient": package.recipient,
        "dataset": package.dataset,
        "period": package.period,
        "revision": package.revision,
        "supersedes": package.supersedes,
        "content_hash": package.content_hash,
        "payload_sha256": package.payload_sha256,
        "format": manifest["format"],
        "manifest": manifest,
        "manifest_signature": signed_manifest["signature"],
        "payload": payload.decode("utf-8"),
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


@dataclass
class Sender:
    """One sender: its adapters and HMAC keyrings per recipient, its clock and policy."""

    engine: Engine
    lake: Lake
    adapters: Mapping[str, Adapter]
    hmac_keys: Mapping[str, Keyring]
    actor: Actor
    clock: Clock = field(default_factory=SystemClock)
    policy: HttpRetryPolicy = field(default_factory=delivery_policy)
    owner: str = field(default_factory=lambda: f"sender-{os.getpid()}")
    lease_seconds: float = 120.0
    on_claim: Callable[[str], None] | None = None  # a test hook (e.g. to kill the process mid-send)

    def send_due(self, max_wait_seconds: float = 0.0) -> SendReport:
        """Send every due package; wait (on the clock) for retries due within ``max_wait_seconds``
        of the start, then stop — what is still retrying waits for the next run."""
        report = SendReport()
        deadline = self.clock.now() + dt.timedelta(seconds=max_wait_seconds)
        recipients = set(self.adapters)
        while True:
            pid = claim(self.engine, self.owner, self.clock.now(), self.lease_seconds, recipients)
            if pid is not None:
                if self.on_claim is not None:
                    self.on_claim(pid)
                report.attempts += 1
                outcome = self.attempt(pid)
                getattr(report, outcome).append(pid)
                continue
            wake = self._next_retry(recipients)
            if wake is None or wake > deadline:
                break
            self.clock.sleep(max(0.0, (wake - self.clock.now()).total_seconds()))
        for listed in (report.acknowledged, report.superseded, report.dead_letter):
            report.retrying = [p for p in report.retrying if p not in listed]
        report.retrying = sorted(set(report.retrying))
        return report

    def _next_retry(self, recipients: set[str]) -> dt.datetime | None:
        with transaction(self.engine) as session:
            found = session.execute(
                select(func.min(DeliveryPackage.next_attempt_at)).where(
                    DeliveryPackage.state == "retrying", DeliveryPackage.recipient.in_(recipients)
                )
            ).scalar_one_or_none()
        return dt.datetime.strptime(found, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC) if found else None

    def attempt(self, pid: str) -> str:
        """One POST of a leased package; returns the state it ends in."""
        with transaction(self.engine) as session:
            package = session.get(DeliveryPackage, pid)
            assert package is not None
        signed = json.loads(self.lake.read_bytes(package.manifest_uri))
        payload = self.lake.read_bytes(package.payload_uri)
        if signed["manifest"]["payload_sha256"] != package.payload_sha256 or (
            _sha256(payload) != package.payload_sha256
        ):
            return self._finish(
                pid, "dead_letter", "payload or manifest in the lake no longer matches the outbox"
            )
        body = request_body(package, signed, payload)
        timestamp = int(self.clock.now().timestamp())
        headers = {
            "webhook-id": pid,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(
                self.hmac_keys[package.recipient].secrets(), pid, timestamp, body
            ),
        }
        try:
            answer = self.adapters[package.recipient].post(body, headers)
        except (requests.Timeout, requests.ConnectionError) as exc:
            return self._transient(package, f"{type(exc).__name__}: {str(exc)[:200]}", None)
        if 200 <= answer.status < 300:
            return self._receipt(package, answer)
        error = f"HTTP {answer.status}: {answer.body[:300].decode('utf-8', 'replace')}"
        if is_retryable_status(answer.status):
            return self._transient(package, error, retry_after_seconds(answer.headers.get("Retry-After")))
        if 300 <= answer.status < 400:
            error += f" (redirect to {answer.headers.get('Location')!r} not followed)"
        return self._finish(pid, "dead_letter", error, attempt_result="failure")

    def _receipt(self, package: DeliveryPackage, answer: Answer) -> str:
        try:
            receipt = json.loads(answer.body)
            rid, revision, sha = receipt["id"], int(receipt["revision"]), receipt["payload_sha256"]
        except (ValueError, KeyError, TypeError) as exc:
            return self._transient(package, f"unreadable receipt ({exc})", None)
        if rid == package.id and revision == package.revision and sha == package.payload_sha256:
            return self._finish(package.id, "acknowledged", None, receipt=answer.body.decode("utf-8"))
        if (
            receipt.get("dataset") == package.dataset
            and receipt.get("period") == package.period
            and revision > package.revision
        ):
            note = f"recipient holds revision {revision}; this revision is not applied"
            return self._finish(package.id, "superseded", note, receipt=answer.body.decode("utf-8"))
        return self._transient(package, f"receipt does not match the package (id {rid}, sha {sha})", None)

    def _transient(self, package: DeliveryPackage, error: str, retry_after: float | None) -> str:
        now = self.clock.now()
        with transaction(self.engine) as session:
            row = session.get(DeliveryPackage, package.id)
            assert row is not None
            first = dt.datetime.strptime(row.first_attempt_at or utc_text(now), "%Y-%m-%dT%H:%M:%S.%fZ")
            elapsed = (now - first.replace(tzinfo=dt.UTC)).total_seconds()
            wait = self.policy.wait(row.attempts, retry_after)
            exhausted = row.attempts >= self.policy.attempts or elapsed + wait > self.policy.max_total_seconds
        if exhausted:
            why = f"{error}; gave up after {row.attempts} attempts in {elapsed:.0f}s"
            return self._finish(package.id, "dead_letter", why, attempt_result="failure")
        return self._finish(
            package.id,
            "retrying",
            error,
            attempt_result="failure",
            next_attempt=now + dt.timedelta(seconds=wait),
        )

    def _finish(
        self,
        pid: str,
        state: str,
        error: str | None,
        *,
        receipt: str | None = None,
        attempt_result: str = "success",
        next_attempt: dt.datetime | None = None,
    ) -> str:
        now = utc_text(self.clock.now())
        with transaction(self.engine) as session:
            row = session.get(DeliveryPackage, pid)
            assert row is not None
            if row.lease_owner != self.owner:  # our lease expired and another sender took it
                return "retrying"
            row.state, row.last_error, row.updated_at = state, error, now
            row.lease_owner = row.lease_until = None
            row.next_attempt_at = utc_text(next_attempt) if next_attempt else None
            params = {"attempt": row.attempts, "state": state, "recipient": row.recipient}
            record(
                session,
                actor=self.actor,
                event_type="delivery.attempt",
                object=pid,
                result=attempt_result if state != "acknowledged" else "success",
                params=params,
                details=error,
            )
            if receipt is not None:
                row.receipt = receipt
                if state == "acknowledged":
                    row.acknowledged_at = now
                    record(
                        session,
                        actor=self.actor,
                        event_type="delivery.receipt",
                        object=pid,
                        result="success",
                        params={"receipt": json.loads(receipt)},
                    )
            if state == "dead_letter":
                record(
                    session,
                    actor=self.actor,
                    event_type="delivery.dead_letter",
                    object=pid,
                    result="failure",
                    params=params,
                    details=error,
                )
        return state


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
