"""The data service's OpenAPI schema fuzzed by schemathesis against a real server (issue 14).

The server runs on loopback over the project's real catalog — every published dataset, each with
a small Delta table written here from its contract's column types — plus the test contract of
tests/support/data_service.py (a 核心 column, a 重要 column under every masking rule). Every
operation of the schema it serves (``/v1/openapi.json``) is called with generated parameters,
valid and invalid (bounded examples, no shrinking), as three callers: no token, a consumer app
without grants, and an app whose organisation holds a grant of every 重要 column of every dataset
(scoped to one city where the dataset has a city column). Each answer must be no 5xx, a status
the schema documents, of the documented content type, and a body that conforms to the schema.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pytest
import requests
import schemathesis
from deltalake import write_deltalake
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from catalog.contracts import Contract, load_catalog
from catalog.publishing import published
from ibrain.settings import Settings
from security.db import transaction
from security.grants import Grant
from security.identity import accounts
from security.keys import init_key
from serving.api.server import build_service
from tests.support.data_service import CORE_MARK, serve, write_contracts, write_lake

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # ~65 s on the loaded 2-core machine
EXAMPLES = 6  # per operation, caller and generation mode
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
DECIMAL = re.compile(r"^decimal\((\d+),(\d+)\)$")
SIMPLE = {"string": pa.string(), "int": pa.int32(), "bigint": pa.int64(), "double": pa.float64(),
          "boolean": pa.bool_(), "date": pa.date32(), "timestamp": pa.timestamp("us", tz="UTC")}  # fmt: skip
CITIES = ("210100", "210200", "210300")


def arrow_type(kind: str) -> pa.DataType:
    match = DECIMAL.match(kind)
    return pa.decimal128(int(match.group(1)), int(match.group(2))) if match else SIMPLE[kind]


def value(kind: str, name: str, i: int) -> object:
    """Row ``i``'s value of a column: city codes where the name says so, else a plain value."""
    if kind == "string":
        return CITIES[i % 3] if name in ("city_code", "region_code") else f"{name}-{i}"
    if kind in ("int", "bigint"):
        return i * 7 - 3
    if kind == "double":
        return i * 1.25
    if kind == "boolean":
        return i % 2 == 0
    if kind == "date":
        return dt.date(2024, 1 + i, 1)
    if kind == "timestamp":
        return dt.datetime(2024, 1 + i, 1, 8, 30, tzinfo=dt.UTC)
    return decimal.Decimal(f"{i * 12345}.67")


def write_table(lake_root: Path, contract: Contract, rows: int = 3) -> None:
    """A small Delta table with the contract's columns and types (the pipeline is not run)."""
    columns = {
        c.name: pa.array([value(c.type, c.name, i) for i in range(rows)], arrow_type(c.type))
        for c in contract.columns
    }
    write_deltalake(str(lake_root / contract.layer / contract.table), pa.table(columns))


@dataclass
class Fuzzed:
    url: str
    headers: dict[str, dict[str, str]]  # caller -> headers


def token(url: str, org: str, db) -> str:
    with transaction(db) as session:
        accounts.create_org(session, org, f"测试{org}", "gov_bureau", "210000")
        app, secret = accounts.create_app(session, f"{org} app", org)
        key = app.app_key
    answer = requests.post(f"{url}/v1/token", data={"app_key": key, "app_secret": secret}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory) -> Iterator[Fuzzed]:
    base = tmp_path_factory.mktemp("fuzz")
    lake_root = base / "lake"
    env = {
        "IBRAIN_LAKE_ROOT": str(lake_root),
        "IBRAIN_TOKEN_KEY_FILE": str(base / "keys" / "token.json"),
        "IBRAIN_MASKING_KEY_FILE": str(base / "keys" / "masking.json"),
        "IBRAIN_API_RATE_PER_MINUTE": "100000",  # the fuzzing is not to be rate limited
    }
    with pytest.MonkeyPatch.context() as monkeypatch:
        for key, text in env.items():
            monkeypatch.setenv(key, text)
        settings_ = Settings.from_env()
        init_key("token", settings=settings_)
        init_key("masking", settings=settings_)
        write_lake(lake_root)
        catalog = {**load_catalog(), **load_catalog(write_contracts(base / "contracts"))}
        for contract in published(catalog):
            if contract.name != "theme.test_city_month":
                write_table(lake_root, contract)
        service = build_service(settings_, catalog=catalog, db_url=f"sqlite:///{base / 'state.db'}")
        with serve(service) as url:
            consumer = token(url, "consumer", service.db)
            granted = token(url, "granted", service.db)
            now = dt.datetime.now(dt.UTC)
            with transaction(service.db) as session:
                for contract in published(catalog):
                    api = contract.api
                    assert api is not None
                    columns = [c.name for c in contract.columns if c.classification == "重要"]
                    session.add(
                        Grant(
                            dataset=contract.name, grantee_org="granted", columns=json.dumps(columns),
                            cities=json.dumps(["210100"]) if "city" in api.scope else None,
                            granted_by="user:owner", granted_at=now, expires_at=now + dt.timedelta(days=1),
                        )
                    )  # fmt: skip
            yield Fuzzed(
                url,
                {
                    "no token": {},
                    "consumer": {"Authorization": f"Bearer {consumer}"},
                    "granted": {"Authorization": f"Bearer {granted}"},
                },
            )


def summary(failure: BaseException) -> str:
    """A failed check in a few words: its name, status and the request (from schemathesis' text)."""
    lines = [line.strip() for line in str(failure).splitlines()]
    kept = [line for line in lines if line.startswith(("- ", "Received:", "curl ", "`{"))]
    return " | ".join(kept)[:500] or lines[0]


def fuzz(
    operation: schemathesis.APIOperation,
    label: str,
    url: str,
    headers: dict[str, str],
    mode: GenerationMode,
    http: requests.Session,
) -> tuple[int, list[str]]:
    """Call ``operation`` with up to EXAMPLES generated cases; (calls, failed checks)."""
    failures: list[str] = []
    calls = []

    # the caller's token is fixed (schemathesis generates the other headers, and a random token
    # where there is none); a seed of its own for each operation, caller and mode, reproducible
    @seed(zlib.crc32(f"{label} {mode.value}".encode()))
    @settings(
        max_examples=EXAMPLES, deadline=None, database=None,
        phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    @given(case=operation.as_strategy(generation_mode=mode, headers=headers or None))
    def run(case: schemathesis.Case) -> None:
        calls.append(1)
        try:
            response = case.call_and_validate(base_url=url, session=http, checks=CHECKS, timeout=30)
        except (AssertionError, FailureGroup) as exc:  # a failed check: noted, and the other cases still run
            failures.append(f"{label} ({mode.value}): {summary(exc)}")
            return
        assert CORE_MARK.encode() not in response.content, (label, case.query)

    try:
        run()
    except Unsatisfiable:
        # nothing of the request can be invalid (no parameters, and the caller's headers fixed)
        assert mode == GenerationMode.NEGATIVE and not operation.query and not list(operation.body), label
    return len(calls), failures


def test_every_operation_fuzzed_without_a_server_error(fuzzed: Fuzzed) -> None:
    schema = schemathesis.openapi.from_url(f"{fuzzed.url}/v1/openapi.json", timeout=30)
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {op.label for op in operations}
    # every published dataset of the real catalog, the test dataset, the listing and the token
    assert {"GET /v1/theme/economic_operation_month", "GET /v1/theme/test_city_month"} <= labels
    assert {"GET /v1/datasets", "POST /v1/token"} <= labels
    # ... and every other operation (the access workflow, briefs, alerts) is fuzzed as well
    assert {f"GET /v1/{c.layer}/{c.table}" for c in published(load_catalog())} <= labels
    failures: list[str] = []
    calls = 0
    http = requests.Session()
    for operation in operations:
        for caller, headers in fuzzed.headers.items():
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                label = f"{operation.label} as {caller}"
                made, failed = fuzz(operation, label, fuzzed.url, headers, mode, http)
                calls += made
                failures += failed
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(sorted(set(failures))[:40])
    assert calls >= len(operations) * len(fuzzed.headers)
