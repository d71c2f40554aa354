"""How a delivery request is signed: Standard-Webhooks-style headers with HMAC-SM3, and the
manifest signed with the recipient's Ed25519 delivery key.

The request: headers ``webhook-id`` (the package id, the idempotency key), ``webhook-timestamp``
(Unix seconds) and ``webhook-signature`` — ``v1sm3,<base64 HMAC-SM3(secret, id.timestamp.body)>``,
one per secret held, space-separated (two while the shared secret rotates). Everything the
recipient acts on (recipient, dataset, period, revision, supersedes, content hash) is *inside*
the signed body, never only in headers.
"""

from __future__ import annotations

import base64
import hmac as std_hmac
import json
from collections.abc import Sequence
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac

from security.keys import Keyring

SCHEME = "v1sm3"


def canonical(value: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, no spaces, UTF-8 as itself (what is hashed and signed)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def hmac_sm3(secret: bytes, data: bytes) -> bytes:
    mac = crypto_hmac.HMAC(secret, hashes.SM3())
    mac.update(data)
    return mac.finalize()


def signed_content(msg_id: str, timestamp: int, body: bytes) -> bytes:
    return f"{msg_id}.{timestamp}.".encode() + body


def signature_header(secrets: Sequence[tuple[str, bytes]], msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1sm3,<sig>`` for each secret (active first)."""
    content = signed_content(msg_id, timestamp, body)
    return " ".join(
        f"{SCHEME},{base64.b64encode(hmac_sm3(secret, content)).decode()}" for _, secret in secrets
    )


def signature_valid(secrets: Sequence[bytes], msg_id: str, timestamp: int, body: bytes, header: str) -> bool:
    """Whether any ``v1sm3`` signature in ``header`` matches any of ``secrets`` (constant-time)."""
    content = signed_content(msg_id, timestamp, body)
    expected = [hmac_sm3(secret, content) for secret in secrets]
    for part in header.split():
        scheme, _, value = part.partition(",")
        if scheme != SCHEME:
            continue
        try:
            given = base64.b64decode(value, validate=True)
        except ValueError:
            continue
        if any(std_hmac.compare_digest(given, e) for e in expected):
            return True
    return False


def sign_manifest(keyring: Keyring, manifest: dict[str, Any]) -> dict[str, str]:
    """Ed25519 signature of the canonical manifest with the recipient's delivery key."""
    kid, signature = keyring.sign(canonical(manifest))
    return {"kid": kid, "alg": "Ed25519", "signature": base64.b64encode(signature).decode()}
