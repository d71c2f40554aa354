"""Signed checkpoints of the audit trail, kept in the database and exported beside the lake.

A checkpoint says "the trail had ``seq`` records and record ``seq``'s hash was ``head_hash``",
signed with the checkpoint key (Ed25519, ``security.keys``), so an auditor verifies it with the
public key alone. Why both places: an attacker who rewrites the whole database (recomputing every
hash, deleting checkpoint rows) still cannot change the exported copies, nor sign new ones.

The export folder: ``IBRAIN_AUDIT_CHECKPOINT_DIR`` if set; else ``<lake's parent>/audit-checkpoints/``
for a local lake, or the lake's ``audit/checkpoints/`` prefix on S3. One JSON file per checkpoint,
``checkpoint-<seq, 12 digits>.json``, written once and never replaced.
"""

from __future__ import annotations

import base64
import json
import os
import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ibrain.lake import Lake
from ibrain.settings import Settings, get_settings
from security.actor import Actor
from security.audit import trail
from security.audit.models import AuditCheckpoint
from security.audit.trail import canonical_json, lock_head, utc_text
from security.db import transaction
from security.keys import Keyring, load_keyring

CHECKPOINT_DIR_VARIABLE = "IBRAIN_AUDIT_CHECKPOINT_DIR"
LOCAL_DIR_NAME = "audit-checkpoints"
PAYLOAD_VERSION = 1


def checkpoint_payload(seq: int, head_hash: str, created_at: str, kid: str) -> bytes:
    """The signed bytes: canonical JSON of the checkpoint's fields."""
    document = {
        "v": PAYLOAD_VERSION,
        "seq": seq,
        "head_hash": head_hash,
        "created_at": created_at,
        "kid": kid,
    }
    return canonical_json(document).encode("utf-8")


def checkpoint_document(checkpoint: AuditCheckpoint) -> dict[str, Any]:
    """A checkpoint as exported (and as compared between the database and the export)."""
    return {
        "seq": checkpoint.seq,
        "head_hash": checkpoint.head_hash,
        "created_at": checkpoint.created_at,
        "kid": checkpoint.kid,
        "signature": checkpoint.signature,
    }


@dataclass(frozen=True)
class CheckpointExport:
    """The folder (local) or prefix (S3) the checkpoints are exported to."""

    location: str
    lake: Lake | None = None  # set when the location is on the lake's S3 store

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> CheckpointExport:
        settings = settings or get_settings()
        folder = (os.environ.get(CHECKPOINT_DIR_VARIABLE) or "").strip()
        if folder:
            return cls(str(Path(folder).expanduser()))
        if settings.is_s3:
            lake = Lake(settings)
            return cls(lake.uri("audit", "checkpoints"), lake)
        return cls(str(Path(settings.lake_root).parent / LOCAL_DIR_NAME))

    @staticmethod
    def file_name(seq: int) -> str:
        return f"checkpoint-{seq:012d}.json"

    def _path(self, name: str) -> str:
        return posixpath.join(self.location, name)

    def write(self, checkpoint: AuditCheckpoint) -> bool:
        """Export ``checkpoint`` unless its file exists (never replaced). Returns whether it wrote."""
        name = self.file_name(checkpoint.seq)
        data = (json.dumps(checkpoint_document(checkpoint), indent=2, sort_keys=True) + "\n").encode()
        if self.lake is not None:
            if self.lake.exists(self._path(name)):
                return False
            self.lake.write_bytes(self._path(name), data)
            return True
        path = Path(self.location) / name
        if path.exists():
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
        return True

    def read_all(self) -> dict[int, dict[str, Any]]:
        """seq → exported document; a file that is not a checkpoint document raises, naming it."""
        if self.lake is not None:
            uris = [uri for uri in self.lake.list_files(self.location, recursive=False)]
            contents = {posixpath.basename(uri): self.lake.read_bytes(uri) for uri in uris}
        else:
            folder = Path(self.location)
            files = sorted(folder.glob("checkpoint-*.json")) if folder.is_dir() else []
            contents = {path.name: path.read_bytes() for path in files}
        found: dict[int, dict[str, Any]] = {}
        for name, data in contents.items():
            if not (name.startswith("checkpoint-") and name.endswith(".json")):
                continue
            try:
                document = json.loads(data)
                seq = int(document["seq"])
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{self._path(name)}: not a checkpoint document ({exc})") from exc
            found[seq] = document
        return found


def sign_checkpoint(session: Session, seq: int, head_hash: str, keyring: Keyring) -> AuditCheckpoint:
    """Add the signed checkpoint (seq, head_hash) in ``session``'s transaction (or return the
    one that exists at ``seq``)."""
    existing = session.get(AuditCheckpoint, seq)
    if existing is not None:
        return existing
    created_at = utc_text(trail.utc_now())
    kid, signature = keyring.sign(checkpoint_payload(seq, head_hash, created_at, keyring.active.kid))
    checkpoint = AuditCheckpoint(
        seq=seq,
        head_hash=head_hash,
        created_at=created_at,
        kid=kid,
        signature=base64.b64encode(signature).decode("ascii"),
    )
    session.add(checkpoint)
    session.flush()
    return checkpoint


def create_checkpoint(
    engine: Engine,
    keyring: Keyring | None = None,
    export: CheckpointExport | None = None,
    *,
    actor: Actor | None = None,
    client: str | None = None,
) -> AuditCheckpoint | None:
    """Sign a checkpoint at the chain head (None for an empty trail; the existing one when the head
    has not moved), then export every checkpoint not yet exported.

    ``actor``: a person who asked for it (``ibrain audit checkpoint``): their ``audit.checkpoint``
    record is written in the same transaction, before signing, so the checkpoint anchors its own
    record. The daily job (``system:dagster``) passes none: its run is audited as a whole.

    Why export after the commit: a checkpoint that is in the database but failed to export is
    exported by the next call; one exported but rolled back would be a false statement.
    """
    keyring = keyring or load_keyring("checkpoint")
    export = export or CheckpointExport.from_settings()
    with transaction(engine) as session:
        if actor is not None:
            trail.record(
                session,
                actor=actor,
                event_type="audit.checkpoint",
                object="audit_trail",
                result="success",
                params={"kid": keyring.active.kid, "export": export.location},
                client=client,
            )
        head = lock_head(session)
        checkpoint = sign_checkpoint(session, head.seq, head.hash, keyring) if head.seq > 0 else None
    export_checkpoints(engine, export)
    return checkpoint


def export_checkpoints(engine: Engine, export: CheckpointExport) -> int:
    """Write every checkpoint of the database that the export lacks; returns how many."""
    with transaction(engine) as session:
        checkpoints = list(session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq)))
    return sum(export.write(checkpoint) for checkpoint in checkpoints)
