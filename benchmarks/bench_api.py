"""Offered-load benchmark of the data service (issue 14 acceptance): loopback, bounded.

    .venv/bin/python benchmarks/bench_api.py [--rows 200000] [--rate 100] [--seconds 60]
                                             [--clients 8] [--throughput-seconds 20] [--json]

A fresh temporary lake with one published table (``--rows`` rows, partitioned by month; the
contract and rows of benchmarks/bench_api_latency.py: a 重要 column masked by round_10k, one
withheld), a SQLite state database, and ``serving.api.server.run`` — what ``ibrain serve`` runs —
in a process of its own on 127.0.0.1 (so the load generator does not share the server's
interpreter). One app with a token; auditing and quota counting are on, as in production (the
per-minute limit is raised to let one app offer the load).

1. **Open-loop load**: ``--rate`` requests per second for ``--seconds``, sent on schedule whether
   or not earlier answers came back (a pool of keep-alive connections grows as needed), latency
   measured from each request's *scheduled* time — so queueing in the server or the client is
   counted, not hidden (no coordinated omission). Once with 100-row pages, once with 1,000-row
   pages: first pages and cursor pages of five filters (city_code), prepared before the run.
   Before each phase the server is given time to work off the previous one (``drain``).
2. **Maximum throughput**: ``--clients`` connections each sending its next 100-row request as
   soon as the previous answer arrived, for ``--throughput-seconds``.
3. ``ibrain audit checkpoint`` and ``ibrain audit verify`` over the state database: every request
   above wrote an audit record in the chain.

Reports p50/p95/p99/max, errors (any status but 200, timeouts, connection failures), the machine
and its load average before and after each phase (the machine may be shared). ``--json`` prints
one JSON document instead of the table. Bounded: every request times out after 30 s, and each
phase stops waiting 30 s after its last scheduled request.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_api_latency import CONTRACT, table  # noqa: E402

CITIES = ("210100", "210200", "210300", "210400", "210500")
PATH = "/v1/theme/bench"
REQUEST_TIMEOUT = 30.0
IDLE_CLOSE = 4.0  # a connection idle this long may have been closed by the server
TARGETS_MS = {100: 50.0, 1000: 200.0}  # issue 14: p95 at 100 requests/s


# -- a minimal HTTP/1.1 keep-alive client (asyncio) ------------------------------------------------
class ClosedIdle(ConnectionError):
    """A kept-alive connection the server closed while it was idle; nothing of the request ran."""


class Connection:
    """One keep-alive connection: GET a path, read the status and the Content-Length body."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.last_used = time.monotonic()

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer)

    async def get(self, target: str, token: str) -> tuple[int, int]:
        """(status, body length) of ``GET target``."""
        self.writer.write(
            f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
        )
        status_line = await self.reader.readline()
        if not status_line:
            if time.monotonic() - self.last_used > IDLE_CLOSE:  # uvicorn's keep-alive timeout: 5 s
                raise ClosedIdle("connection closed by the server while idle")
            raise ConnectionError("connection closed by the server")
        status = int(status_line.split()[1])
        length, close = 0, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding":
                raise ConnectionError("chunked answers are not expected from this service")
            elif name == "connection" and value.strip().lower() == "close":
                close = True
        body = await self.reader.readexactly(length)
        self.last_used = time.monotonic()
        if close:
            self.close()
            raise ConnectionError("the server closed the connection")
        return status, len(body)

    def close(self) -> None:
        self.writer.close()


class Pool:
    """Idle connections; a request takes one or opens a new one (open loop: never waits)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.idle: list[Connection] = []
        self.opened = 0

    async def get(self, target: str, token: str) -> tuple[int, int]:
        while self.idle:  # the newest idle connection; the server closes those idle too long
            connection = self.idle.pop()
            try:
                answer = await asyncio.wait_for(connection.get(target, token), REQUEST_TIMEOUT)
            except ClosedIdle:
                connection.close()
                continue  # closed by the server before this request: try another
            except BaseException:
                connection.close()
                raise
            self.idle.append(connection)
            return answer
        connection = await Connection.open(self.port)
        self.opened += 1
        try:
            answer = await asyncio.wait_for(connection.get(target, token), REQUEST_TIMEOUT)
        except BaseException:
            connection.close()
            raise
        self.idle.append(connection)
        return answer

    def close(self) -> None:
        for connection in self.idle:
            connection.close()
        self.idle.clear()


# -- measurements ----------------------------------------------------------------------------------
def quantile(ordered: list[float], q: float) -> float:
    """The nearest-rank ``q`` quantile of sorted samples (seconds)."""
    if not ordered:
        return float("nan")
    rank = max(1, -(-int(q * 1000) * len(ordered) // 1000))  # ceil(q × n) without float error
    return ordered[min(rank, len(ordered)) - 1]


@dataclass
class Phase:
    name: str
    offered: int = 0  # requests scheduled (open loop) or sent (closed loop)
    latencies: list[float] = field(default_factory=list)  # successful requests, seconds
    errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    connections: int = 0
    bytes: int = 0

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        ms = {f"p{int(q * 100)}_ms": round(quantile(ordered, q) * 1000, 1) for q in (0.5, 0.95, 0.99)}
        return {
            "phase": self.name,
            "requests": self.offered,
            "ok": len(ordered),
            "errors": sum(self.errors.values()),
            "error_kinds": self.errors,
            **ms,
            "max_ms": round(ordered[-1] * 1000, 1) if ordered else None,
            "seconds": round(self.seconds, 1),
            "throughput_rps": round(len(ordered) / self.seconds, 1) if self.seconds else None,
            "connections": self.connections,
            "mean_body_bytes": round(self.bytes / len(ordered)) if ordered else None,
            "load_before": [round(x, 2) for x in self.load_before],
            "load_after": [round(x, 2) for x in self.load_after],
        }


async def one(pool: Pool, target: str, token: str, start: float, phase: Phase) -> None:
    """Send one request; its latency counts from ``start`` (the scheduled time in the open loop)."""
    try:
        status, size = await pool.get(target, token)
    except TimeoutError:
        phase.error("timeout")
        return
    except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError) as exc:
        phase.error(type(exc).__name__)
        return
    if status != 200:
        phase.error(f"http {status}")
        return
    phase.latencies.append(time.perf_counter() - start)
    phase.bytes += size


async def open_loop(
    port: int, token: str, targets: list[str], rate: float, seconds: float, name: str
) -> Phase:
    """``rate`` requests per second for ``seconds``, each sent at its scheduled time."""
    phase = Phase(name, load_before=os.getloadavg())
    pool = Pool(port)
    count = int(rate * seconds)
    tasks = []
    begin = time.perf_counter() + 0.1
    for i in range(count):
        scheduled = begin + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(pool, targets[i % len(targets)], token, scheduled, phase)))
    phase.offered = count
    _, pending = await asyncio.wait(tasks, timeout=REQUEST_TIMEOUT)
    for task in pending:
        task.cancel()
        phase.error("unfinished")
    phase.seconds = time.perf_counter() - begin
    phase.connections = pool.opened
    phase.load_after = os.getloadavg()
    pool.close()
    return phase


async def closed_loop(port: int, token: str, targets: list[str], clients: int, seconds: float) -> Phase:
    """``clients`` connections, each sending its next request when the previous one is answered."""
    phase = Phase(f"max throughput, {clients} clients, 100-row pages", load_before=os.getloadavg())
    stop = time.perf_counter() + seconds
    counter = iter(range(10**9))

    async def client() -> None:
        pool = Pool(port)
        while time.perf_counter() < stop:
            i = next(counter)
            phase.offered += 1
            await one(pool, targets[i % len(targets)], token, time.perf_counter(), phase)
        phase.connections += pool.opened
        pool.close()

    begin = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(client() for _ in range(clients))), seconds + REQUEST_TIMEOUT)
    phase.seconds = time.perf_counter() - begin
    phase.load_after = os.getloadavg()
    return phase


# -- set-up ----------------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        memory = meminfo.read_text().splitlines()[0].split(":", 1)[1].strip()
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory": memory,
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def environment(base: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "IBRAIN_LAKE_ROOT": str(base / "lake"),
        "IBRAIN_DB_URL": f"sqlite:///{base}/state.db",
        "IBRAIN_TOKEN_KEY_FILE": str(base / "keys" / "token.json"),
        "IBRAIN_MASKING_KEY_FILE": str(base / "keys" / "masking.json"),
        "IBRAIN_CHECKPOINT_KEY_FILE": str(base / "keys" / "checkpoint.json"),
        "IBRAIN_API_RATE_PER_MINUTE": "1000000",
        "IBRAIN_API_DAILY_QUOTA": "10000000",
    }


def serve(base: Path, port: int) -> None:
    """The server process: the service over ``base`` (as ``ibrain serve`` builds it, with the
    benchmark's catalog), until SIGTERM."""
    from catalog.contracts import load_catalog
    from serving.api.server import build_service, run

    service = build_service(catalog=load_catalog(base / "contracts"))
    run(service, "127.0.0.1", port, log_level="warning")


def prepare(base: Path, rows: int) -> None:
    from deltalake import write_deltalake

    from ibrain.settings import Settings
    from security.db import make_engine, migrate
    from security.keys import init_key

    settings = Settings.from_env()
    for purpose in ("token", "masking", "checkpoint"):
        init_key(purpose, settings=settings)
    write_deltalake(str(base / "lake" / "theme" / "bench"), table(rows), partition_by=["period"])
    (base / "contracts" / "theme").mkdir(parents=True)
    (base / "contracts" / "theme" / "bench.yaml").write_text(textwrap.dedent(CONTRACT), encoding="utf-8")
    engine = make_engine()
    migrate(engine)
    engine.dispose()


def create_app_account() -> tuple[str, str]:
    from security.db import make_engine, transaction
    from security.identity import accounts

    engine = make_engine()
    with transaction(engine) as session:
        accounts.create_org(session, "bench", "基准", "gov_bureau", "210000")
        app, secret = accounts.create_app(session, "bench app", "bench")
        key = app.app_key
    engine.dispose()
    return key, secret


def targets_for(port: int, token: str, size: int, pages: int) -> list[str]:
    """First and following pages (with their cursors) of the five city filters, interleaved."""
    import requests

    per_city = []
    for city in CITIES:
        found, cursor = [], None
        for _ in range(pages):
            params = {"city_code": city, "page_size": str(size)}
            if cursor:
                params["cursor"] = cursor
            target = f"{PATH}?{urlencode(params)}"
            answer = requests.get(
                f"http://127.0.0.1:{port}{target}", headers={"Authorization": f"Bearer {token}"}, timeout=60
            )
            answer.raise_for_status()
            found.append(target)
            cursor = answer.json()["next_cursor"]
            if not cursor:
                break
        per_city.append(found)
    return [t for group in zip(*per_city, strict=False) for t in group]


def drain(port: int, token: str, target: str, limit: float = 180.0) -> float:
    """Wait until the server has worked off an earlier phase's backlog — one request answered
    within a second — so that each phase starts from an idle server; the seconds it took."""
    import requests

    begin = time.monotonic()
    while time.monotonic() - begin < limit:
        start = time.monotonic()
        with contextlib.suppress(requests.RequestException):  # a refusal still says it is busy
            requests.get(
                f"http://127.0.0.1:{port}{target}", headers={"Authorization": f"Bearer {token}"}, timeout=60
            )
        if time.monotonic() - start < 1.0:
            break
    return round(time.monotonic() - begin, 1)


def ibrain(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).parent / "ibrain"), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)


def print_report(report: dict[str, Any]) -> None:
    m = report["machine"]
    print(f"machine: {m['cpus']} CPUs ({m['cpu_model']}), {m['memory']}, Python {m['python']}")
    print(f"table: {report['rows']:,} rows partitioned by month; state: SQLite; server: 1 process, loopback")
    head = f"{'phase':<46} {'req':>6} {'ok':>6} {'err':>4} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}"
    print(head + f" {'req/s':>7} {'load before → after':>22}")
    for phase in report["phases"]:
        load = f"{phase['load_before'][0]:.1f} → {phase['load_after'][0]:.1f}"
        print(
            f"{phase['phase']:<46} {phase['requests']:>6} {phase['ok']:>6} {phase['errors']:>4} "
            f"{phase['p50_ms']:>7} {phase['p95_ms']:>7} {phase['p99_ms']:>7} {phase['max_ms']!s:>7} "
            f"{phase['throughput_rps']!s:>7} {load:>22}"
        )
        if phase["error_kinds"]:
            print(f"    errors: {phase['error_kinds']}")
    for check in report["targets"]:
        print(f"target {check['target']}: {'met' if check['met'] else 'MISSED'} ({check['measured']})")
    print(f"audit: {report['audit']['summary']} — {'verified' if report['audit']['ok'] else 'FAILED'}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rate", type=float, default=100.0, help="offered requests per second")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each open-loop phase")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--throughput-seconds", type=float, default=20.0)
    parser.add_argument("--sizes", default="100,1000", help="page sizes of the open-loop phases")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--keep", action="store_true", help="keep the temporary lake and state database")
    parser.add_argument("--serve", nargs=2, metavar=("BASE", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(Path(args.serve[0]), int(args.serve[1]))
        return
    if args.seconds * args.rate > 20_000 or args.seconds > 600 or args.throughput_seconds > 600:
        parser.error("bounded: at most 20,000 requests and 600 s per phase")

    base = Path(tempfile.mkdtemp(prefix="bench-api-"))
    env = environment(base)
    os.environ.update(env)
    prepare(base, args.rows)
    key, secret = create_app_account()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(base), str(port)], env=env, stdout=sys.stderr
    )
    report: dict[str, Any] = {"machine": machine(), "rows": args.rows, "rate": args.rate, "phases": []}
    try:
        import requests

        deadline = time.monotonic() + 120
        while True:
            try:
                answer = requests.post(
                    f"http://127.0.0.1:{port}/v1/token",
                    data={"app_key": key, "app_secret": secret},
                    timeout=10,
                )
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the data service did not start") from None
                time.sleep(0.2)
        answer.raise_for_status()
        token = answer.json()["access_token"]
        sizes = [int(s) for s in args.sizes.split(",") if s]
        targets = {size: targets_for(port, token, size, 20 if size <= 100 else 8) for size in sizes}
        targets.setdefault(100, targets_for(port, token, 100, 20))
        for size in sizes:
            waited = drain(port, token, targets[100][0])
            phase = asyncio.run(
                open_loop(
                    port, token, targets[size], args.rate, args.seconds,
                    f"{args.rate:g} req/s × {args.seconds:g} s, {size}-row pages",
                )
            )  # fmt: skip
            report["phases"].append(
                {**phase.summary(), "page_size": size, "open_loop": True, "drained_seconds": waited}
            )
        waited = drain(port, token, targets[100][0])
        phase = asyncio.run(closed_loop(port, token, targets[100], args.clients, args.throughput_seconds))
        report["phases"].append(
            {**phase.summary(), "page_size": 100, "open_loop": False, "drained_seconds": waited}
        )
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    report["targets"] = [
        {
            "target": f"{p['page_size']}-row pages p95 ≤ {TARGETS_MS[p['page_size']]:g} ms, no errors",
            "measured": f"p95 {p['p95_ms']} ms, {p['errors']} errors",
            "met": p["p95_ms"] <= TARGETS_MS[p["page_size"]] and p["errors"] == 0,
        }
        for p in report["phases"]
        if p["open_loop"] and p["page_size"] in TARGETS_MS
    ]
    checkpoint = ibrain(env, "audit", "checkpoint")
    verify = ibrain(env, "audit", "verify")
    lines = (verify.stdout + verify.stderr).strip().splitlines()
    report["audit"] = {
        "ok": checkpoint.returncode == 0 and verify.returncode == 0,
        "summary": lines[0] if lines else "",
        "output": checkpoint.stdout + checkpoint.stderr + verify.stdout + verify.stderr,
    }
    if args.keep:
        report["state"] = str(base)
    else:
        shutil.rmtree(base, ignore_errors=True)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print_report(report)
    sys.exit(0 if report["audit"]["ok"] else 1)


if __name__ == "__main__":
    main()
