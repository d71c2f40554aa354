"""``ibrain serve`` as a real process: serves a published dataset, exits 0 on SIGTERM (issue 14).

Why a process of its own: the teardown of delta-rs' native runtime after a read is what used to
turn a clean stop into a crash; only a real interpreter exit shows it.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time

import pyarrow as pa
import pytest
import requests
from deltalake import write_deltalake

from catalog.contracts import load_catalog
from ibrain.settings import Settings
from security.db import database_url, make_engine, migrate, transaction
from security.identity import accounts
from security.keys import init_key
from tests.conftest import lake_env
from tests.support.cli import BIN, clean_env
from tests.support.data_service import free_port

pytestmark = pytest.mark.integration
ARROW_TYPES = {
    **{"string": pa.string(), "date": pa.date32(), "int": pa.int32(), "bigint": pa.int64()},
    **{"double": pa.float64(), "boolean": pa.bool_(), "timestamp": pa.timestamp("us", "UTC")},
}


def arrow_type(kind: str) -> pa.DataType:
    found = re.match(r"decimal\((\d+),(\d+)\)", kind)
    return pa.decimal128(int(found.group(1)), int(found.group(2))) if found else ARROW_TYPES[kind]


def test_serve_reads_and_exits_0_on_sigterm(tmp_path) -> None:
    env = lake_env(tmp_path)
    settings = Settings.from_env(env)
    contract = load_catalog()["gold.dim_chain"]
    columns = {c.name: pa.array(["robotics"] if c.type == "string" else [None], arrow_type(c.type))
               for c in contract.columns}  # fmt: skip
    write_deltalake(str(tmp_path / "lake" / "gold" / "dim_chain"), pa.table(columns))
    for purpose in ("token", "masking"):
        init_key(purpose, settings=settings)
    engine = make_engine(database_url(settings))
    migrate(engine)
    with transaction(engine) as session:
        accounts.create_org(session, "bureau", "测试局", "gov_bureau", "210000")
        app, secret = accounts.create_app(session, "bureau app", "bureau")
        key = app.app_key
    engine.dispose()
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "ibrain"), "serve", "--port", str(port), "--log-level", "warning"],
        env=clean_env(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(url + "/v1/openapi.json", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "ibrain serve did not start"
            time.sleep(0.2)
        token = requests.post(url + "/v1/token", data={"app_key": key, "app_secret": secret}, timeout=30)
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        answer = requests.get(url + "/v1/gold/dim_chain", headers=headers, timeout=30)
        assert answer.status_code == 200, answer.text
        assert answer.json()["total"] == 1 and answer.headers["ETag"] == '"0"'
        assert requests.get(url + "/docs", timeout=30).text.count("/static/swagger-ui-bundle.js") == 1
        assert requests.get(url + "/static/redoc.standalone.js", timeout=30).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr[-4000:]
    assert "Traceback" not in stderr and "panicked" not in stderr, stderr[-4000:]
