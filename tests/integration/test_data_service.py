"""The data service over real HTTP on loopback, state on SQLite and PostgreSQL (issue 14).

The lake and contracts are tests/support/data_service.py: six enterprises E1…E6 in cities 210100
(E1, E2), 210200 (E3, E4) and 210300 (E5, E6); ``output`` in 万元 is 12345.67, 25000.00, 4999.99,
35000.00, -15000.00 and null, so round_10k (10,000 万元 steps, half away from zero) gives
10000.00, 30000.00, 0.00, 40000.00, -20000.00 and null.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import time

import pyarrow as pa
import pytest
import requests
from sqlalchemy import select

from security.audit.models import AuditRecord
from security.db import transaction
from tests.support.data_service import AUDIT_MARK, CORE_MARK, PATH, SILVER_MARK, Running, running_service

pytestmark = pytest.mark.integration
ROUNDED = {"E1": "10000.00", "E2": "30000.00", "E3": "0.00", "E4": "40000.00", "E5": "-20000.00", "E6": None}
CLEAR = {"E1": "12345.67", "E2": "25000.00", "E3": "4999.99", "E4": "35000.00", "E5": "-15000.00", "E6": None}
MARKS = (CORE_MARK, SILVER_MARK, AUDIT_MARK)


@pytest.fixture
def service(tmp_path, state_db_url, monkeypatch):
    with running_service(tmp_path, state_db_url, monkeypatch) as running:
        yield running


def all_rows(service: Running, caller, **params: str) -> list[dict]:
    """Every row of the dataset, page after page (page size 4, the contract's maximum)."""
    found, cursor = [], None
    while True:
        extra = {"cursor": cursor} if cursor else {}
        answer = service.get(PATH, caller, page_size="4", **params, **extra)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        found += body["rows"]
        cursor = body["next_cursor"]
        if cursor is None:
            return found


def assert_no_marks(content: bytes, *also: str) -> None:
    """No 核心 value, nothing of an unpublished table (and none of ``also``) in ``content``."""
    text = content.decode("utf-8", errors="replace")
    for mark in (*MARKS, *also):
        assert mark not in text


def test_grades_masks_and_grants(service: Running) -> None:
    bureau = service.caller("bureau")
    rows = {r["enterprise_id"]: r for r in all_rows(service, bureau)}
    assert sorted(rows) == ["E1", "E2", "E3", "E4", "E5", "E6"]
    assert {k: r["output"] for k, r in rows.items()} == ROUNDED
    assert rows["E1"]["contact"] == "139****5678"
    assert rows["E6"]["contact"] == "****"  # 4 characters ≤ 3 + 4: nothing kept
    assert rows["E1"]["note"] is None
    assert all("energy" not in r and "secret_core" not in r for r in rows.values())
    hashed = rows["E1"]["legal_id"]
    assert len(hashed) == 64 and hashed != "91210100MA0000001X" and int(hashed, 16) >= 0
    answer = service.get(PATH, bureau)
    body = answer.json()
    assert body["withheld"] == ["energy"]
    assert body["masked"] == {
        "output": "round_10k",
        "contact": "keep_ends:3:4",
        "legal_id": "hash",
        "note": "suppress",
    }
    assert answer.headers["ETag"] == '"0"' and answer.headers["X-Data-As-Of"] == "2024-03-01"
    assert body["total"] == 6 and len(body["rows"]) == 2  # default page size 2

    # a grant to "partner" for output and energy in city 210100 only
    partner = service.caller("partner")
    grant = service.grant("partner", ["output", "energy"], cities=["210100"])
    rows = {r["enterprise_id"]: r for r in all_rows(service, partner)}
    assert {k: r["output"] for k, r in rows.items()} == {**ROUNDED, "E1": "12345.67", "E2": "25000.00"}
    assert {k: r["energy"] for k, r in rows.items()} == {"E1": 1.5, "E2": 2.5, "E3": None, "E4": None,
                                                         "E5": None, "E6": None}  # fmt: skip
    assert rows["E1"]["contact"] == "139****5678"  # not granted: still masked
    # a condition on a granted column runs inside the grant's rows only: E4 (35000) is out of scope
    body = service.get(PATH, partner, output__gte="20000").json()
    assert [(r["enterprise_id"], r["output"]) for r in body["rows"]] == [("E2", "25000.00")]
    assert body["total"] == 1
    sorted_rows = service.get(PATH, partner, sort="-output", page_size="4").json()["rows"]
    assert [r["enterprise_id"] for r in sorted_rows] == ["E2", "E1"]
    # the same conditions from the bureau (no grant) are refused, naming the column
    for params in ({"output__gte": "20000"}, {"sort": "output"}, {"contact": "13912345678"}):
        refused = service.get(PATH, bureau, **params)
        assert refused.status_code == 403, params
        assert refused.json()["error"]["parameter"] == next(iter(params))
        assert ("output" if "output" in str(params) else "contact") in refused.json()["error"]["message"]

    # a grant of the whole dataset for a period range; revoked → masked on the next request
    with transaction(service.service.db) as session:
        from security.grants import Grant

        session.get(Grant, grant).revoked_at = dt.datetime.now(dt.UTC)
    rows = {r["enterprise_id"]: r for r in all_rows(service, partner)}
    assert {k: r["output"] for k, r in rows.items()} == ROUNDED
    assert all("energy" not in r for r in rows.values())
    service.grant("partner", ["output"], period_from=dt.date(2024, 2, 1), period_to=dt.date(2024, 2, 1))
    rows = {r["enterprise_id"]: r for r in all_rows(service, partner)}
    assert {k: r["output"] for k, r in rows.items()} == {
        **ROUNDED, "E2": "25000.00", "E4": "35000.00", "E5": "-15000.00"
    }  # fmt: skip
    # an expired grant clears nothing; a grant with no row restriction clears every row
    service.grant("bureau", ["output"], expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    assert {r["enterprise_id"]: r["output"] for r in all_rows(service, bureau)} == ROUNDED
    service.grant("bureau", ["output", "contact"])
    rows = {r["enterprise_id"]: r for r in all_rows(service, bureau)}
    assert {k: r["output"] for k, r in rows.items()} == CLEAR
    assert rows["E1"]["contact"] == "13912345678"


def test_formats_never_carry_core_or_unpublished_values(service: Running) -> None:
    bureau = service.caller("bureau")
    partner = service.caller("partner")
    service.grant("partner", ["output", "contact", "legal_id", "note", "energy"])
    for caller in (bureau, partner, None):
        for fmt in ("json", "csv", "arrow"):
            answer = service.get(PATH, caller, format=fmt, page_size="4")
            assert answer.status_code == (200 if caller else 401)
            assert_no_marks(answer.content, "secret_core")
            assert_no_marks(json.dumps(dict(answer.headers)).encode(), "secret_core")
    for path in ("/v1/openapi.json", "/v1/datasets", "/docs", "/redoc"):
        answer = service.get(path, bureau)
        assert answer.status_code == 200, path
        assert_no_marks(answer.content, "secret_core", "核心字段")
        if path in ("/docs", "/redoc"):  # assets served locally, no CDN
            assert b"http://" not in answer.content and b"https://" not in answer.content
    csv = service.get(PATH, bureau, format="csv", page_size="4", sort="period").content
    assert csv.startswith(b"\xef\xbb\xbf")
    lines = csv.decode("utf-8-sig").split("\r\n")
    assert lines[0] == "enterprise_id,city_code,chain_code,period,label,staff,output,contact,legal_id,note"
    # E1, E3 (January), E2, E4 (February), ordered by period then the key
    assert [line.split(",")[0] for line in lines[1:5]] == ["E1", "E3", "E2", "E4"]
    assert lines[1].split(",")[4] == '"\'=HYPERLINK(""http://x"")"'
    assert lines[2].split(",")[4] == "'+1" and lines[4].split(",")[4] == "'-2"
    assert lines[1].split(",")[6] == "10000.00"  # a number is written as it is
    arrow = service.get(PATH, partner, format="arrow", page_size="4")
    table = pa.ipc.open_stream(arrow.content).read_all()
    assert table.column_names == [
        *("enterprise_id", "city_code", "chain_code", "period", "label", "staff"),
        *("output", "contact", "legal_id", "note", "energy"),
    ]
    assert table.column("output").to_pylist()[0] == decimal.Decimal("12345.67")
    assert table.schema.metadata[b"version"] == b"0" and table.schema.metadata[b"total"] == b"6"
    assert arrow.headers["Content-Type"] == "application/vnd.apache.arrow.stream"


PAYLOADS = (
    "' OR 1=1 --",
    "x'; DROP TABLE t; --",
    "1 /* c */",
    "../audit/secret_log",
    "silver.enterprise",
    "\x00",
)


def test_injection_and_traversal_are_refused(service: Running) -> None:
    bureau = service.caller("bureau")
    names = [
        *("enterprise_id", "city_code", "city_code__in", "period__gte", "staff__gte", "sort", "page_size"),
        *("cursor", "format", "../audit/secret_log", "silver.enterprise", "secret_core", "energy__gte"),
    ]
    for name in names:
        for payload in PAYLOADS:
            answer = service.get(PATH, bureau, **{name: payload})
            assert_no_marks(answer.content)
            if payload == "silver.enterprise" and name in ("enterprise_id", "city_code", "city_code__in"):
                # plain text is a valid value of a text column (dq_scorecard.dataset holds such
                # names): it is compared as a value, matches nothing, and reads no other table
                assert answer.status_code == 200 and answer.json()["total"] == 0
                continue
            assert 400 <= answer.status_code < 500, (name, payload, answer.status_code)
            assert "error" in answer.json()
    for path in (
        *("/v1/silver/enterprise", "/v1/audit/secret_log", "/v1/theme/..%2Faudit%2Fsecret_log"),
        *(
            "/v1/theme/test_city_month/../../silver/enterprise",
            "/v1/quarantine/x",
            "/v2/theme/test_city_month",
        ),
        "/v1/theme/test_city_month%27%20OR%201%3D1",
    ):
        answer = service.get(path, bureau)
        assert answer.status_code == 404, path
        assert_no_marks(answer.content)
    # a quoted value is refused rather than escaped; a valid one reads normally
    assert service.get(PATH, bureau, city_code="210100").json()["total"] == 2
    assert service.get(PATH, bureau, city_code__in="210100,210300").json()["total"] == 4
    assert service.get(PATH, bureau, page_size="5").status_code == 400  # over the contract's maximum 4
    answer = service.get(PATH, bureau, unknown="1")
    assert answer.status_code == 400 and answer.json()["error"]["parameter"] == "unknown"
    # no token, a malformed one, a forged one → 401
    assert service.get(PATH).status_code == 401
    for header in ("Bearer", "Bearer x.y.z", "Basic abc", "Bearer " + bureau.token[:-4] + "AAAA"):
        answer = requests.get(service.url + PATH, headers={"Authorization": header}, timeout=30)
        assert answer.status_code == 401 and answer.headers["WWW-Authenticate"] == "Bearer"


def test_cursor_pinned_to_a_version_and_tamper_proof(service: Running) -> None:
    from deltalake import write_deltalake

    from tests.support.data_service import rows

    bureau = service.caller("bureau")
    first = service.get(PATH, bureau).json()
    assert first["version"] == 0
    write_deltalake(
        str(service.lake_root / "theme" / "test_city_month"), rows().slice(0, 1), mode="overwrite"
    )
    service.service.reader.refresh_seconds = 0
    assert service.get(PATH, bureau).json()["total"] == 1  # the new version has one row
    second = service.get(PATH, bureau, cursor=first["next_cursor"])
    assert second.status_code == 200 and second.headers["ETag"] == '"0"'
    assert [r["enterprise_id"] for r in second.json()["rows"]] == ["E3", "E4"] and second.json()["total"] == 6
    payload, mac = first["next_cursor"].split(".")
    tampered = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1] + "." + mac
    assert service.get(PATH, bureau, cursor=tampered).status_code == 400
    # a cursor is bound to its filters
    assert service.get(PATH, bureau, cursor=first["next_cursor"], city_code="210100").status_code == 400


def test_reads_are_audited(service: Running) -> None:
    partner = service.caller("partner")
    service.grant("partner", ["output"], cities=["210100"])
    service.get(PATH, partner, page_size="3")
    service.get(PATH, partner, contact="1")
    with transaction(service.service.db) as session:
        records = session.scalars(
            select(AuditRecord).where(AuditRecord.event_type == "data.read").order_by(AuditRecord.seq)
        ).all()
    assert [(r.object, r.result, r.principal) for r in records] == [
        ("theme.test_city_month", "success", f"app:{partner.app_key}"),
        ("theme.test_city_month", "refused", f"app:{partner.app_key}"),
    ]
    params = json.loads(records[0].params)
    assert params["rows"] == 3 and params["version"] == 0
    # output is granted in 210100 only: masked on E3 (210200), so it is listed as masked too
    assert params["masked"] == ["contact", "legal_id", "note", "output"] and params["withheld"] == ["energy"]
    assert params["columns"] == [
        *("enterprise_id", "city_code", "chain_code", "period", "label", "staff"),
        *("output", "contact", "legal_id", "note"),
    ]
    assert params["scope"][0]["cities"] == ["210100"] and params["scope"][0]["columns"] == ["output"]
    assert json.loads(records[1].params)["parameter"] == "contact"
    assert records[0].org == "partner"


def test_rate_limit_and_quota(tmp_path, state_db_url, monkeypatch) -> None:
    env = {"IBRAIN_API_RATE_PER_MINUTE": "3", "IBRAIN_API_DAILY_QUOTA": "1000"}
    with running_service(tmp_path, state_db_url, monkeypatch, **env) as running:
        bureau = running.caller("bureau")
        codes = [running.get(PATH, bureau).status_code for _ in range(4)]
        # unless the minute turned between the calls, the fourth is refused
        assert codes[:3] == [200, 200, 200]
        if codes[3] == 429:
            answer = running.get(PATH, bureau)
            assert answer.status_code == 429 and 1 <= int(answer.headers["Retry-After"]) <= 60
    env = {"IBRAIN_API_RATE_PER_MINUTE": "100", "IBRAIN_API_DAILY_QUOTA": "2"}
    with running_service(tmp_path / "quota", state_db_url, monkeypatch, **env) as running:
        bureau = running.caller("bureau2")
        assert [running.get(PATH, bureau).status_code for _ in range(3)] == [200, 200, 429]


def test_a_slow_read_is_answered_503_and_audited(tmp_path, state_db_url, monkeypatch) -> None:
    with running_service(tmp_path, state_db_url, monkeypatch, IBRAIN_API_TIMEOUT_SECONDS="1") as running:
        bureau = running.caller("bureau")
        reader = running.service.reader
        query = reader.query

        def slow(handle, sql):
            reader.query = query  # only the page's query is slow
            time.sleep(1.2)
            return query(handle, sql)

        reader.query = slow
        answer = running.get(PATH, bureau)
        assert answer.status_code == 503 and answer.json()["error"]["code"] == "timeout"
        assert_no_marks(answer.content)
        with transaction(running.service.db) as session:
            last = session.scalars(
                select(AuditRecord)
                .where(AuditRecord.event_type == "data.read")
                .order_by(AuditRecord.seq.desc())
            ).first()
        assert last.result == "refused" and json.loads(last.params)["reason"] == "timeout"
