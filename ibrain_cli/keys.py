"""``ibrain keys``: create, rotate and show the four keys (security/keys.py)."""

from __future__ import annotations

import click
from sqlalchemy import Engine

from ibrain_cli.auth import audit_alone, current_principal, policy, refuse, state
from ibrain_cli.console import fail
from security.actor import Actor
from security.authz import decide
from security.db import transaction
from security.identity.accounts import account_count, utcnow
from security.keys import PURPOSES, KeyFileError, init_key, public_keys, rotate_key

PURPOSE = click.Choice(PURPOSES)
RECIPIENT_OPTION = click.option(
    "--recipient", help="Recipient id (delivery and delivery_hmac keys only), e.g. zhgl_platform."
)


@click.group()
def keys() -> None:
    """Signing and masking keys, one file each, outside the lake (IBRAIN_*_KEY_FILE)."""


def authorise(event_type: str, object: str, params: dict) -> tuple[Engine, Actor]:
    """Key changes are the system admin's (freshly logged in). Before the first account exists
    (a new installation: keys come first, the admin account after) the CLI acts as itself."""
    engine = state()
    with transaction(engine) as session:
        bootstrap = not account_count(session)
    if bootstrap:
        return engine, Actor("system:ibrain-cli")
    decision = decide(current_principal(engine), "key.manage", now=utcnow(), reauth=policy().reauth)
    if not decision.allowed:
        refuse(engine, decision.actor, event_type, object, params, decision.reason)
    return engine, decision.actor


@keys.command("init")
@click.argument("purpose", type=PURPOSE)
@RECIPIENT_OPTION
def keys_init(purpose: str, recipient: str | None) -> None:
    """Create PURPOSE's keyring (mode 600) unless it exists."""
    params = {"purpose": purpose, "recipient": recipient}
    engine, actor = authorise("key.init", f"key:{purpose}", params)
    try:
        path, created = init_key(purpose, recipient)
    except KeyFileError as exc:
        audit_alone(engine, actor, "key.init", f"key:{purpose}", "failure", params, str(exc))
        fail(str(exc))
    if created:
        audit_alone(engine, actor, "key.init", f"key:{purpose}", "success", params | {"path": str(path)})
    click.echo(f"{'created' if created else 'exists'}: {path}")


@keys.command("rotate")
@click.argument("purpose", type=PURPOSE)
@RECIPIENT_OPTION
def keys_rotate(purpose: str, recipient: str | None) -> None:
    """Make a new active key; older public keys stay for verification."""
    params = {"purpose": purpose, "recipient": recipient}
    engine, actor = authorise("key.rotate", f"key:{purpose}", params)
    try:
        ring = rotate_key(purpose, recipient)
    except KeyFileError as exc:
        audit_alone(engine, actor, "key.rotate", f"key:{purpose}", "failure", params, str(exc))
        fail(str(exc))
    done = params | {"active": ring.active.kid}
    audit_alone(engine, actor, "key.rotate", f"key:{purpose}", "success", done)
    click.echo(f"rotated: {ring.path} (active {ring.active.kid}, {len(ring.keys) - 1} retired)")


@keys.command("show-public")
@click.argument("purpose", type=click.Choice(["token", "checkpoint", "delivery"]))
@RECIPIENT_OPTION
def keys_show_public(purpose: str, recipient: str | None) -> None:
    """Print key id and base64 Ed25519 public key, newest first."""
    try:
        found = public_keys(purpose, recipient)
    except KeyFileError as exc:
        fail(str(exc))
    for kid, public in found.items():
        click.echo(f"{kid} {public}")
