"""Packages: one per recipient × dataset × period, revised when (and only when) content changes.

A package is a payload (JSON Lines, UTF-8, rows in primary-key order, keys in column order) and a
manifest (columns with Chinese names and units, the data dictionary, rows, SHA-256 of the payload,
contract version, Delta version read, the latest audit checkpoint), signed with the recipient's
Ed25519 delivery key. The *content hash* covers the columns and the payload only — not the
generation time, the Delta version or the checkpoint — so rebuilding unchanged data creates
nothing, and changed data for a delivered period becomes the next revision, superseding the last.

Files first, row second: the payload and manifest are written to
``exchange/<recipient>/<dataset>/<period>/r<revision>/`` before the outbox row commits, so a row
never points at missing files; a crash in between leaves files that the next build rewrites.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ibrain.lake import Lake
from security.actor import Actor
from security.audit.checkpoints import checkpoint_document
from security.audit.models import AuditCheckpoint
from security.audit.trail import record, utc_text
from security.db import transaction
from security.keys import Keyring
from security.outbox import DeliveryPackage
from serving.deliveries.signing import canonical, sign_manifest

FORMAT = "jsonl"
OPEN_STATES = ("pending", "retrying", "dead_letter")  # not yet delivered: a newer build supersedes them


@dataclass(frozen=True)
class Column:
    name: str
    name_zh: str
    type: str
    unit: str | None = None
    codes: str | None = None  # the code list and its version, e.g. "GB/T 2260-2007 (2023)"

    def describe(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class PackageContent:
    """What one package carries, before it is written: rows already in primary-key order."""

    recipient: str
    dataset: str
    period: str  # YYYY-MM
    columns: tuple[Column, ...]
    rows: Sequence[Mapping[str, Any]]
    contract_version: str
    delta_version: int | None = None
    source: str = ""
    suppressed: int = 0  # cells hidden by disclosure control
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Built:
    package_id: str | None  # None: unchanged content, nothing built
    revision: int
    created: bool


def package_id(recipient: str, dataset: str, period: str, revision: int) -> str:
    """The idempotency key: stable for a revision (a resend keeps it)."""
    return f"{recipient}.{dataset}.{period}.r{revision}"


def _json_value(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, float) and value != value:  # NaN never leaves as a number
        return None
    return value


def payload_bytes(columns: Sequence[Column], rows: Sequence[Mapping[str, Any]]) -> bytes:
    """JSON Lines, one object per row, keys in column order (decimals as exact text)."""
    names = [c.name for c in columns]
    lines = []
    for row in rows:
        document = {name: _json_value(row.get(name)) for name in names}
        lines.append(json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False))
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


def content_hash(columns: Sequence[Column], payload_sha256: str) -> str:
    return hashlib.sha256(
        canonical({"columns": [c.describe() for c in columns], "payload_sha256": payload_sha256})
    ).hexdigest()


def latest_checkpoint(session: Session) -> dict[str, Any] | None:
    """The newest signed audit checkpoint (the platform keeps an outside copy of it)."""
    found = session.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc()).limit(1))
    checkpoint = found.scalar_one_or_none()
    return checkpoint_document(checkpoint) if checkpoint is not None else None


def build_package(
    engine: Engine,
    lake: Lake,
    content: PackageContent,
    keyring: Keyring,
    actor: Actor,
    now: dt.datetime,
) -> Built:
    """Build ``content`` as the next revision of its period unless the latest has the same content."""
    payload = payload_bytes(content.columns, content.rows)
    payload_sha = hashlib.sha256(payload).hexdigest()
    chash = content_hash(content.columns, payload_sha)
    key = (content.recipient, content.dataset, content.period)
    with transaction(engine) as session:
        last = session.execute(
            select(DeliveryPackage)
            .where(
                DeliveryPackage.recipient == content.recipient,
                DeliveryPackage.dataset == content.dataset,
                DeliveryPackage.period == content.period,
            )
            .order_by(DeliveryPackage.revision.desc())
            .limit(1)
        ).scalar_one_or_none()
        checkpoint = latest_checkpoint(session)
    if last is not None and last.content_hash == chash:
        return Built(None, last.revision, False)
    revision = 1 if last is None else last.revision + 1
    pid = package_id(*key, revision)
    manifest = {
        "id": pid,
        "recipient": content.recipient,
        "dataset": content.dataset,
        "period": content.period,
        "revision": revision,
        "supersedes": None if last is None else last.revision,
        "format": FORMAT,
        "encoding": "UTF-8",
        "columns": [c.describe() for c in content.columns],
        "rows": len(content.rows),
        "payload_sha256": payload_sha,
        "content_hash": chash,
        "contract_version": content.contract_version,
        "source": content.source,
        "delta_version": content.delta_version,
        "suppressed_cells": content.suppressed,
        "generated_at": utc_text(now),
        "audit_checkpoint": checkpoint,
        **content.extra,
    }
    signed = {"manifest": manifest, "signature": sign_manifest(keyring, manifest)}
    folder = ("exchange", content.recipient, content.dataset, content.period, f"r{revision}")
    payload_uri, manifest_uri = lake.uri(*folder, "payload.jsonl"), lake.uri(*folder, "manifest.json")
    lake.write_bytes(payload_uri, payload)
    lake.write_bytes(manifest_uri, json.dumps(signed, ensure_ascii=False, indent=2).encode("utf-8"))
    stamp = utc_text(now)
    with transaction(engine) as session:
        if last is not None:
            previous = session.get(DeliveryPackage, last.id)
            if previous is not None and previous.state in OPEN_STATES:
                previous.state, previous.updated_at = "superseded", stamp
        session.add(
            DeliveryPackage(
                id=pid,
                recipient=content.recipient,
                dataset=content.dataset,
                period=content.period,
                revision=revision,
                supersedes=manifest["supersedes"],
                content_hash=chash,
                payload_sha256=payload_sha,
                rows=len(content.rows),
                payload_uri=payload_uri,
                manifest_uri=manifest_uri,
                state="pending",
                attempts=0,
                created_at=stamp,
                updated_at=stamp,
            )
        )
        record(
            session,
            actor=actor,
            event_type="delivery.build",
            object=pid,
            result="success",
            params={
                "rows": len(content.rows),
                "payload_sha256": payload_sha,
                "supersedes": manifest["supersedes"],
                "suppressed_cells": content.suppressed,
                "delta_version": content.delta_version,
            },
        )
    return Built(pid, revision, True)
