"""The 市场监管 registry as a real HTTP API on loopback: bearer token, pages, ``updated_since``.

``GET /api/v1/enterprises?updated_since=<ISO 8601>&page=<n>&page_size=<m>`` returns every
registration version (the change log, 变更记录) with ``updated_at`` after ``updated_since`` and
up to the server's clock, ordered by ``updated_at``. A configurable share of responses are 429 (with
``Retry-After``) or 503, as the real service does under load.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import orjson

from simulators.defects import (
    ABOLISHED_REGIONS,
    DefectLog,
    Defects,
    break_uscc,
    messy,
    pick_row_defect,
    unknown_industry,
    unknown_region,
)
from simulators.world import World

MAX_PAGE_SIZE = 500
SOURCE = "gov_registry"


def registry_records(world: World, defects: Defects, log: DefectLog) -> list[dict[str, Any]]:
    """Every registration version as the API serves it (with injected defects, logged)."""
    kinds = (
        "invalid_uscc",
        "messy_text",
        "missing_required",
        "unknown_region",
        "abolished_region",
        "unknown_industry",
    )
    out = []
    for v in world.registry:
        rng = world.rng(SOURCE, v.uscc, v.updated_at.isoformat())
        record: dict[str, Any] = {
            "uscc": v.uscc,
            "name": v.name,
            "legal_representative": v.legal_representative,
            "registered_capital": v.registered_capital,
            "established_on": v.established_on.isoformat(),
            "address": v.address,
            "region_code": v.region_code,
            "industry_code": v.industry_code,
            "status": v.status,
            "enterprise_type": v.enterprise_type,
            "updated_at": v.updated_at.isoformat(),
        }
        kind = pick_row_defect(rng, defects, kinds)
        if kind:
            log.add(SOURCE, kind, key=f"{v.uscc}@{record['updated_at']}")
        if kind == "invalid_uscc":
            record["uscc"] = break_uscc(rng, v.uscc)
        elif kind == "messy_text":
            record["uscc"] = messy(rng, v.uscc)
        elif kind == "missing_required":
            record["name"] = None
        elif kind == "unknown_region":
            record["region_code"] = unknown_region()
        elif kind == "abolished_region":
            record["region_code"] = rng.choice(ABOLISHED_REGIONS)
        elif kind == "unknown_industry":
            record["industry_code"] = unknown_industry(rng)
        record["_key"] = v.uscc  # the true identity, for "latest version per enterprise"
        record["_at"] = v.updated_at
        out.append(record)
    return out


class RegistryApi:
    """A threaded HTTP server on 127.0.0.1 serving ``records``."""

    def __init__(
        self,
        records: list[dict[str, Any]],
        token: str,
        as_of: dt.datetime,
        error_rate: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.records = sorted(records, key=lambda r: (r["_at"], r["_key"]))
        self.token = token
        self.as_of = as_of
        self.error_rate = error_rate
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.requests = 0
        self.errors = 0
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self, port: int = 0) -> str:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                status, body, headers = api.handle(self.path, self.headers.get("Authorization"))
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True, name="registry-api").start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def set_as_of(self, as_of: dt.datetime) -> None:
        self.as_of = as_of

    def handle(self, path: str, authorization: str | None) -> tuple[int, bytes, dict[str, str]]:
        url = urlparse(path)
        if url.path == "/health":
            return 200, b'{"status":"ok"}', {}
        if url.path != "/api/v1/enterprises":
            return 404, _error("not found"), {}
        if authorization != f"Bearer {self.token}":
            return 401, _error("missing or invalid bearer token"), {"WWW-Authenticate": "Bearer"}
        with self._lock:
            self.requests += 1
            failing = self._rng.random() < self.error_rate
            if failing:
                self.errors += 1
                too_many = self._rng.random() < 0.5
        if failing:
            if too_many:
                return 429, _error("rate limit exceeded"), {"Retry-After": "1"}
            return 503, _error("service temporarily unavailable"), {}
        query = parse_qs(url.query)
        try:
            since = _parse_time(query.get("updated_since", [None])[0])
            page = int(query.get("page", ["1"])[0])
            size = min(MAX_PAGE_SIZE, int(query.get("page_size", ["100"])[0]))
            if page < 1 or size < 1:
                raise ValueError("page and page_size must be positive")
        except ValueError as exc:
            return 400, _error(str(exc)), {}
        changed = [r for r in self.records if r["_at"] <= self.as_of and (since is None or r["_at"] > since)]
        total_pages = max(1, -(-len(changed) // size))
        chunk = changed[(page - 1) * size : page * size]
        body = {
            "data": [{k: v for k, v in r.items() if not k.startswith("_")} for r in chunk],
            "page": page,
            "page_size": size,
            "total": len(changed),
            "total_pages": total_pages,
            "as_of": self.as_of.isoformat(),
        }
        return 200, orjson.dumps(body), {}


def _parse_time(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError("updated_since needs a UTC offset")
    return value


def _error(message: str) -> bytes:
    return orjson.dumps({"error": message})
