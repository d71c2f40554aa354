"""The data service's brief and alert listings (issue 16): who may read them, what is served,
and that every brief read is audited. A small lake and a real server on loopback."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import requests
from sqlalchemy import select

from security.audit.models import AuditRecord
from security.db import transaction
from security.grants import Grant
from security.identity import accounts
from security.identity.config import IdentityPolicy
from security.keys import load_keyring
from serving.brief.render import brief_uri
from tests.support.data_service import running_service

pytestmark = pytest.mark.integration


def person_token(running, login: str, role: str) -> str:
    now = dt.datetime.now(dt.UTC)
    with transaction(running.service.db) as session:
        accounts.create_org(session, f"org-{login}", f"机构{login}", "gov_bureau", "210000")
        accounts.create_user(session, login, login, f"org-{login}", "Correct-Horse-42!")
        accounts.assign_role(session, f"user:{login}", role, granted_by="system:test")
        outcome = accounts.open_session(
            session, f"user:{login}", IdentityPolicy.from_env({}), load_keyring("token"), now
        )
    return outcome.token_or_raise()


def grant(running, cities: str | None) -> None:
    now = dt.datetime.now(dt.UTC)
    amounts = json.dumps(["gross_output", "revenue", "total_profit"])
    with transaction(running.service.db) as session:
        session.add(Grant(dataset="theme.economic_operation_month", grantee_org="city-bureau",
                          columns=amounts,
                          cities=cities, granted_by="user:owner", granted_at=now,
                          expires_at=now + dt.timedelta(days=9)))  # fmt: skip


def test_briefs_listed_served_and_audited(tmp_path, monkeypatch) -> None:
    with running_service(tmp_path, f"sqlite:///{tmp_path / 'state.db'}", monkeypatch) as running:
        lake = running.service.reader.lake
        lake.write_bytes(brief_uri(lake, "2025-01", "brief.html"), "<html>一月</html>".encode())
        lake.write_bytes(brief_uri(lake, "2025-02", "brief.html"), "<html>二月</html>".encode())
        lake.write_bytes(brief_uri(lake, "2025-02", "brief.pdf"), b"%PDF-1.4 test")
        lake.write_bytes(brief_uri(lake, "not-a-month", "brief.html"), b"x")
        owner = {"Authorization": f"Bearer {person_token(running, 'owner1', 'data_owner')}"}
        listing = requests.get(running.url + "/v1/briefs", headers=owner, timeout=30)
        assert listing.status_code == 200, listing.text
        assert [(b["period"], b["pdf"]) for b in listing.json()] == [("2025-02", True), ("2025-01", False)]
        assert sorted(listing.json()[1]["links"]) == ["brief.html", "figures.json"]
        page = requests.get(running.url + "/v1/briefs/2025-01/brief.html", headers=owner, timeout=30)
        assert page.status_code == 200 and page.text == "<html>一月</html>"
        assert "default-src 'none'" in page.headers["Content-Security-Policy"]
        pdf = requests.get(running.url + "/v1/briefs/2025-02/brief.pdf", headers=owner, timeout=30)
        assert pdf.headers["Content-Type"] == "application/pdf" and pdf.content == b"%PDF-1.4 test"
        for path in (
            "/v1/briefs/2025-13/brief.html",
            "/v1/briefs/2025-01/secret.txt",
            "/v1/briefs/2025-03/brief.html",
        ):
            assert requests.get(running.url + path, headers=owner, timeout=30).status_code == 404, path
        # no token → 401; an app of an organisation without a province-wide grant → 403 (audited)
        assert requests.get(running.url + "/v1/briefs", timeout=30).status_code == 401
        app = running.caller("city-bureau")
        refused = requests.get(running.url + "/v1/briefs/2025-01/brief.html", headers=app.headers, timeout=30)
        assert refused.status_code == 403
        # … a grant limited to one city is not enough; one covering every city and chain is
        grant(running, cities=json.dumps(["210200"]))
        assert requests.get(running.url + "/v1/briefs", headers=app.headers, timeout=30).status_code == 403
        grant(running, cities=None)
        assert requests.get(running.url + "/v1/briefs", headers=app.headers, timeout=30).status_code == 200
        with transaction(running.service.db) as session:
            audited = session.execute(
                select(AuditRecord.principal, AuditRecord.object, AuditRecord.result).where(
                    AuditRecord.event_type == "data.read", AuditRecord.object.like("brief:%"))
            ).all()  # fmt: skip
        assert ("user:owner1", "brief:2025-01", "success") in audited
        assert ("user:owner1", "brief:2025-02", "success") in audited
        assert (f"app:{app.app_key}", "brief:2025-01", "refused") in audited
        # alerts: for operators and owners, not for a consumer's app
        assert requests.get(running.url + "/v1/alerts", headers=owner, timeout=30).json() == []
        assert requests.get(running.url + "/v1/alerts", headers=app.headers, timeout=30).status_code == 403
