"""Alert rules and webhook configuration (serving/alerts/rules.py): the committed rules load, bad
files and URLs fail naming what to fix, and there is no signing secret outside the demo."""

from __future__ import annotations

from pathlib import Path

import pytest

from ibrain.settings import Settings
from serving.alerts.rules import AlertConfigError, load_rules, signing_secret, webhook_url


def test_committed_rules_cover_every_event_kind() -> None:
    rules = {r.event: r for r in load_rules()}
    assert sorted(rules) == [
        "check_failed",
        "delivery_dead_letter",
        "issue_opened",
        "run_failed",
        "source_late",
    ]
    blocking = rules["check_failed"]
    assert blocking.matches("check_failed", {"severity": "ERROR"})
    assert not blocking.matches("check_failed", {"severity": "WARN"})
    assert not blocking.matches("issue_opened", {"severity": "ERROR"})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules:\n  - {id: a, event: nope, webhooks: [ops]}\n", "unknown event 'nope'"),
        ("rules:\n  - {id: a, event: run_failed, webhooks: [ops]}\n"
         "  - {id: a, event: run_failed, webhooks: [x]}\n", "duplicate rule id 'a'"),
        ("rules:\n  - {id: a, event: run_failed}\n", "webhooks must be a list of names"),
        ("rules: [\n", "alert rules"),
    ],
)  # fmt: skip
def test_bad_rule_files_fail_naming_the_fault(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "alerts.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AlertConfigError, match=message):
        load_rules(path)


def test_webhook_urls_and_secret() -> None:
    url = "https://hooks.example.gov.cn/ibrain"
    assert webhook_url("ops", {}) is None
    assert (
        webhook_url("ops", {"IBRAIN_ALERT_WEBHOOK_OPS": url, "IBRAIN_ALERT_ALLOWED_URLS": f" {url} ,x"})
        == url
    )
    with pytest.raises(AlertConfigError, match="not on the allow-list"):
        webhook_url("ops", {"IBRAIN_ALERT_WEBHOOK_OPS": url + "/other", "IBRAIN_ALERT_ALLOWED_URLS": url})
    production = Settings.from_env({"IBRAIN_LAKE_ROOT": "/tmp/x"})
    with pytest.raises(AlertConfigError, match="IBRAIN_ALERT_SECRET is not set"):
        signing_secret(production, {})
    assert signing_secret(production, {"IBRAIN_ALERT_SECRET": "s3cret"}) == b"s3cret"
    demo = Settings.from_env({"IBRAIN_LAKE_ROOT": "/tmp/x", "IBRAIN_ENV": "demo"})
    assert signing_secret(demo, {}) == b"ibrain-demo-alert-secret"
