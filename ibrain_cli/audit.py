"""``ibrain audit``: verify, checkpoint, search and purge the audit trail (security/audit/).

Who (三员分立, security/authz.py): ``search`` and ``verify`` are the security auditor's
(``audit.read``) — the only role that reads the trail; ``checkpoint`` and ``purge`` are the system
admin's with a fresh login (``audit.manage``) — the auditor changes nothing. Each runs as the
logged-in user and is itself audited (``audit.search``, ``audit.verify``, ``audit.checkpoint``,
``audit.purge``); a refusal is audited as ``refused``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine

from ibrain_cli.auth import CLIENT, audit_alone, current_principal, policy, refuse, state
from ibrain_cli.console import echo, fail
from security.actor import Actor
from security.authz import NEEDS_REAUTH, decide
from security.identity.accounts import utcnow

DATE = click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f"])


def _utc(moment: datetime | None) -> datetime | None:
    """A date from the command line: naive means UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


TRAIL = "audit_trail"  # the object of the trail's own records (as the portal's trail view names it)


def authorise(action: str, event_type: str, params: Mapping[str, Any]) -> tuple[Engine, Actor]:
    """The state database and the logged-in user acting in the role ``action`` needs; a refusal is
    audited as ``refused`` (as ``event_type``) and ends the command."""
    engine = state()
    reauth = policy().reauth if action in NEEDS_REAUTH else None
    decision = decide(current_principal(engine), action, now=utcnow(), reauth=reauth)
    if not decision.allowed:
        refuse(engine, decision.actor, event_type, TRAIL, params, decision.reason)
    return engine, decision.actor


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
    reported as unanchored (a failure only with --strict). The security auditor's (audited as
    audit.verify, after the verification: it is not part of what it verified)."""
    from sqlalchemy.exc import SQLAlchemyError

    from security.audit.checkpoints import CheckpointExport
    from security.audit.verify import parse_public_keys, verify
    from security.keys import KeyFileError, load_keyring

    params: dict[str, Any] = {
        "interface": "cli",
        "with_public_halves_only": public_keys is not None,
        "strict": strict,
    }
    engine, actor = authorise("audit.read", "audit.verify", params)
    try:
        if public_keys is not None:
            keys = parse_public_keys(public_keys.read_text(encoding="utf-8"))
        else:
            keys = {k.kid: k.public for k in load_keyring("checkpoint").keys if k.public is not None}
        report = verify(engine, keys, CheckpointExport.from_settings())
    except (KeyFileError, SQLAlchemyError, ValueError) as exc:
        audit_alone(engine, actor, "audit.verify", TRAIL, "failure", params, str(exc).splitlines()[0])
        fail(str(exc).splitlines()[0])
    failed = bool(report.findings) or (strict and bool(report.unanchored))
    outcome = {
        "records": report.records,
        "checkpoints": report.checkpoints,
        "unanchored": report.unanchored,
        "findings": len(report.findings),
    }
    first = report.findings[0].message if report.findings else None
    if first is None and failed:
        first = f"{report.unanchored} unanchored records (--strict)"
    result = "failure" if failed else "success"
    audit_alone(engine, actor, "audit.verify", TRAIL, result, params | outcome, first)
    engine.dispose()
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
    """Sign a checkpoint at the chain head with the checkpoint key and export every checkpoint.
    The system admin's, freshly logged in (audited as audit.checkpoint, anchored by the checkpoint
    itself); the daily `audit_trail` job signs one too."""
    from security.audit.checkpoints import CheckpointExport, create_checkpoint
    from security.keys import KeyFileError

    engine, actor = authorise("audit.manage", "audit.checkpoint", {})
    export = CheckpointExport.from_settings()
    try:
        checkpoint = create_checkpoint(engine, export=export, actor=actor, client=CLIENT)
    except KeyFileError as exc:
        audit_alone(engine, actor, "audit.checkpoint", TRAIL, "failure", {}, str(exc))
        fail(str(exc))
    finally:
        engine.dispose()
    if checkpoint is None:  # never with an actor: their own record makes the trail non-empty
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
    """Audit records matching every filter given, oldest first. The security auditor's (audited as
    audit.search with the filters, before anything is shown)."""
    from security.audit.search import search
    from security.audit.trail import utc_text

    since, until = _utc(since), _utc(until)
    times = {k: utc_text(v) for k, v in (("since", since), ("until", until)) if v is not None}
    filters = {"actor": actor, "object": object_, "event": event, **times}
    params = {"interface": "cli", **{k: v for k, v in filters.items() if v is not None}, "limit": limit}
    engine, who = authorise("audit.read", "audit.search", params)
    audit_alone(engine, who, "audit.search", TRAIL, "success", params)
    found = search(
        engine,
        actor=actor,
        object=object_,
        event=event,
        since=since,
        until=until,
        limit=limit,
    )
    engine.dispose()
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
    the cut; the purge is itself audited. The system admin's, freshly logged in (never the
    auditor's, who changes nothing)."""
    from security.audit.purge import purge
    from security.audit.trail import AuditError
    from security.keys import KeyFileError

    cutoff = _utc(before)
    params = {"before": cutoff}
    engine, actor = authorise("audit.manage", "audit.purge", params)
    try:
        result = purge(engine, before=cutoff, actor=actor, client=CLIENT)
    except (AuditError, KeyFileError) as exc:
        audit_alone(engine, actor, "audit.purge", TRAIL, "failure", params, str(exc))
        fail(str(exc))
    finally:
        engine.dispose()
    if not result.removed:
        echo("nothing older than the cut-off")
        return
    echo(
        f"purged records #1–#{result.cut} ({result.removed} removed); purge recorded as #{result.record_seq}"
    )
