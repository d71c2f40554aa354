"""Measure the data service's read latency on loopback, and the engines it was chosen between.

    .venv/bin/python benchmarks/bench_api_latency.py [--rows 200000] [--requests 200]

A fresh temporary lake with one published table (``--rows`` rows: enterprise, city, chain, month,
amounts; a 重要 column masked by round_10k, another granted), a SQLite state database, a uvicorn
server in a thread on 127.0.0.1, one app with a token. Sequential requests (auditing and quota on,
as in production): 100-row and 1,000-row JSON pages at offsets spread over the table, then the
same SQL straight through DataFusion and through a pyarrow dataset scan. Prints p50/p95 per case.
A script, not a timed test; the offered-load benchmark of issue 14 (bench_api.py) is separate.
"""

from __future__ import annotations

import argparse
import datetime as dt
import decimal
import os
import socket
import statistics
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import requests
import uvicorn
from deltalake import DeltaTable, QueryBuilder, write_deltalake

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CONTRACT = """
table: bench
layer: theme
name_zh: 基准测试
name_en: Benchmark
description: Benchmark table.
owner: team:bench
grain: one row per enterprise and month
primary_key: [enterprise_id, period]
update_frequency: monthly
columns:
  - {name: enterprise_id, type: string, name_zh: 企业, classification: 一般}
  - {name: city_code, type: string, name_zh: 地市, classification: 一般}
  - {name: chain_code, type: string, name_zh: 产业链, classification: 一般}
  - {name: period, type: date, name_zh: 报告期, classification: 一般}
  - {name: staff, type: bigint, name_zh: 人数, classification: 一般}
  - {name: output, type: "decimal(18,2)", name_zh: 产值, classification: 重要, masking: round_10k, unit: 万元}
  - {name: revenue, type: "decimal(18,2)", name_zh: 收入, classification: 重要, masking: none}
api:
  filters: {city_code: [eq, in], period: [gte, lte]}
  sort: [period]
  page_size: {default: 100, max: 1000}
  scope: {city: city_code, chain: chain_code, enterprise: enterprise_id}
  as_of: period
"""


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)]
    return f"p50 {statistics.median(ordered) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms   (n={len(ordered)})"


def table(rows: int) -> pa.Table:
    cities = ["210100", "210200", "210300", "210400", "210500"]
    return pa.table(
        {
            "enterprise_id": [f"E{i // 12:07d}" for i in range(rows)],
            "city_code": [cities[(i // 12) % 5] for i in range(rows)],
            "chain_code": ["robotics" if i % 2 else "cnc" for i in range(rows)],
            "period": [dt.date(2024, 1 + i % 12, 1) for i in range(rows)],
            "staff": pa.array(range(rows), pa.int64()),
            "output": pa.array([decimal.Decimal(i * 13) / 100 for i in range(rows)], pa.decimal128(18, 2)),
            "revenue": pa.array([decimal.Decimal(i * 29) / 100 for i in range(rows)], pa.decimal128(18, 2)),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=200, help="requests per case (bounded)")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-api-"))
    os.environ.update(
        IBRAIN_LAKE_ROOT=str(base / "lake"),
        IBRAIN_TOKEN_KEY_FILE=str(base / "keys" / "token.json"),
        IBRAIN_MASKING_KEY_FILE=str(base / "keys" / "masking.json"),
        IBRAIN_API_RATE_PER_MINUTE="100000",
    )
    from catalog.contracts import load_catalog
    from ibrain.settings import Settings
    from security.db import transaction
    from security.identity import accounts
    from security.keys import init_key
    from serving.api.app import create_app
    from serving.api.server import build_service

    settings = Settings.from_env()
    for purpose in ("token", "masking"):
        init_key(purpose, settings=settings)
    uri = str(base / "lake" / "theme" / "bench")
    write_deltalake(uri, table(args.rows), partition_by=["period"])
    (base / "contracts" / "theme").mkdir(parents=True)
    (base / "contracts" / "theme" / "bench.yaml").write_text(textwrap.dedent(CONTRACT), encoding="utf-8")
    service = build_service(
        settings, catalog=load_catalog(base / "contracts"), db_url=f"sqlite:///{base}/state.db"
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(service), host="127.0.0.1", port=port, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    with transaction(service.db) as session:
        accounts.create_org(session, "bench", "基准", "gov_bureau", "210000")
        app, secret = accounts.create_app(session, "bench app", "bench")
        key = app.app_key
    token = requests.post(url + "/v1/token", data={"app_key": key, "app_secret": secret}, timeout=30).json()
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token['access_token']}"
    print(f"table: {args.rows} rows partitioned by month; {args.requests} requests per case")

    for size in (100, 1000):
        samples = []
        cursor = None
        for _ in range(args.requests):
            params = {"page_size": str(size), "city_code": "210100"}
            if cursor:
                params["cursor"] = cursor
            start = time.perf_counter()
            answer = http.get(url + "/v1/theme/bench", params=params, timeout=60)
            samples.append(time.perf_counter() - start)
            assert answer.status_code == 200, answer.text
            cursor = answer.json()["next_cursor"]
        print(f"HTTP JSON {size:5d}-row page (filtered, masked, audited): {percentiles(samples)}")

    handle = DeltaTable(uri)
    for size in (100, 1000):
        sql = (
            "SELECT * FROM t WHERE city_code = '210100' ORDER BY enterprise_id, period "
            f"LIMIT {size} OFFSET {args.rows // 20}"
        )
        samples = []
        for _ in range(min(args.requests, 50)):
            start = time.perf_counter()
            QueryBuilder().register("t", handle).execute(sql).read_all()
            samples.append(time.perf_counter() - start)
        print(f"DataFusion {size:5d}-row page:                       {percentiles(samples)}")
        samples = []
        for _ in range(min(args.requests, 50)):
            start = time.perf_counter()
            scanned = handle.to_pyarrow_dataset().to_table(filter=pc.field("city_code") == "210100")
            scanned.sort_by([("enterprise_id", "ascending"), ("period", "ascending")]).slice(
                args.rows // 20, size
            )
            samples.append(time.perf_counter() - start)
        print(f"pyarrow dataset {size:5d}-row page:                  {percentiles(samples)}")
    server.should_exit = True


if __name__ == "__main__":
    main()
