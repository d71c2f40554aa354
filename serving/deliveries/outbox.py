"""Reading and operating the outbox: status, resend, verify (what `ibrain deliveries` calls)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from ibrain.lake import Lake
from security.actor import Actor
from security.audit.trail import record, utc_now, utc_text
from security.db import transaction
from security.outbox import DeliveryPackage


class ResendRefused(ValueError):
    """A resend the outbox does not allow (unknown package, acknowledged without --force, in flight)."""


def status(engine: Engine) -> list[dict[str, Any]]:
    """One object per package: recipient, dataset, period, revision, state, attempts, error, receipt id."""
    with transaction(engine) as session:
        rows = session.execute(
            select(DeliveryPackage).order_by(
                DeliveryPackage.recipient,
                DeliveryPackage.dataset,
                DeliveryPackage.period,
                DeliveryPackage.revision,
            )
        ).scalars()
        return [
            {
                "id": p.id,
                "recipient": p.recipient,
                "dataset": p.dataset,
                "period": p.period,
                "revision": p.revision,
                "supersedes": p.supersedes,
                "state": p.state,
                "attempts": p.attempts,
                "rows": p.rows,
                "payload_sha256": p.payload_sha256,
                "last_error": p.last_error,
                "receipt_id": json.loads(p.receipt).get("receipt_id") if p.receipt else None,
                "acknowledged_at": p.acknowledged_at,
            }
            for p in rows
        ]


def resend(engine: Engine, package_id: str, actor: Actor, *, force: bool = False) -> str:
    """Put a package back to ``pending`` (same id, so the recipient dedupes); an acknowledged one
    only with ``force``. Returns the state it had."""
    with transaction(engine) as session:
        row = session.get(DeliveryPackage, package_id)
        if row is None:
            raise ResendRefused(f"no package {package_id!r} in the outbox")
        before = row.state
        refusal = None
        if before == "sending":
            refusal = f"{package_id} is being sent now (lease until {row.lease_until})"
        elif before == "acknowledged" and not force:
            refusal = f"{package_id} is acknowledged; resend it only with --force"
        if refusal is None:
            row.state, row.attempts, row.first_attempt_at, row.next_attempt_at = "pending", 0, None, None
            row.updated_at = utc_text(utc_now())
        record(
            session,
            actor=actor,
            event_type="delivery.resend",
            object=package_id,
            result="refused" if refusal else "success",
            params={"force": force, "state_before": before},
            details=refusal,
        )
    if refusal:
        raise ResendRefused(refusal)
    return before


@dataclass(frozen=True)
class Problem:
    package_id: str
    problem: str


def verify(engine: Engine, lake: Lake) -> list[Problem]:
    """Re-check every acknowledged package: its payload's hash in the lake, the manifest's, and the
    receipt's (id, revision, payload hash) against the outbox."""
    problems = []
    with transaction(engine) as session:
        rows = list(
            session.execute(select(DeliveryPackage).where(DeliveryPackage.state == "acknowledged")).scalars()
        )
    for p in rows:
        try:
            payload = lake.read_bytes(p.payload_uri)
            manifest = json.loads(lake.read_bytes(p.manifest_uri))["manifest"]
        except (OSError, ValueError, KeyError) as exc:
            problems.append(Problem(p.id, f"files unreadable: {exc}"))
            continue
        if hashlib.sha256(payload).hexdigest() != p.payload_sha256:
            problems.append(Problem(p.id, "payload in the lake differs from the hash delivered"))
        if manifest.get("payload_sha256") != p.payload_sha256:
            problems.append(Problem(p.id, "manifest's payload hash differs from the outbox"))
        receipt = json.loads(p.receipt or "{}")
        if (receipt.get("id"), receipt.get("revision"), receipt.get("payload_sha256")) != (
            p.id,
            p.revision,
            p.payload_sha256,
        ):
            problems.append(Problem(p.id, "receipt does not match the package"))
    return problems
