"""``ibrain alerts``: evaluate the alert rules now, list what was sent (serving/alerts)."""

from __future__ import annotations

import json

import click

from ibrain_cli.common import logged
from ibrain_cli.console import echo, fail


@click.group()
def alerts() -> None:
    """Alerts (告警) to allow-listed webhooks: rules in catalog/alerts.yaml (IBRAIN_ALERTS_FILE),
    webhook URLs IBRAIN_ALERT_WEBHOOK_<NAME> on the allow-list IBRAIN_ALERT_ALLOWED_URLS, signed
    with IBRAIN_ALERT_SECRET. Dagster's alerts_sensor and alert_on_run_failure do this on their own."""


@alerts.command("check")
@click.option("--dry-run", is_flag=True, help="List the events and the rules they match; post nothing.")
@logged()
def check(dry_run: bool) -> None:
    """Find the events now (failed blocking checks, open quality issues, dead-lettered deliveries,
    late sources) and post each matching rule's alert once."""
    from ibrain.lake import Lake
    from ibrain.settings import get_settings
    from security.db import database_url, make_engine, migrate
    from serving.alerts.events import collect
    from serving.alerts.rules import AlertConfigError, load_rules, signing_secret
    from serving.alerts.webhooks import dispatch

    settings = get_settings()
    engine = make_engine(database_url(settings))
    migrate(engine)
    try:
        rules = load_rules()
        found = collect(Lake(settings), engine)
        if dry_run:
            for event in found:
                matched = [r.id for r in rules if r.matches(event.kind, event.fields)]
                echo(f"{event.key}  {event.title}  → {', '.join(matched) or '(no rule)'}")
            echo(f"{len(found)} events")
            return
        outcome = dispatch(engine, rules, found, signing_secret(settings))
    except AlertConfigError as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    echo(f"{len(found)} events: {len(outcome.sent)} alerts sent, {len(outcome.failed)} failed, "
         f"{outcome.skipped} sent before")  # fmt: skip
    if outcome.unconfigured:
        echo(f"webhooks without a URL (nothing posted): {', '.join(sorted(outcome.unconfigured))}")
    if outcome.failed:
        fail(f"{len(outcome.failed)} alerts could not be posted (they are tried again next time): "
             f"{', '.join(outcome.failed[:5])}")  # fmt: skip


@alerts.command("list")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_alerts(limit: int, as_json: bool) -> None:
    """The latest alerts and their delivery state (also GET /v1/alerts of ibrain serve)."""
    from security.db import make_engine, migrate
    from serving.alerts.webhooks import recent

    engine = make_engine()
    migrate(engine)
    rows = recent(engine, limit)
    engine.dispose()
    if as_json:
        echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    for row in rows:
        echo(f"{row['created_at'][:19]}  {row['state']:<7} {row['rule']:<24} {row['title']}")
    echo(f"{len(rows)} alerts")
