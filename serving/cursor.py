"""Paging cursors: opaque, integrity-protected, pinned to one Delta version of one dataset.

A cursor carries the dataset, the table version the first page read, the next offset and a digest
of the filters and sort; it is signed with HMAC-SM3 under a key derived (HKDF, its own label) from
the masking secret, so a caller can neither move it to another version — e.g. back to rows a
withdrawn batch has since removed — nor reuse it with other filters.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

LABEL = b"ibrain data service cursor v1"


class CursorError(ValueError):
    """The cursor was not issued by this service for this request."""


@dataclass(frozen=True)
class Cursor:
    dataset: str
    version: int
    offset: int
    digest: str  # SM3 of the request's filters and sort


def cursor_key(masking_secret: bytes) -> bytes:
    return HKDF(algorithm=hashes.SM3(), length=32, salt=None, info=LABEL).derive(masking_secret)


def request_digest(fingerprint: str) -> str:
    digest = hashes.Hash(hashes.SM3())
    digest.update(fingerprint.encode("utf-8"))
    return digest.finalize().hex()[:32]


def _mac(key: bytes, payload: bytes) -> bytes:
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(payload)
    return mac.finalize()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode(key: bytes, cursor: Cursor) -> str:
    payload = json.dumps(
        [cursor.dataset, cursor.version, cursor.offset, cursor.digest], separators=(",", ":")
    ).encode("utf-8")
    return f"{_b64(payload)}.{_b64(_mac(key, payload))}"


def decode(key: bytes, text: str, dataset: str, digest: str) -> Cursor:
    """The cursor ``text`` names, checked: signature, dataset and request digest."""
    try:
        payload_text, mac_text = text.split(".")
        payload, mac = _unb64(payload_text), _unb64(mac_text)
    except (ValueError, binascii.Error):
        raise CursorError("cursor: not a cursor this service issued") from None
    check = hmac.HMAC(key, hashes.SM3())
    check.update(payload)
    try:
        check.verify(mac)
    except InvalidSignature:
        raise CursorError("cursor: not a cursor this service issued") from None
    name, version, offset, request = json.loads(payload)
    if name != dataset:
        raise CursorError("cursor: issued for another dataset")
    if request != digest:
        raise CursorError("cursor: issued for other filters or sort; repeat them unchanged")
    return Cursor(name, int(version), int(offset), request)
