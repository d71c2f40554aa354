"""``ibrain keys``: create, rotate and show the four keys (security/keys.py)."""

from __future__ import annotations

import click

from ibrain_cli.console import fail
from security.keys import PURPOSES, KeyFileError, init_key, public_keys, rotate_key

PURPOSE = click.Choice(PURPOSES)
RECIPIENT_OPTION = click.option("--recipient", help="Recipient id (delivery keys only), e.g. gxt_platform.")


@click.group()
def keys() -> None:
    """Signing and masking keys, one file each, outside the lake (IBRAIN_*_KEY_FILE)."""


@keys.command("init")
@click.argument("purpose", type=PURPOSE)
@RECIPIENT_OPTION
def keys_init(purpose: str, recipient: str | None) -> None:
    """Create PURPOSE's keyring (mode 600) unless it exists."""
    try:
        path, created = init_key(purpose, recipient)
    except KeyFileError as exc:
        fail(str(exc))
    click.echo(f"{'created' if created else 'exists'}: {path}")


@keys.command("rotate")
@click.argument("purpose", type=PURPOSE)
@RECIPIENT_OPTION
def keys_rotate(purpose: str, recipient: str | None) -> None:
    """Make a new active key; older public keys stay for verification."""
    try:
        ring = rotate_key(purpose, recipient)
    except KeyFileError as exc:
        fail(str(exc))
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
