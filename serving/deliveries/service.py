"""Build and send with the configured state database, keys and URLs: what a Dagster run, a schedule's
run and the CLI call (they pass who acts and which periods; nothing here knows Dagster)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import Engine, select

from catalog.tables import LakeTables
from ibrain.lake import Lake
from security.actor import Actor
from security.audit.trail import utc_text
from security.db import make_engine, migrate, transaction
from security.keys import load_keyring
from security.outbox import DeliveryPackage
from serving.deliveries.builder import BuildReport, build_due, exports
from serving.deliveries.sender import SENDABLE, Sender, SendReport
from serving.deliveries.transport import HttpAdapter


def recipients() -> list[str]:
    """Every recipient an export is declared for."""
    return sorted({e.recipient for e in exports()})


def state_engine() -> Engine:
    engine = make_engine()
    migrate(engine)
    return engine


def build(
    tables: LakeTables,
    actor: Actor,
    *,
    recipients_: Iterable[str],
    periods: Iterable[str] | None = None,
    now: dt.datetime | None = None,
) -> BuildReport:
    """Build the due packages of ``recipients_`` for ``periods`` (each recipient's ``delivery`` key
    signs its manifests; a missing key fails naming it)."""
    chosen = sorted(recipients_)
    keyrings = {r: load_keyring("delivery", r) for r in chosen}
    engine = state_engine()
    try:
        return build_due(
            engine,
            tables,
            keyrings,
            actor,
            now or dt.datetime.now(dt.UTC),
            recipients=chosen,
            periods=periods,
        )
    finally:
        engine.dispose()


def due_packages(engine: Engine, now: dt.datetime) -> list[tuple[str, str, int]]:
    """(recipient, package id, attempts) of every package a sender would claim now: pending, or
    retrying and due, or sending with a lease that has run out."""
    now_text = utc_text(now)
    with transaction(engine) as session:
        rows = session.execute(
            select(DeliveryPackage.recipient, DeliveryPackage.id, DeliveryPackage.attempts)
            .where(
                (
                    DeliveryPackage.state.in_(SENDABLE)
                    & (
                        DeliveryPackage.next_attempt_at.is_(None)
                        | (DeliveryPackage.next_attempt_at <= now_text)
                    )
                )
                | ((DeliveryPackage.state == "sending") & (DeliveryPackage.lease_until < now_text))
            )
            .order_by(DeliveryPackage.id)
        ).all()
    return [(r, i, int(a)) for r, i, a in rows]


def send(
    lake: Lake, actor: Actor, *, recipients_: Iterable[str] | None = None, wait_seconds: float = 0.0
) -> SendReport:
    """Send every due package of ``recipients_`` (default: every recipient with one due) to the
    URL of ``IBRAIN_DELIVERY_URL_<RECIPIENT>`` with its ``delivery_hmac`` secret."""
    engine = state_engine()
    try:
        due = {r for r, _, _ in due_packages(engine, dt.datetime.now(dt.UTC))}
        chosen = sorted(recipients_ if recipients_ is not None else due)
        if not chosen:
            return SendReport()
        adapters = {r: HttpAdapter.from_env(r) for r in chosen}
        keys = {r: load_keyring("delivery_hmac", r) for r in chosen}
        return Sender(engine, lake, adapters, keys, actor).send_due(max_wait_seconds=wait_seconds)
    finally:
        engine.dispose()
