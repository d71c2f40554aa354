"""Alert rules and webhook configuration: catalog/alerts.yaml and the environment.

Why an allow-list beside the URLs: an alert carries dataset names, error text and run ids out of
the platform; where it may go is decided by whoever sets ``IBRAIN_ALERT_ALLOWED_URLS`` (exact
URLs), not by whoever edits a rule or a webhook variable. URLs are HTTPS, or plain HTTP to a
loopback address only (as deliveries, serving/deliveries/transport.py). The signing secret
``IBRAIN_ALERT_SECRET`` has no default outside ``IBRAIN_ENV=demo``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

import catalog
from ibrain.settings import Settings
from serving.deliveries.transport import TransportConfigError, check_url

RULES_FILE = Path(catalog.__file__).resolve().parent / "alerts.yaml"  # package data of catalog
RULES_ENV = "IBRAIN_ALERTS_FILE"
ALLOWED_ENV = "IBRAIN_ALERT_ALLOWED_URLS"
WEBHOOK_ENV = "IBRAIN_ALERT_WEBHOOK_{}"
SECRET_ENV = "IBRAIN_ALERT_SECRET"
DEMO_SECRET = "ibrain-demo-alert-secret"  # only with IBRAIN_ENV=demo
KINDS = ("check_failed", "issue_opened", "delivery_dead_letter", "run_failed", "source_late")


class AlertConfigError(ValueError):
    """The rules file or the webhook configuration is wrong; the message says what to fix."""


@dataclass(frozen=True)
class Rule:
    id: str
    event: str
    webhooks: tuple[str, ...]
    when: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def matches(self, kind: str, fields: Mapping[str, object]) -> bool:
        return kind == self.event and all(str(fields.get(k)) in allowed for k, allowed in self.when.items())


def webhook_variable(name: str) -> str:
    return WEBHOOK_ENV.format(name.upper().replace("-", "_"))


def load_rules(path: Path | None = None, environ: Mapping[str, str] | None = None) -> list[Rule]:
    """The rules of ``path`` (default ``IBRAIN_ALERTS_FILE``, else catalog/alerts.yaml), checked."""
    environ = os.environ if environ is None else environ
    path = path or Path((environ.get(RULES_ENV) or "").strip() or RULES_FILE)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise AlertConfigError(f"alert rules {path}: {exc}") from exc
    rules, seen = [], set()
    for i, raw in enumerate(document.get("rules") or []):
        where = f"alert rules {path}, rule {i + 1}"
        if not isinstance(raw, dict) or not raw.get("id") or not raw.get("event"):
            raise AlertConfigError(f"{where}: needs an id and an event")
        if raw["event"] not in KINDS:
            raise AlertConfigError(f"{where} ({raw['id']}): unknown event {raw['event']!r}; one of {KINDS}")
        if raw["id"] in seen:
            raise AlertConfigError(f"{where}: duplicate rule id {raw['id']!r}")
        hooks = raw.get("webhooks") or []
        if not hooks or not all(isinstance(h, str) and h for h in hooks):
            raise AlertConfigError(f"{where} ({raw['id']}): webhooks must be a list of names")
        when = {str(k): tuple(str(v) for v in (vs if isinstance(vs, list) else [vs])) for k, vs in
                (raw.get("when") or {}).items()}  # fmt: skip
        seen.add(raw["id"])
        rules.append(Rule(str(raw["id"]), str(raw["event"]), tuple(hooks), when))
    return rules


def allowed_urls(environ: Mapping[str, str] | None = None) -> frozenset[str]:
    environ = os.environ if environ is None else environ
    return frozenset(u.strip() for u in (environ.get(ALLOWED_ENV) or "").split(",") if u.strip())


def webhook_url(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The URL of webhook ``name``, checked against the allow-list; None when not configured.
    Raises :class:`AlertConfigError` for a URL that is not allowed (never posted to)."""
    environ = os.environ if environ is None else environ
    variable = webhook_variable(name)
    url = (environ.get(variable) or "").strip()
    if not url:
        return None
    allowed = allowed_urls(environ)
    if url not in allowed:
        raise AlertConfigError(
            f"webhook {name!r} ({variable}={url}) is not on the allow-list {ALLOWED_ENV}; "
            "alerts are posted only to URLs listed there"
        )
    try:
        return check_url(url)
    except TransportConfigError as exc:
        raise AlertConfigError(f"webhook {name!r}: {exc}") from None


def signing_secret(settings: Settings, environ: Mapping[str, str] | None = None) -> bytes:
    """``IBRAIN_ALERT_SECRET``; in demo mode a fixed demo secret when unset; otherwise an error."""
    environ = os.environ if environ is None else environ
    secret = (environ.get(SECRET_ENV) or "").strip()
    if secret:
        return secret.encode("utf-8")
    if settings.is_demo:
        return DEMO_SECRET.encode("utf-8")
    raise AlertConfigError(f"{SECRET_ENV} is not set: alerts are signed with it (HMAC-SHA256)")
