"""``ibrain audit``: verify, checkpoint, search and purge the audit trail (security/audit/)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from ibrain_cli.console import echo, fail

DATE = click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f"])


def _utc(moment: datetime | None) -> datetime | None:
    """A date from the command line: naive means UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@click.group()
def audit() -> None:
    """The tamper-evident audit trail in the state database (IBRAIN_DB_URL)."""


@audit.command("verify")
@click.option(
    "--public-keys",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Checkpoint public keys, as `ibrain keys show-public checkpoint` prints them "
    "[default: the public halves of IBRAIN_CHECKPOINT_KEY_FILE].",
)
@click.option(
    "--strict", is_flag=True, help="Fail also when records after the last checkpoint are unanchored."
)
def audit_verify(public_keys: Path | None, strict: bool) -> None:
    """Re-compute the hash chain and the signed checkpoints (database and export) and check the
    retention. Names the first record that was edited, deleted, reordered or inserted and any
    checkpoint cut or forged; exit 1 on any of them. Records after the last checkpoint are
    reported as unanchored (a failure only with --strict)."""
    from sqlalchemy.exc import SQLAlchemyError

    from security.audit.checkpoints import CheckpointExport
    from security.audit.verify import parse_public_keys, verify
    from security.db import make_engine
    from security.keys import KeyFileError, load_keyring

    try:
        if public_keys is not None:
            keys = parse_public_keys(public_keys.read_text(encoding="utf-8"))
        else:
            keys = {k.kid: k.public for k in load_keyring("checkpoint").keys if k.public is not None}
        engine = make_engine()
        try:
            report = verify(engine, keys, CheckpointExport.from_settings())
        finally:
            engine.dispose()
    except (KeyFileError, SQLAlchemyError, ValueError) as exc:
        fail(str(exc).splitlines()[0])
    span = f" (#{report.first_seq}–#{report.last_seq}, oldest {report.oldest})" if report.records else ""
    echo(f"audit trail: {report.records} records{span}")
    last = f", last at #{report.last_checkpoint}" if report.last_checkpoint is not None else ""
    echo(f"checkpoints: {report.checkpoints} valid{last}; {report.unanchored} unanchored records")
    for warning in report.warnings:
        echo(f"warning: {warning}", fg="yellow")
    for finding in report.findings:
        echo(f"TAMPERED ({finding.kind}): {finding.message}", fg="red")
    if report.findings:
        fail(
            f"the audit trail does not verify ({len(report.findings)} finding(s)); "
            f"first: {report.findings[0].message}"
        )
    if strict and report.unanchored:
        fail(f"{report.unanchored} unanchored records after the last checkpoint (--strict)")
    echo("verified", fg="green")


@audit.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign a checkpoint at the chain head with the checkpoint key and export every checkpoint."""
    from security.audit.checkpoints import CheckpointExport, create_checkpoint
    from security.db import make_engine, migrate
    from security.keys import KeyFileError

    try:
        engine = make_engine()
        migrate(engine)
        export = CheckpointExport.from_settings()
        checkpoint = create_checkpoint(engine, export=export)
        engine.dispose()
    except KeyFileError as exc:
        fail(str(exc))
    if checkpoint is None:
        echo("the audit trail is empty: no checkpoint")
        return
    echo(
        f"checkpoint #{checkpoint.seq} ({checkpoint.head_hash[:16]}…, key {checkpoint.kid}) "
        f"→ {export.location}"
    )


@audit.command("search")
@click.option("--actor", help="Principal (user:…, app:…, system:…); a trailing * matches a prefix.")
@click.option("--object", "object_", help="Object acted on; a trailing * matches a prefix.")
@click.option("--event", help="Event type (e.g. auth.login); a trailing * matches a prefix (auth.*).")
@click.option("--since", type=DATE, help="From this time (UTC), inclusive.")
@click.option("--until", type=DATE, help="Before this time (UTC), exclusive.")
@click.option("--limit", type=int, default=1000, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def audit_search(
    actor: str | None,
    object_: str | None,
    event: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    as_json: bool,
) -> None:
    """Audit records matching every filter given, oldest first."""
    from security.audit.search import search
    from security.db import make_engine

    found = search(
        make_engine(),
        actor=actor,
        object=object_,
        event=event,
        since=_utc(since),
        until=_utc(until),
        limit=limit,
    )
    for entry in found:
        if as_json:
            row = {c.key: getattr(entry, c.key) for c in entry.__table__.columns}
            row["params"] = json.loads(entry.params)
            echo(json.dumps(row, ensure_ascii=False, sort_keys=True))
        else:
            who = " ".join(part for part in (entry.principal, entry.org, entry.role) if part)
            echo(
                f"#{entry.seq} {entry.recorded_at} {who} {entry.event_type} {entry.object} "
                f"{entry.result} {entry.params}"
                + (f" request={entry.request_id}" if entry.request_id else "")
            )
    echo(f"{len(found)} record(s)", err=True)


@audit.command("purge")
@click.option(
    "--before", type=DATE, required=True, help="Remove records older than this (UTC); ≥ 180 days ago."
)
def audit_purge(before: datetime) -> None:
    """Remove records older than --before, keeping the rest verifiable from a signed checkpoint at
    the cut; the purge is itself audited."""
    from security.actor import Actor
    from security.audit.purge import purge
    from security.audit.trail import AuditError
    from security.db import make_engine, migrate
    from security.keys import KeyFileError

    engine = make_engine()
    migrate(engine)
    try:
        result = purge(engine, before=_utc(before), actor=Actor("system:ibrain-cli"))
    except (AuditError, KeyFileError) as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    if not result.removed:
        echo("nothing older than the cut-off")
        return
    echo(
        f"purged records #1–#{result.cut} ({result.removed} removed); purge recorded as #{result.record_seq}"
    )
