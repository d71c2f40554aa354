"""``ibrain deliveries status|send|resend|verify`` and ``ibrain serve-platform`` (issue 15)."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

import click

from ibrain_cli.auth import current_principal, operation, state
from ibrain_cli.console import echo, fail

if TYPE_CHECKING:
    from security.actor import Actor
    from serving.deliveries.sender import SendReport


@click.group()
def deliveries() -> None:
    """Packages for the provincial platforms: the outbox, sending, resending, verifying."""


@deliveries.command("status")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per package.")
def deliveries_status(as_json: bool) -> None:
    """Every package with its recipient, dataset, period, revision and state."""
    from serving.deliveries.outbox import status

    engine = state()
    current_principal(engine)  # identified, as every command
    rows = status(engine)
    if as_json:
        for row in rows:
            echo(json.dumps(row, ensure_ascii=False))
        return
    for r in rows:
        extra = f"  {r['last_error']}" if r["state"] != "acknowledged" and r["last_error"] else ""
        echo(f"{r['id']:60} {r['state']:13} attempts {r['attempts']}{extra}")
    echo(f"{len(rows)} packages")


@deliveries.command("send")
@click.option(
    "--wait", "wait_seconds", default=0.0, show_default=True, help="Wait for retries due within N s."
)
def deliveries_send(wait_seconds: float) -> None:
    """Send every due package (pending, or retrying and due) to its recipient's URL
    (IBRAIN_DELIVERY_URL_<RECIPIENT>); exit 1 if any package ends in dead_letter."""
    with operation("delivery.send", "outbox", {"wait_seconds": wait_seconds}) as actor:
        report = _send(actor, wait_seconds)
        echo(
            f"acknowledged {len(report.acknowledged)}, superseded {len(report.superseded)}, "
            f"retrying {len(report.retrying)}, dead letter {len(report.dead_letter)} "
            f"({report.attempts} attempts)"
        )
        if report.dead_letter:
            fail("dead letter: " + ", ".join(report.dead_letter))


def _send(actor: Actor, wait_seconds: float) -> SendReport:
    from ibrain.lake import Lake
    from security.keys import KeyFileError, load_keyring
    from serving.deliveries.outbox import status
    from serving.deliveries.sender import Sender
    from serving.deliveries.transport import HttpAdapter, TransportConfigError

    engine = state()
    recipients = sorted(
        {r["recipient"] for r in status(engine) if r["state"] in ("pending", "retrying", "sending")}
    )
    try:
        adapters = {r: HttpAdapter.from_env(r) for r in recipients}
        keys = {r: load_keyring("delivery_hmac", r) for r in recipients}
    except (TransportConfigError, KeyFileError) as exc:
        fail(str(exc))
    return Sender(engine, Lake(), adapters, keys, actor).send_due(max_wait_seconds=wait_seconds)


@deliveries.command("resend")
@click.argument("package_id")
@click.option("--force", is_flag=True, help="Also an acknowledged package (it keeps its idempotency key).")
def deliveries_resend(package_id: str, force: bool) -> None:
    """Put a package back in the outbox (a dead letter, or with --force an acknowledged one)."""
    from serving.deliveries.outbox import ResendRefused, resend

    with operation("delivery.resend", package_id, {"force": force}) as actor:
        try:
            before = resend(state(), package_id, actor, force=force)
        except ResendRefused as exc:
            fail(str(exc))
        echo(f"{package_id}: {before} → pending (send it with `ibrain deliveries send`)")


@deliveries.command("verify")
def deliveries_verify() -> None:
    """Re-check every acknowledged package's payload hash and receipt against the outbox."""
    from ibrain.lake import Lake
    from serving.deliveries.outbox import verify

    with operation("delivery.verify", "outbox", {}):
        problems = verify(state(), Lake())
        for p in problems:
            echo(f"{p.package_id}: {p.problem}")
        if problems:
            fail(f"{len(problems)} problems")
        echo("every acknowledged package matches its payload and receipt")


@click.command("serve-platform")
@click.option("--recipient", required=True, help="The platform's recipient id, e.g. zhgl_platform.")
@click.option("--port", default=8770, show_default=True, type=int)
@click.option("--failure-rate", default=0.0, show_default=True, type=float, help="Share of 500/429/timeouts.")
@click.option("--seed", default=0, show_default=True, type=int)
def serve_platform(recipient: str, port: int, failure_rate: float, seed: int) -> None:
    """Serve a simulated provincial platform on 127.0.0.1 with the recipient's delivery keys
    (Ctrl-C stops it); `GET /deliveries` lists what it holds."""
    from security.keys import KeyFileError, load_keyring
    from simulators.platform import Platform

    try:
        secrets = [s for _, s in load_keyring("delivery_hmac", recipient).secrets()]
        publics = {
            k.kid: k.public.public_bytes_raw() for k in load_keyring("delivery", recipient).keys if k.public
        }
    except KeyFileError as exc:
        fail(str(exc))
    platform = Platform(recipient, secrets, public_keys=publics, seed=seed, failure_rate=failure_rate)
    url = platform.start(port)
    variable = f"IBRAIN_DELIVERY_URL_{recipient.upper().replace('-', '_')}"
    echo(f"platform {recipient} on {url}\n  export {variable}={url}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        platform.stop()
