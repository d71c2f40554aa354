"""数据申请 → 审批 → 授权 over real HTTP on loopback, state on SQLite and PostgreSQL (issue 14).

Lake: tests/support/data_service.py — ``output`` (万元, round_10k) of E1…E6 is 12345.67, 25000.00,
4999.99, 35000.00, -15000.00, null, rounded to 10000.00, 30000.00, 0.00, 40000.00, -20000.00,
null; E1 and E2 are in city 210100. ``energy`` (rule none) is withheld without a grant and null
on rows outside a grant's scope. People and organisations: tests/support/portal.py.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import requests
from sqlalchemy import select

from security.audit.models import AuditRecord
from security.db import transaction
from tests.support.portal import PASSWORD, Portal, running_portal

pytestmark = pytest.mark.integration
PATH = "/v1/theme/test_city_month"
DATASET = "theme.test_city_month"
ROUNDED = {"E1": "10000.00", "E2": "30000.00", "E3": "0.00", "E4": "40000.00", "E5": "-20000.00", "E6": None}


@pytest.fixture
def portal(tmp_path, state_db_url, monkeypatch):
    with running_portal(tmp_path, state_db_url, monkeypatch) as running:
        yield running


def in_days(days: int) -> str:
    return (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=days)).isoformat()


def read(portal: Portal, token: str) -> dict[str, dict]:
    answer = portal.call("GET", PATH, token, params={"page_size": "4"})
    assert answer.status_code == 200, answer.text
    found = {r["enterprise_id"]: r for r in answer.json()["rows"]}
    cursor = answer.json()["next_cursor"]
    while cursor:
        page = portal.call("GET", PATH, token, params={"page_size": "4", "cursor": cursor}).json()
        found.update({r["enterprise_id"]: r for r in page["rows"]})
        cursor = page["next_cursor"]
    return found


def records(portal: Portal, event: str) -> list[AuditRecord]:
    with transaction(portal.service.db) as session:
        return list(session.scalars(select(AuditRecord).where(AuditRecord.event_type == event)))


APPLICATION = {
    "dataset": DATASET,
    "columns": ["output", "energy"],
    "purpose": "地市经济运行监测",
    "cities": ["210100"],
}


def test_apply_approve_read_renew_revoke(portal: Portal) -> None:
    alice = portal.token("alice")  # a person of the bureau applies for the bureau
    _app_key, bureau_app = portal.app_token("bureau")
    before = read(portal, bureau_app)
    assert {k: r["output"] for k, r in before.items()} == ROUNDED
    assert all("energy" not in r for r in before.values())

    # fields validated, each 400 naming the field
    for change, field in (
        ({"expires_on": in_days(400)}, "expires_on"),
        ({"expires_on": in_days(0)}, "expires_on"),
        ({"columns": ["staff"]}, "columns"),  # 一般: needs no grant
        ({"columns": ["secret_core"]}, "columns"),  # 核心: never shared
        ({"cities": ["2101"]}, "cities"),
        ({"cities": ["210100'--"]}, "cities"),
        ({"own_enterprise": True}, "own_enterprise"),  # the bureau is no enterprise
        ({"dataset": "silver.enterprise"}, "dataset"),
    ):
        answer = portal.call(
            "POST", "/v1/applications", alice, json={**APPLICATION, "expires_on": in_days(30), **change}
        )
        assert answer.status_code == 400, (change, answer.text)
        assert answer.json()["error"]["parameter"] == field
    unauthenticated = portal.call(
        "POST", "/v1/applications", None, json={**APPLICATION, "expires_on": in_days(30)}
    )
    assert unauthenticated.status_code == 401

    answer = portal.call("POST", "/v1/applications", alice, json={**APPLICATION, "expires_on": in_days(30)})
    assert answer.status_code == 201, answer.text
    application = answer.json()
    assert (application["status"], application["org"], application["cities"]) == (
        "pending",
        "bureau",
        ["210100"],
    )
    [mine] = portal.call("GET", "/v1/applications", alice).json()
    assert mine["id"] == application["id"]
    owner = portal.token("owner")
    assert [a["id"] for a in portal.call("GET", "/v1/applications/queue", owner).json()] == [
        application["id"]
    ]
    assert portal.call("GET", "/v1/applications/queue", alice).json() == []

    # the admin's approval attempt is refused and audited as refused (三员分立)
    decision = f"/v1/applications/{application['id']}/decision"
    refused = portal.call(
        "POST", decision, portal.token("admin"), json={"decision": "approve", "reason": "同意"}
    )
    assert refused.status_code == 403 and "system admin" in refused.json()["error"]["message"]
    [audited] = [r for r in records(portal, "application.decide") if r.result == "refused"]
    assert (audited.principal, audited.object) == ("user:admin", f"application:{application['id']}")

    answer = portal.call("POST", decision, owner, json={"decision": "approve", "reason": "用途明确，同意"})
    assert answer.status_code == 200, answer.text
    grant_id = answer.json()["grant_id"]
    assert answer.json()["status"] == "approved" and grant_id
    again = portal.call("POST", decision, owner, json={"decision": "reject", "reason": "改主意"})
    assert again.status_code == 400  # decided already

    # the bureau's app reads output and energy in clear in city 210100 only (E1, E2)
    after = read(portal, bureau_app)
    assert {k: r["output"] for k, r in after.items()} == {**ROUNDED, "E1": "12345.67", "E2": "25000.00"}
    assert {k: r["energy"] for k, r in after.items()} == {
        "E1": 1.5,
        "E2": 2.5,
        "E3": None,
        "E4": None,
        "E5": None,
        "E6": None,
    }
    [grant] = portal.call("GET", "/v1/grants", alice).json()
    assert (grant["id"], grant["status"], grant["application_id"]) == (grant_id, "live", application["id"])
    [notice] = portal.call("GET", "/v1/me/notices", alice).json()
    assert notice["kind"] == "approved" and "用途明确" in notice["message"]
    assert [n["kind"] for n in portal.call("GET", "/v1/me/notices", bureau_app).json()] == ["approved"]

    # renew: at most one year ahead, by the owner only
    renew = f"/v1/grants/{grant_id}/renew"
    assert portal.call("POST", renew, owner, json={"expires_on": in_days(367)}).status_code == 400
    assert portal.call("POST", renew, alice, json={"expires_on": in_days(60)}).status_code == 403
    answer = portal.call("POST", renew, owner, json={"expires_on": in_days(60)})
    assert answer.status_code == 200 and answer.json()["expires_at"].startswith(in_days(60))

    # revoke: masked again on the very next request; the consumer is told
    answer = portal.call("POST", f"/v1/grants/{grant_id}/revoke", owner, json={"reason": "项目结束"})
    assert answer.status_code == 200 and answer.json()["status"] == "revoked"
    assert {k: r["output"] for k, r in read(portal, bureau_app).items()} == ROUNDED
    kinds = [n["kind"] for n in portal.call("GET", "/v1/me/notices", alice).json()]
    assert kinds == ["revoked", "renewed", "approved"]
    assert "项目结束" in portal.call("GET", "/v1/me/notices", alice).json()[0]["message"]

    events = {
        e: [r.result for r in records(portal, e)]
        for e in ("application.submit", "application.decide", "grant.renew", "grant.revoke")
    }
    assert events == {
        "application.submit": ["success"],
        "application.decide": ["refused", "success"],
        "grant.renew": ["refused", "success"],  # alice's renewal attempt
        "grant.revoke": ["success"],
    }


def test_self_approval_app_grants_and_own_enterprise(portal: Portal) -> None:
    selfish = portal.token("selfish")  # a data owner of the dataset's team applies …
    answer = portal.call("POST", "/v1/applications", selfish, json={**APPLICATION, "expires_on": in_days(10)})
    assert answer.status_code == 201
    own = answer.json()["id"]
    # … and may not approve it
    refused = portal.call(
        "POST", f"/v1/applications/{own}/decision", selfish, json={"decision": "approve", "reason": "自己批"}
    )
    assert refused.status_code == 403 and "own application" in refused.json()["error"]["message"]
    [audited] = [r for r in records(portal, "application.decide") if r.result == "refused"]
    assert audited.principal == "user:selfish"

    # an app applies for itself: the grant names the app, not its organisation
    key, app_token = portal.app_token("bureau")
    _other_key, other_app = portal.app_token("bureau")
    answer = portal.call(
        "POST",
        "/v1/applications",
        app_token,
        json={"dataset": DATASET, "columns": ["contact"], "purpose": "企业联络", "expires_on": in_days(5)},
    )
    assert answer.status_code == 201, answer.text
    owner = portal.token("owner")
    decided = portal.call(
        "POST",
        f"/v1/applications/{answer.json()['id']}/decision",
        owner,
        json={"decision": "approve", "reason": "同意"},
    )
    assert decided.status_code == 200
    [grant] = portal.call("GET", "/v1/grants", app_token).json()
    assert (grant["grantee_app"], grant["grantee_org"]) == (key, None)
    assert read(portal, app_token)["E1"]["contact"] == "13912345678"
    assert read(portal, other_app)["E1"]["contact"] == "139****5678"
    # a rejected application gives no grant, and says why
    rejected = portal.call(
        "POST", f"/v1/applications/{own}/decision", owner, json={"decision": "reject", "reason": "用途不明"}
    )
    assert rejected.json()["status"] == "rejected" and rejected.json()["grant_id"] is None

    # an enterprise applies for its own rows: stored as its enterprise ids (E1 has its USCC)
    bob = portal.token("bob")
    answer = portal.call(
        "POST",
        "/v1/applications",
        bob,
        json={
            "dataset": DATASET,
            "columns": ["output"],
            "purpose": "核对本企业数据",
            "own_enterprise": True,
            "expires_on": in_days(5),
        },
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["enterprises"] == ["E1"]
    assert portal.call("GET", "/v1/applications/999999/decision", owner).status_code == 405
    missing = portal.call(
        "POST", "/v1/applications/999999/decision", owner, json={"decision": "approve", "reason": "同意"}
    )
    assert missing.status_code == 404


def login(portal: Portal, who: str) -> tuple[requests.Session, str]:
    """A browser-like session logged in through the portal's form; the CSRF token of its pages."""
    http = requests.Session()
    page = http.get(portal.url + "/portal/login", timeout=30)
    nonce = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    answer = http.post(
        portal.url + "/portal/login",
        data={"csrf": nonce, "login": who, "password": PASSWORD},
        timeout=30,
        allow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert "Secure" not in cookie  # plain HTTP on loopback; Secure when served over HTTPS
    products = http.get(portal.url + "/portal/products", timeout=30)
    assert products.status_code == 200
    csp = products.headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "script-src" not in csp and "default-src 'none'" in csp
    assert "access-control-allow-origin" not in {k.lower() for k in products.headers}
    return http, re.search(r'name="csrf" value="([^"]+)"', products.text).group(1)


def test_pages_refuse_admin_and_self_approval_and_check_csrf(portal: Portal) -> None:
    alice, alice_csrf = login(portal, "alice")
    form = {
        "csrf": alice_csrf,
        "dataset": DATASET,
        "columns": ["output"],
        "purpose": "地市监测",
        "cities": "210100",
        "expires_on": in_days(30),
    }
    # without the CSRF token a form is refused, nothing is stored
    forged = alice.post(portal.url + "/portal/apply", data={**form, "csrf": "x"}, timeout=30)
    assert forged.status_code == 403
    assert portal.call("GET", "/v1/applications", portal.token("alice")).json() == []
    answer = alice.post(portal.url + "/portal/apply", data=form, timeout=30, allow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/portal/mine?submitted=")
    application = int(answer.headers["location"].rsplit("=", 1)[1])

    admin, admin_csrf = login(portal, "admin")
    refused = admin.post(
        f"{portal.url}/portal/applications/{application}/decision",
        data={"csrf": admin_csrf, "decision": "approve", "reason": "同意"},
        timeout=30,
    )
    assert refused.status_code == 403 and "system admin" in refused.text
    selfish, selfish_csrf = login(portal, "selfish")
    answer = selfish.post(
        portal.url + "/portal/apply", data={**form, "csrf": selfish_csrf}, timeout=30, allow_redirects=False
    )
    own = int(answer.headers["location"].rsplit("=", 1)[1])
    refused = selfish.post(
        f"{portal.url}/portal/applications/{own}/decision",
        data={"csrf": selfish_csrf, "decision": "approve", "reason": "同意"},
        timeout=30,
    )
    assert refused.status_code == 403 and "own application" in refused.text
    decided = [(r.principal, r.result) for r in records(portal, "application.decide")]
    assert decided == [("user:admin", "refused"), ("user:selfish", "refused")]
    # the audit page is the auditor's alone
    assert alice.get(portal.url + "/portal/audit", timeout=30).status_code == 403
    auditor, _ = login(portal, "auditor")
    trail = auditor.get(portal.url + "/portal/audit", params={"event": "application.decide"}, timeout=30)
    assert trail.status_code == 200 and trail.text.count('class="result">refused<') == 2
