"""A data service on loopback over a small Delta lake written by the test (no pipeline run).

The test contracts publish ``theme.test_city_month`` with a 核心 column and a 重要 column under
every masking rule; ``silver.enterprise`` and ``audit.secret_log`` exist in the lake with marker
values but are not published. The server is uvicorn in a thread, called over real HTTP.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import socket
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import requests
import uvicorn
from deltalake import write_deltalake

from catalog.contracts import load_catalog
from ibrain.settings import Settings
from security.db import transaction
from security.grants import Grant
from security.identity import accounts
from security.keys import init_key
from serving.api.app import Service, create_app
from serving.api.server import build_service

DATASET = "theme.test_city_month"
PATH = "/v1/theme/test_city_month"
CORE_MARK = "CORE-SECRET"
SILVER_MARK = "SILVER-SECRET"
AUDIT_MARK = "AUDIT-SECRET"

CONTRACT = """
table: test_city_month
layer: theme
name_zh: 测试地市月度主题
name_en: Test city month theme
description: Test data for the data service.
owner: team:industry-analysis
grain: one row per enterprise and month
primary_key: [enterprise_id, period]
update_frequency: monthly
columns:
  - {name: enterprise_id, type: string, name_zh: 企业标识, classification: 一般}
  - {name: city_code, type: string, name_zh: 地市代码, classification: 一般}
  - {name: chain_code, type: string, name_zh: 产业链代码, classification: 一般}
  - {name: period, type: date, name_zh: 报告期, classification: 一般}
  - {name: label, type: string, name_zh: 标签, classification: 一般}
  - {name: staff, type: bigint, name_zh: 人数, classification: 一般}
  - {name: secret_core, type: string, name_zh: 核心字段, classification: 核心}
  - {name: output, type: "decimal(18,2)", name_zh: 产值(万元), classification: 重要, masking: round_10k,
     unit: 万元}
  - {name: contact, type: string, name_zh: 联系电话, classification: 重要, masking: "keep_ends:3:4"}
  - {name: legal_id, type: string, name_zh: 法人证件号, classification: 重要, masking: hash}
  - {name: note, type: string, name_zh: 备注, classification: 重要, masking: suppress}
  - {name: energy, type: double, name_zh: 能耗, classification: 重要, masking: none}
api:
  version: 1
  filters:
    enterprise_id: [eq, in]
    city_code: [eq, in]
    period: [eq, gte, lte]
    staff: [gte]
    output: [gte]
    contact: [eq]
  sort: [period, staff, output, contact]
  page_size: {default: 2, max: 4}
  formats: [json, csv, arrow]
  scope: {city: city_code, chain: chain_code, enterprise: enterprise_id}
  as_of: period
"""

SILVER = """
table: enterprise
layer: silver
name_zh: 企业主数据
name_en: Enterprise master
description: Not published.
owner: team:data-governance
grain: one row per enterprise
primary_key: [enterprise_id]
update_frequency: daily
columns:
  - {name: enterprise_id, type: string, name_zh: 企业标识, classification: 一般}
  - {name: secret, type: string, name_zh: 秘密, classification: 一般}
"""


def rows() -> pa.Table:
    """Six enterprises; output in 万元 (round_10k rounds to 10,000 万元)."""
    d = decimal.Decimal
    return pa.table(
        {
            "enterprise_id": ["E1", "E2", "E3", "E4", "E5", "E6"],
            "city_code": ["210100", "210100", "210200", "210200", "210300", "210300"],
            "chain_code": ["robotics", "cnc", "robotics", "cnc", "robotics", "cnc"],
            "period": [
                dt.date(2024, 1, 1),
                dt.date(2024, 2, 1),
                dt.date(2024, 1, 1),
                dt.date(2024, 2, 1),
                dt.date(2024, 2, 1),
                dt.date(2024, 3, 1),
            ],
            "label": ['=HYPERLINK("http://x")', "plain", "+1", "-2", "@sum", "\tTab"],
            "staff": pa.array([10, 20, 30, 40, 50, 60], pa.int64()),
            "secret_core": [f"{CORE_MARK}-{i}" for i in range(1, 7)],
            "output": pa.array(
                [d("12345.67"), d("25000.00"), d("4999.99"), d("35000.00"), d("-15000.00"), None],
                pa.decimal128(18, 2),
            ),
            "contact": ["13912345678", "13800000002", "13800000003", "13800000004", "13800000005", "1380"],
            "legal_id": ["91210100MA0000001X", "ID2", "ID3", "ID4", "ID5", "ID6"],
            "note": ["note-1", "note-2", "note-3", "note-4", "note-5", "note-6"],
            "energy": [1.5, 2.5, 3.5, 4.5, 5.5, 6.5],
        }
    )


def write_lake(lake_root: Path) -> None:
    write_deltalake(str(lake_root / "theme" / "test_city_month"), rows())
    write_deltalake(
        str(lake_root / "silver" / "enterprise"), pa.table({"enterprise_id": ["E1"], "secret": [SILVER_MARK]})
    )
    write_deltalake(str(lake_root / "audit" / "secret_log"), pa.table({"event": [AUDIT_MARK]}))


def write_contracts(folder: Path) -> Path:
    (folder / "theme").mkdir(parents=True)
    (folder / "silver").mkdir(parents=True)
    (folder / "theme" / "test_city_month.yaml").write_text(textwrap.dedent(CONTRACT), encoding="utf-8")
    (folder / "silver" / "enterprise.yaml").write_text(textwrap.dedent(SILVER), encoding="utf-8")
    return folder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Caller:
    """An organisation's app and its bearer token."""

    org: str
    app_key: str
    secret: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Running:
    url: str
    service: Service
    lake_root: Path

    def get(self, path: str, caller: Caller | None = None, **params: str) -> requests.Response:
        return requests.get(
            self.url + path, params=params, headers=caller.headers if caller else {}, timeout=30
        )

    def caller(self, org: str, org_type: str = "gov_bureau") -> Caller:
        """A new organisation with one app, its token fetched from POST /v1/token."""
        with transaction(self.service.db) as session:
            accounts.create_org(session, org, f"测试{org}", org_type, "210000")
            app, secret = accounts.create_app(session, f"{org} app", org)
            key = app.app_key
        answer = requests.post(
            self.url + "/v1/token", data={"app_key": key, "app_secret": secret}, timeout=30
        )
        assert answer.status_code == 200, answer.text
        return Caller(org, key, secret, answer.json()["access_token"])

    def grant(self, org: str, columns: list[str], **scope: object) -> int:
        now = dt.datetime.now(dt.UTC)
        values = {k: json.dumps(v) if isinstance(v, list) else v for k, v in scope.items()}
        values.setdefault("expires_at", now + dt.timedelta(days=30))
        with transaction(self.service.db) as session:
            grant = Grant(
                dataset=DATASET, grantee_org=org, columns=json.dumps(columns), granted_by="user:owner",
                granted_at=now, **values,
            )  # fmt: skip
            session.add(grant)
            session.flush()
            return grant.id


@contextmanager
def serve(service: Service) -> Iterator[str]:
    """``service`` served by uvicorn in a thread on a free loopback port: its base URL. The server
    stops and the state database's connections close when the block ends."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(service), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    try:
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the data service did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        service.db.dispose()


@contextmanager
def running_service(tmp_path: Path, db_url: str, monkeypatch, **env: str) -> Iterator[Running]:
    """Keys, lake, contracts, state database and a uvicorn server on a free loopback port."""
    lake_root = tmp_path / "lake"
    monkeypatch.setenv("IBRAIN_LAKE_ROOT", str(lake_root))
    monkeypatch.setenv("IBRAIN_TOKEN_KEY_FILE", str(tmp_path / "keys" / "token.json"))
    monkeypatch.setenv("IBRAIN_MASKING_KEY_FILE", str(tmp_path / "keys" / "masking.json"))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = Settings.from_env()
    init_key("token", settings=settings)
    init_key("masking", settings=settings)
    write_lake(lake_root)
    catalog = load_catalog(write_contracts(tmp_path / "contracts"))
    service = build_service(settings, catalog=catalog, db_url=db_url)
    with serve(service) as url:
        yield Running(url, service, lake_root)
