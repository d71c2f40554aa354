"""A simulated provincial platform on loopback: receives delivery packages like the real ones should.

``POST /deliveries``: checks the Standard-Webhooks-style signature (HMAC-SM3 over
``id.timestamp.body`` with any secret it holds → else 401) and the timestamp tolerance (→ 401),
the manifest's Ed25519 signature when given public keys (→ 401), the payload hash and its own
fixture schema per dataset (→ 422 naming the field); dedupes by idempotency key (a repeat returns
the original receipt); applies a revision only when it is newer than the one it holds (an older
one gets the current receipt, ``applied: false``). Failures are injected deterministically from a
seed per (package id, how often it was seen): 500, 429 with ``Retry-After``, or a timeout (the
package *is* applied, the answer comes too late — the case idempotency exists for).
``GET /deliveries`` lists what it holds. Verification is written here again, on purpose, from the
scheme's description: a sender bug must not be mirrored by a shared helper.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import hmac as std_hmac
import json
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

TOLERANCE_SECONDS = 300
MAX_BODY = 64 * 1024 * 1024
# The fixture schema per dataset: the fields every payload line must have (and no others), written
# here from the platforms' side, not derived from the contracts (a changed export must show as 422).
_ECONOMIC = (
    "enterprise_count", "gross_output", "revenue", "total_profit", "avg_employees", "energy_consumption",
    "gross_output_mom_pct", "gross_output_yoy_pct", "revenue_yoy_pct",
)  # fmt: skip
DEFAULT_SCHEMAS: dict[str, tuple[str, ...]] = {
    "economic_city_chain_month": (
        "city_code", "city_name", "chain_code", "chain_name_zh", "period", *_ECONOMIC,
    ),
    "economic_city_division_month": (
        "city_code", "city_name", "division_code", "division_name", "period", *_ECONOMIC,
    ),
    "indicator_value": (
        "indicator_code", "indicator_name_zh", "unit", "region_code", "chain_code", "period",
        "enterprise_count", "value",
    ),
    "connectivity_city_chain_month": (
        "city_code", "city_name", "chain_code", "chain_name_zh", "period", "devices_known",
        "devices_connected", "connection_rate_pct", "run_hours", "avg_utilisation_pct",
    ),
    "capacity_sharing_month": (
        "period", "equipment_type", "offer_count", "idle_hours_offered", "offering_enterprise_count",
        "chain_idle_hours_offered", "chain_offering_enterprise_count", "cnc_device_count",
        "cnc_utilisation_pct", "open_order_count", "matching_ratio",
    ),
    "chain_map": (
        "chain_code", "chain_name_zh", "link", "link_order", "product_categories", "node_count",
        "reporting_enterprise_count", "period",
    ),
}  # fmt: skip


class Platform:
    """One recipient platform: its secrets, schemas, holdings and failure injection."""

    def __init__(
        self,
        recipient: str,
        secrets: Sequence[bytes],
        *,
        public_keys: Mapping[str, bytes] | None = None,
        schemas: Mapping[str, Sequence[str]] | None = None,
        seed: int = 0,
        failure_rate: float = 0.0,
        stall_seconds: float = 2.0,
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.recipient = recipient
        self.secrets = list(secrets)
        self.public_keys = dict(public_keys or {})
        self.schemas = {k: tuple(v) for k, v in (schemas or DEFAULT_SCHEMAS).items()}
        self.seed = seed
        self.failure_rate = failure_rate
        self.stall_seconds = stall_seconds
        self.now = now or (lambda: dt.datetime.now(dt.UTC))
        self.redirect_to: str | None = None
        self.stall_all = 0.0  # seconds every applied answer waits (to kill a sender mid-request)
        self._lock = threading.Lock()
        self._seen: dict[str, int] = {}
        self.receipts: dict[str, dict[str, Any]] = {}  # idempotency key → receipt
        self.current: dict[tuple[str, str], dict[str, Any]] = {}  # (dataset, period) → receipt held
        self.applied: dict[tuple[str, str, int], int] = {}  # (dataset, period, revision) → times applied
        self.audit_checkpoints: list[dict[str, Any]] = []
        self.requests = 0
        self._server: ThreadingHTTPServer | None = None

    # -- HTTP ------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "platform not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/deliveries"

    def start(self, port: int = 0) -> str:
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def _answer(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path.rstrip("/") != "/deliveries":
                    return self._answer(404, _error("not found"), {})
                self._answer(200, json.dumps(platform.holdings(), ensure_ascii=False).encode(), {})

            def do_POST(self) -> None:
                if self.path.rstrip("/") != "/deliveries":
                    return self._answer(404, _error("not found"), {})
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    return self._answer(413, _error("body too large"), {})
                body = self.rfile.read(length)
                status, answer, headers, stall = platform.handle(dict(self.headers.items()), body)
                if stall:
                    time.sleep(stall)
                # the sender may have given up waiting: that is the point of a stall
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._answer(status, answer, headers)

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True, name="platform").start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- behaviour -------------------------------------------------------------------------------

    def _inject(self, msg_id: str) -> str | None:
        with self._lock:
            n = self._seen.get(msg_id, 0) + 1
            self._seen[msg_id] = n
        if self.failure_rate <= 0:
            return None
        rng = random.Random(f"{self.seed}:{msg_id}:{n}")
        if rng.random() >= self.failure_rate:
            return None
        return rng.choice(("500", "429", "timeout"))

    def _verify_headers(self, headers: Mapping[str, str], body: bytes) -> str | None:
        lower = {k.lower(): v for k, v in headers.items()}
        msg_id, stamp, signature = (
            lower.get(h) for h in ("webhook-id", "webhook-timestamp", "webhook-signature")
        )
        if not (msg_id and stamp and signature):
            return "missing webhook-id, webhook-timestamp or webhook-signature"
        try:
            sent = int(stamp)
        except ValueError:
            return "webhook-timestamp is not an integer"
        if abs(self.now().timestamp() - sent) > TOLERANCE_SECONDS:
            return "webhook-timestamp outside the tolerance"
        content = f"{msg_id}.{sent}.".encode() + body
        for part in signature.split():
            scheme, _, value = part.partition(",")
            if scheme != "v1sm3":
                continue
            try:
                given = base64.b64decode(value, validate=True)
            except ValueError:
                continue
            for secret in self.secrets:
                mac = crypto_hmac.HMAC(secret, hashes.SM3())
                mac.update(content)
                if std_hmac.compare_digest(given, mac.finalize()):
                    return None
        return "no valid signature"

    def _check(self, msg_id: str, document: Any) -> tuple[int, str] | None:
        if not isinstance(document, dict):
            return 422, "body: not a JSON object"
        for field in (
            "id",
            "recipient",
            "dataset",
            "period",
            "revision",
            "payload_sha256",
            "manifest",
            "payload",
        ):
            if field not in document:
                return 422, f"{field}: missing"
        if document["id"] != msg_id:
            return 422, "id: differs from webhook-id"
        if document["recipient"] != self.recipient:
            return 422, f"recipient: {document['recipient']!r} is not this platform"
        payload = document["payload"].encode("utf-8")
        if hashlib.sha256(payload).hexdigest() != document["payload_sha256"]:
            return 422, "payload_sha256: does not match the payload"
        if document["manifest"].get("payload_sha256") != document["payload_sha256"]:
            return 422, "manifest.payload_sha256: does not match the body"
        if self.public_keys:
            sig = document.get("manifest_signature") or {}
            key = self.public_keys.get(sig.get("kid", ""))
            if key is None:
                return 401, "manifest_signature: unknown key"
            canonical = json.dumps(
                document["manifest"], sort_keys=True, separators=(",", ":"), ensure_ascii=False
            ).encode()
            try:
                Ed25519PublicKey.from_public_bytes(key).verify(base64.b64decode(sig["signature"]), canonical)
            except (InvalidSignature, ValueError, KeyError):
                return 401, "manifest_signature: invalid"
        schema = self.schemas.get(document["dataset"])
        if schema is not None:
            for number, line in enumerate(document["payload"].splitlines(), start=1):
                row = json.loads(line)
                missing = [f for f in schema if f not in row]
                extra = [f for f in row if f not in schema]
                if missing or extra:
                    field = (missing or extra)[0]
                    return (
                        422,
                        f"payload line {number}: field {field!r} {'missing' if missing else 'unknown'}",
                    )
        return None

    def handle(self, headers: Mapping[str, str], body: bytes) -> tuple[int, bytes, dict[str, str], float]:
        """(status, body, headers, seconds to stall before answering) for one POST."""
        with self._lock:
            self.requests += 1
        if self.redirect_to:
            return 307, b"", {"Location": self.redirect_to}, 0.0
        refused = self._verify_headers(headers, body)
        if refused:
            return 401, _error(refused), {}, 0.0
        msg_id = {k.lower(): v for k, v in headers.items()}["webhook-id"]
        injected = self._inject(msg_id)
        if injected == "500":
            return 500, _error("injected failure"), {}, 0.0
        if injected == "429":
            return 429, _error("rate limited"), {"Retry-After": "2"}, 0.0
        try:
            document = json.loads(body)
        except ValueError:
            return 422, _error("body: not JSON"), {}, 0.0
        problem = self._check(msg_id, document)
        if problem:
            return problem[0], _error(problem[1]), {}, 0.0
        receipt = self._apply(msg_id, document)
        stall = self.stall_seconds if injected == "timeout" else self.stall_all
        return 200, json.dumps(receipt, ensure_ascii=False).encode(), {}, stall

    def _apply(self, msg_id: str, document: dict[str, Any]) -> dict[str, Any]:
        key = (document["dataset"], document["period"])
        with self._lock:
            if msg_id in self.receipts:
                return self.receipts[msg_id]
            held = self.current.get(key)
            if held is not None and held["revision"] >= int(document["revision"]):
                return {**held, "applied": False, "note": f"holds revision {held['revision']}"}
            receipt = {
                "receipt_id": f"{self.recipient}-{len(self.receipts) + 1:06d}",
                "id": msg_id,
                "recipient": self.recipient,
                "dataset": document["dataset"],
                "period": document["period"],
                "revision": int(document["revision"]),
                "payload_sha256": document["payload_sha256"],
                "content_hash": document.get("content_hash"),
                "received_at": self.now().isoformat(),
                "applied": True,
            }
            self.receipts[msg_id] = receipt
            self.current[key] = receipt
            applied = (*key, int(document["revision"]))
            self.applied[applied] = self.applied.get(applied, 0) + 1
            checkpoint = document["manifest"].get("audit_checkpoint")
            if checkpoint:
                self.audit_checkpoints.append(checkpoint)
            return receipt

    def holdings(self) -> list[dict[str, Any]]:
        """Every receipt issued (one per applied revision), oldest first."""
        with self._lock:
            return list(self.receipts.values())


def _error(message: str) -> bytes:
    return json.dumps({"error": message}, ensure_ascii=False).encode()
