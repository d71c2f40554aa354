"""The data service with its portal over a small lake, and the people of the access workflow.

Lake and contracts are those of tests/support/data_service.py (``theme.test_city_month``: E1…E6,
owner team industry-analysis) plus ``gold.test_enterprise`` (enterprise ids and USCCs; E1 is the
enterprise organisation ``ent``) and ``quality.dq_scorecard`` (the real contract; overall score
87.5 for theme.test_city_month in 2024-03). People (password ``PASSWORD`` for all):

- ``owner`` data_owner in team industry-analysis (org ``platform``);
- ``admin`` system_admin, also put in team industry-analysis (the admin must still be refused);
- ``auditor`` security_auditor; ``engineer`` data_engineer;
- ``alice`` consumer of org ``bureau`` (gov_bureau), ``bob`` consumer of org ``ent`` (enterprise E1);
- ``selfish`` data_owner in team industry-analysis who also applies (self-approval refused).
"""

from __future__ import annotations

import datetime as dt
import functools
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pytest
import requests
from deltalake import write_deltalake

from catalog.contracts import CONTRACTS_DIR, load_catalog
from ibrain.settings import Settings
from security.db import transaction
from security.identity import accounts
from security.identity.passwords import hash_secret
from security.keys import init_key
from serving.api.app import Service
from serving.api.server import build_service
from tests.support.data_service import serve, write_contracts, write_lake

PASSWORD = "Portal-Test-2024!"
ENT_USCC = "91210100MA0000001G"  # check character computed by GB 32100 (ibrain.uscc)
ENTERPRISE = """
table: test_enterprise
layer: gold
name_zh: 测试企业维度
name_en: Test enterprise dimension
description: Enterprise ids and USCCs for the portal tests.
owner: team:data-governance
grain: one row per enterprise
primary_key: [enterprise_id]
update_frequency: daily
columns:
  - {name: enterprise_id, type: string, name_zh: 企业标识, classification: 一般}
  - {name: uscc, type: string, name_zh: 统一社会信用代码, classification: 一般}
  - {name: enterprise_name, type: string, name_zh: 企业名称, classification: 一般}
  - {name: city_code, type: string, name_zh: 地市代码, classification: 一般}
  - {name: phone, type: string, name_zh: 联系电话, classification: 重要, masking: "keep_ends:3:4"}
api:
  version: 1
  filters:
    enterprise_id: [eq, in]
  sort: [enterprise_id]
  page_size: {default: 10, max: 100}
  formats: [json]
  scope: {city: city_code, enterprise: enterprise_id}
"""
PEOPLE = (
    # login, org, role, group
    ("owner", "platform", "data_owner", "industry-analysis"),
    ("admin", "platform", "system_admin", "industry-analysis"),
    ("auditor", "platform", "security_auditor", None),
    ("engineer", "platform", "data_engineer", None),
    ("alice", "bureau", "consumer", None),
    ("bob", "ent", "consumer", None),
    ("selfish", "platform", "data_owner", "industry-analysis"),
)


def write_portal_lake(lake_root: Path, contracts: Path) -> None:
    write_lake(lake_root)
    write_deltalake(
        str(lake_root / "gold" / "test_enterprise"),
        pa.table(
            {
                "enterprise_id": ["E1", "E2", "E3"],
                "uscc": [ENT_USCC, "91210100MA0000002X", "91210200MA0000003X"],
                "enterprise_name": ["测试一号企业", "测试二号企业", "测试三号企业"],
                "city_code": ["210100", "210100", "210200"],
                "phone": ["13912345678", "13800000002", "13800000003"],
            }
        ),
    )
    write_deltalake(
        str(lake_root / "quality" / "dq_scorecard"),
        pa.table(
            {
                "dataset": ["theme.test_city_month", "theme.test_city_month", "theme.test_city_month"],
                "period": [dt.date(2024, 2, 1), dt.date(2024, 3, 1), dt.date(2024, 3, 1)],
                "dimension": ["overall", "overall", "完整性"],
                "score": [70.0, 87.5, 99.0],
                "rules": pa.array([4, 4, 2], pa.int64()),
                "rules_passed": pa.array([3, 3, 2], pa.int64()),
                "computed_at": [dt.datetime(2024, 4, 1)] * 3,
            }
        ),
    )
    (contracts / "gold").mkdir(exist_ok=True)
    (contracts / "gold" / "test_enterprise.yaml").write_text(ENTERPRISE, encoding="utf-8")
    (contracts / "quality").mkdir(exist_ok=True)
    shutil.copy(CONTRACTS_DIR / "quality" / "dq_scorecard.yaml", contracts / "quality" / "dq_scorecard.yaml")


@functools.cache
def _hash_once(secret: str) -> str:
    """One real argon2 hash per distinct secret for the whole session (the people share one
    password; each hash costs seconds on a loaded 2-core machine). Verification stays real."""
    return hash_secret(secret)


def create_people(service: Service) -> None:
    with pytest.MonkeyPatch.context() as patch, transaction(service.db) as session:
        patch.setattr(accounts, "hash_secret", _hash_once)
        accounts.create_org(session, "platform", "产业大脑平台", "platform", "210000")
        accounts.create_org(session, "bureau", "测试工信局", "gov_bureau", "210100")
        accounts.create_org(session, "ent", "测试一号企业", "enterprise", "210100", ENT_USCC)
        for login, org, role, group in PEOPLE:
            accounts.create_user(session, login, f"测试 {login}", org, PASSWORD)
            accounts.assign_role(session, f"user:{login}", role, granted_by="system:test")
            if group:
                accounts.add_to_group(session, group, login)


@dataclass
class Portal:
    url: str
    service: Service
    lake_root: Path

    def token(self, login: str) -> str:
        """A person's bearer token (a login session), as `ibrain login` would get it."""
        now = dt.datetime.now(dt.UTC)
        with transaction(self.service.db) as session:
            outcome = accounts.password_login(
                session, login, PASSWORD, self.service.policy, self.service.token_keyring, now
            )
        return outcome.token_or_raise()

    def app_token(self, org: str, role: str | None = "consumer") -> tuple[str, str]:
        """A new app of ``org`` (with ``role``) and its token from POST /v1/token: (app key, token)."""
        with transaction(self.service.db) as session:
            app, secret = accounts.create_app(session, f"{org} app", org)
            key = app.app_key
            if role:
                accounts.assign_role(session, f"app:{key}", role, granted_by="system:test")
        answer = requests.post(
            f"{self.url}/v1/token", data={"app_key": key, "app_secret": secret}, timeout=30
        )
        assert answer.status_code == 200, answer.text
        return key, answer.json()["access_token"]

    def call(self, method: str, path: str, token: str | None, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.request(method, self.url + path, headers=headers, timeout=30, **kwargs)


@contextmanager
def running_portal(tmp_path: Path, db_url: str, monkeypatch) -> Iterator[Portal]:
    """Keys, lake, contracts, people and a uvicorn server on a free loopback port."""
    lake_root = tmp_path / "lake"
    monkeypatch.setenv("IBRAIN_LAKE_ROOT", str(lake_root))
    monkeypatch.setenv("IBRAIN_TOKEN_KEY_FILE", str(tmp_path / "keys" / "token.json"))
    monkeypatch.setenv("IBRAIN_MASKING_KEY_FILE", str(tmp_path / "keys" / "masking.json"))
    settings = Settings.from_env()
    init_key("token", settings=settings)
    init_key("masking", settings=settings)
    contracts = write_contracts(tmp_path / "contracts")
    write_portal_lake(lake_root, contracts)
    service = build_service(settings, catalog=load_catalog(contracts), db_url=db_url)
    create_people(service)
    with serve(service) as url:
        yield Portal(url, service, lake_root)
