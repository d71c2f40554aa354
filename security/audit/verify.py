"""Verify the audit trail: re-compute the chain and the signed checkpoints, name what was tampered.

What is checked (issue 13 item 6):

- every record's SM3 hash against its fields, and its ``prev_hash`` against the record before it:
  the first record that was **edited**, **deleted** (a gap in the sequence), **reordered** (a
  record whose fields hash correctly under a nearby sequence number) or **inserted** (the next
  record links past it) is named;
- the first record links to the genesis hash, or — after a purge — to a signed checkpoint at the
  record before it, and an audited ``audit.purge`` record names that cut;
- every checkpoint, in the database and in the export, has a valid signature by a checkpoint key
  (public keys only), the two copies agree, and the record at its position has its head hash; a
  checkpoint past the end of the trail means records were **cut**;
- the chain head row agrees with the last record;
- retention: every purge kept at least ``MIN_RETENTION_DAYS`` days.

Records after the last valid checkpoint are reported as "N unanchored records": a rewrite of them
that also recomputes their hashes cannot be told from the truth until the next checkpoint. They
alone do not fail the verification (records are written continuously and checkpoints are periodic);
``strict`` makes them fail.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from security.audit.checkpoints import CheckpointExport, checkpoint_document, checkpoint_payload
from security.audit.models import GENESIS_HASH, AuditCheckpoint, AuditHead, AuditRecord
from security.audit.trail import TIME_FORMAT, record_hash

MIN_RETENTION_DAYS = 180
REORDER_WINDOW = 16  # how far a moved record is looked for (farther: reported as edited)
BATCH = 2000


@dataclass(frozen=True)
class Finding:
    """One sign of tampering. ``kind``: edited, deleted, reordered, inserted, checkpoint, head,
    retention; ``seq``: the record (or checkpoint) it names."""

    kind: str
    seq: int | None
    message: str


@dataclass
class VerifyReport:
    records: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    last_hash: str | None = None
    oldest: str | None = None
    checkpoints: int = 0
    last_checkpoint: int | None = None
    unanchored: int = 0
    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def tampered(self) -> bool:
        return bool(self.findings)

    def ok(self, strict: bool = False) -> bool:
        return not self.findings and not (strict and self.unanchored)


def parse_public_keys(text: str) -> dict[str, Ed25519PublicKey]:
    """``kid base64-key`` lines (what ``ibrain keys show-public checkpoint`` prints) → keys."""
    keys: dict[str, Ed25519PublicKey] = {}
    for line in text.splitlines():
        if line.strip():
            kid, encoded = line.split()
            keys[kid] = Ed25519PublicKey.from_public_bytes(base64.b64decode(encoded, validate=True))
    return keys


def _signature_ok(document: Mapping, keys: Mapping[str, Ed25519PublicKey]) -> bool:
    key = keys.get(str(document.get("kid")))
    if key is None:
        return False
    try:
        payload = checkpoint_payload(
            int(document["seq"]),
            str(document["head_hash"]),
            str(document["created_at"]),
            str(document["kid"]),
        )
        key.verify(base64.b64decode(str(document["signature"]), validate=True), payload)
    except (InvalidSignature, KeyError, ValueError, TypeError):
        return False
    return True


def _records(session: Session) -> Iterator[AuditRecord]:
    last = 0
    while True:
        query = select(AuditRecord).where(AuditRecord.seq > last).order_by(AuditRecord.seq).limit(BATCH)
        batch = list(session.scalars(query))
        if not batch:
            return
        yield from batch
        last = batch[-1].seq
        session.expunge_all()


def _moved_from(record: AuditRecord) -> int | None:
    """The sequence number under which ``record``'s fields hash to its stored hash, if nearby."""
    fields = {column.key: getattr(record, column.key) for column in AuditRecord.__table__.columns}
    for offset in range(1, REORDER_WINDOW + 1):
        for candidate in (record.seq - offset, record.seq + offset):
            if candidate >= 1 and record_hash(AuditRecord(**{**fields, "seq": candidate})) == record.hash:
                return candidate
    return None


def _check_checkpoints(
    db: dict[int, AuditCheckpoint],
    exported: dict[int, dict],
    keys: Mapping[str, Ed25519PublicKey],
    report: VerifyReport,
) -> dict[int, str]:
    """seq → head hash of every checkpoint that is validly signed and consistent; findings added."""
    valid: dict[int, str] = {}
    for seq in sorted(set(db) | set(exported)):
        in_db = checkpoint_document(db[seq]) if seq in db else None
        copy = exported.get(seq)
        if in_db is not None and copy is not None and {k: copy.get(k) for k in in_db} != in_db:
            report.findings.append(
                Finding("checkpoint", seq, f"checkpoint #{seq}: the database and the exported copy differ")
            )
        documents = [d for d in (in_db, copy) if d is not None]
        good = [d for d in documents if _signature_ok(d, keys)]
        for document in documents:
            if document not in good:
                where = "database" if document is in_db else "export"
                report.findings.append(
                    Finding(
                        "checkpoint",
                        seq,
                        f"checkpoint #{seq} ({where}): signature invalid or by an unknown key "
                        f"{document.get('kid')!r}",
                    )
                )
        if copy is not None and in_db is None:
            report.findings.append(
                Finding("checkpoint", seq, f"checkpoint #{seq} is exported but missing from the database")
            )
        if in_db is not None and copy is None:
            report.warnings.append(f"checkpoint #{seq} is not exported yet (run `ibrain audit checkpoint`)")
        if good and len(good) == len(documents):
            valid[seq] = str(good[0]["head_hash"])
    return valid


def verify(
    engine: Engine,
    public_keys: Mapping[str, Ed25519PublicKey],
    export: CheckpointExport | None = None,
) -> VerifyReport:
    """Re-compute the trail in ``engine``'s database against the checkpoints (database and
    ``export``), with the checkpoint public keys only."""
    report = VerifyReport()
    exported = export.read_all() if export is not None else {}
    connection = engine.connect()
    if engine.dialect.name == "postgresql":  # one snapshot of records, head and checkpoints
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
    try:
        with Session(bind=connection, autoflush=False) as session:
            db_checkpoints = {c.seq: c for c in session.scalars(select(AuditCheckpoint))}
            session.expunge_all()
            head = session.get(AuditHead, 1)
            head_row = (head.seq, head.hash) if head is not None else None
            valid = _check_checkpoints(db_checkpoints, exported, public_keys, report)
            report.checkpoints = len(valid)
            _walk(session, valid, report)
    finally:
        connection.close()
    _check_head(head_row, report)
    anchored = [seq for seq in valid if report.last_seq is not None and seq <= report.last_seq]
    report.last_checkpoint = max(anchored) if anchored else None
    if report.last_seq is not None:
        base = report.last_checkpoint if report.last_checkpoint is not None else (report.first_seq or 1) - 1
        report.unanchored = max(0, report.last_seq - base)
    return report


def _walk(session: Session, valid: dict[int, str], report: VerifyReport) -> None:
    """The chain itself: one pass in sequence order; at most one finding per record."""
    before: tuple[int, str] | None = None  # (seq, stored hash) of the record two back
    previous: tuple[int, str] | None = None
    hashes_at_checkpoints: dict[int, str] = {}
    purges: list[AuditRecord] = []
    for record in _records(session):
        report.records += 1
        if record.seq in valid:
            hashes_at_checkpoints[record.seq] = record.hash
        if record.event_type == "audit.purge" and record.result == "success":  # not a refused attempt
            purges.append(record)
        flagged = bool(report.findings) and previous is not None and report.findings[-1].seq == previous[0]
        finding = _check_record(record, previous, before, valid, flagged)
        if finding is not None:
            report.findings.append(finding)
        if previous is None:
            report.first_seq, report.oldest = record.seq, record.recorded_at
        before, previous = previous, (record.seq, record.hash)
    report.last_seq, report.last_hash = previous if previous else (None, None)
    for seq, head_hash in sorted(valid.items()):
        if report.last_seq is None or seq > report.last_seq:
            end = f"ends at #{report.last_seq}" if report.last_seq else "is empty"
            report.findings.append(
                Finding(
                    "checkpoint",
                    seq,
                    f"checkpoint #{seq}: the trail {end} — records after it were cut (deleted)",
                )
            )
        elif seq in hashes_at_checkpoints and hashes_at_checkpoints[seq] != head_hash:
            report.findings.append(
                Finding(
                    "checkpoint",
                    seq,
                    f"checkpoint #{seq}: record #{seq}'s hash differs from the signed head hash "
                    "(the trail up to it was rewritten)",
                )
            )
    _check_retention(report, purges)


def _check_record(
    record: AuditRecord,
    previous: tuple[int, str] | None,
    before: tuple[int, str] | None,
    valid: dict[int, str],
    previous_flagged: bool,
) -> Finding | None:
    """The finding for ``record`` given the two records before it (seq, stored hash), if any.

    ``previous_flagged``: the record before already has a finding, so a broken link here is its
    consequence (the second record of a swapped pair), not a new one.
    """
    seq = record.seq
    computed = record_hash(record)
    if previous is None:
        if seq == 1:
            if record.prev_hash != GENESIS_HASH:
                return Finding("inserted", 1, "record #1 does not start the chain (prev_hash is not genesis)")
        elif valid.get(seq - 1) != record.prev_hash:
            return Finding(
                "deleted",
                1,
                f"records #1–#{seq - 1} are missing; no signed checkpoint at #{seq - 1} anchors #{seq}",
            )
    elif seq != previous[0] + 1:
        gap = f"#{previous[0] + 1}" + (f"–#{seq - 1}" if seq - 1 > previous[0] + 1 else "")
        return Finding(
            "deleted", previous[0] + 1, f"record {gap} deleted: the trail jumps from #{previous[0]} to #{seq}"
        )
    linked = previous is None or record.prev_hash == previous[1]
    if not linked and not previous_flagged and before is not None and record.prev_hash == before[1]:
        return Finding(
            "inserted", previous[0], f"record #{previous[0]} was inserted: record #{seq} links past it"
        )
    if computed != record.hash:
        moved = _moved_from(record)
        if moved is not None:
            return Finding("reordered", seq, f"record #{seq} holds record #{moved} (records reordered)")
        return Finding("edited", seq, f"record #{seq} was edited: its SM3 hash does not match its fields")
    if not linked and not previous_flagged:  # this record is intact: the one before it was replaced
        return Finding(
            "edited",
            previous[0],
            f"record #{previous[0]} was edited and its hash recomputed: record #{seq} does not link to it",
        )
    return None


def _check_head(head_row: tuple[int, str] | None, report: VerifyReport) -> None:
    if head_row is None:
        report.findings.append(Finding("head", None, "the chain head row is missing"))
        return
    seq, head_hash = head_row
    last = report.last_seq or 0
    if seq != last:
        report.findings.append(
            Finding(
                "head",
                last + 1 if seq > last else seq + 1,
                f"the chain head says #{seq} but the trail ends at #{last}",
            )
        )
    elif report.last_hash is not None and head_hash != report.last_hash:
        report.findings.append(Finding("head", seq, f"the chain head's hash differs from record #{seq}'s"))


def _check_retention(report: VerifyReport, purges: list[AuditRecord]) -> None:
    """Each purge kept ``MIN_RETENTION_DAYS``; the cut before the first record is an audited purge."""
    cuts = set()
    for purge in purges:
        params = json.loads(purge.params)
        try:
            cut, cutoff = int(params["cut"]), datetime.strptime(params["cutoff"], TIME_FORMAT)
        except (KeyError, ValueError, TypeError):
            report.findings.append(
                Finding("retention", purge.seq, f"purge record #{purge.seq} lacks its cut")
            )
            continue
        cuts.add(cut)
        at = datetime.strptime(purge.recorded_at, TIME_FORMAT)
        if at - cutoff < timedelta(days=MIN_RETENTION_DAYS):
            report.findings.append(
                Finding(
                    "retention",
                    purge.seq,
                    f"purge record #{purge.seq} removed records younger than {MIN_RETENTION_DAYS} days "
                    f"(cut-off {params['cutoff']})",
                )
            )
    first = report.first_seq
    if first is not None and first > 1 and (first - 1) not in cuts:
        report.findings.append(
            Finding("retention", first, f"records #1–#{first - 1} were removed without an audited purge")
        )


def verify_configured(engine: Engine) -> VerifyReport:
    """``verify`` with the configured checkpoint keyring's public halves and export location."""
    from security.keys import load_keyring

    keys = {key.kid: key.public for key in load_keyring("checkpoint").keys if key.public is not None}
    return verify(engine, keys, CheckpointExport.from_settings())
