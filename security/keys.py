"""The keys, each for one purpose, each in a file outside the lake and the database.

- ``token``: signs the short-lived access tokens (Ed25519; a service verifies with the public key);
- ``checkpoint``: signs the audit trail's checkpoints (Ed25519; an auditor verifies with the
  public key alone);
- ``delivery``: signs the packages sent to one recipient (Ed25519, one keyring per recipient);
- ``masking``: the secret of the keyed hashes that mask identifiers (HMAC; 32 random bytes);
- ``delivery_hmac``: the secret shared with one recipient platform, which authenticates each
  request of a delivery (HMAC-SM3 over ``id.timestamp.body``, Standard Webhooks style; 32 random
  bytes, one keyring per recipient).

Why a fifth keyring beside ``delivery``: the two delivery keys do different jobs and must not be
one. The Ed25519 ``delivery`` key signs the manifest, so the platform can prove to a third party
what it received (non-repudiation: only we hold the private half). The ``delivery_hmac`` secret is
known to both sides and only authenticates the transport; the platform could forge an HMAC, never
an Ed25519 signature. Rotating the transport secret (agreed with the platform) must not touch the
manifest key, and the other way round.

Why separate files: a leaked masking secret must not let anyone forge tokens, and rotating the
token key must not invalidate the audit trail's signatures. Each keyring is a JSON file whose
first key is the active one; rotation puts a new key first and keeps the older ones' public
halves (Ed25519) so what they signed still verifies. A keyring readable or writable by group or
others is refused (whatever needs it does not start).

Where the files are: the variable named in ``KEY_FILE_VARIABLES`` (``IBRAIN_DELIVERY_KEY_DIR``
for the per-recipient delivery keyrings). Only in the demo (``IBRAIN_ENV=demo``) is there a
default: ``<lake's parent>/keys/`` — never inside the lake.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ibrain.settings import Settings, get_settings

PURPOSES = ("token", "checkpoint", "delivery", "masking", "delivery_hmac")
PER_RECIPIENT = {"delivery", "delivery_hmac"}
# Secrets whose previous key stays usable after a rotation (both sides sign/accept both meanwhile).
KEEP_PREVIOUS_SECRET = {"delivery_hmac"}
ED25519_PURPOSES = {"token", "checkpoint", "delivery"}
KEY_FILE_VARIABLES = {
    "token": "IBRAIN_TOKEN_KEY_FILE",
    "checkpoint": "IBRAIN_CHECKPOINT_KEY_FILE",
    "masking": "IBRAIN_MASKING_KEY_FILE",
}
DELIVERY_KEY_DIR_VARIABLE = "IBRAIN_DELIVERY_KEY_DIR"
RECIPIENT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class KeyFileError(Exception):
    """A key is missing, unreadable, malformed or exposed; the message names the file or variable."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


@dataclass(frozen=True)
class Key:
    """One key of a keyring. ``private`` is the Ed25519 private key or the masking secret's bytes;
    it is None for a retired Ed25519 key, of which only the public half is kept."""

    kid: str
    created: str
    private: Ed25519PrivateKey | bytes | None
    public: Ed25519PublicKey | None

    def public_b64(self) -> str:
        if self.public is None:
            raise KeyFileError(f"key {self.kid} has no public half (a masking secret)")
        raw = self.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return _b64(raw)


@dataclass(frozen=True)
class Keyring:
    purpose: str
    path: Path
    keys: tuple[Key, ...]  # newest (active) first

    @property
    def active(self) -> Key:
        return self.keys[0]

    def sign(self, data: bytes) -> tuple[str, bytes]:
        """(key id, Ed25519 signature of ``data``) with the active key."""
        key = self.active
        if not isinstance(key.private, Ed25519PrivateKey):
            raise KeyFileError(f"{self.path}: the {self.purpose} key cannot sign")
        return key.kid, key.private.sign(data)

    def verify(self, kid: str, data: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is a valid signature of ``data`` by key ``kid`` (current or retired)."""
        for key in self.keys:
            if key.kid == kid and key.public is not None:
                try:
                    key.public.verify(signature, data)
                except InvalidSignature:
                    return False
                return True
        return False

    def secret(self) -> bytes:
        """The active masking secret."""
        if not isinstance(self.active.private, bytes):
            raise KeyFileError(f"{self.path}: the {self.purpose} keyring holds no secret")
        return self.active.private

    def secrets(self) -> tuple[tuple[str, bytes], ...]:
        """(key id, secret) of every secret held, active first — during a rotation a request is
        signed with each, so a recipient still on the previous secret accepts it."""
        return tuple((k.kid, k.private) for k in self.keys if isinstance(k.private, bytes))


def _default_dir(settings: Settings) -> Path | None:
    if not settings.is_demo or settings.is_s3:
        return None
    return Path(settings.lake_root).parent / "keys"


def key_path(purpose: str, recipient: str | None = None, settings: Settings | None = None) -> Path:
    """The keyring file of ``purpose`` (and ``recipient`` for delivery keys), from the environment."""
    if purpose not in PURPOSES:
        raise KeyFileError(f"unknown key purpose {purpose!r}; expected one of {', '.join(PURPOSES)}")
    settings = settings or get_settings()
    environ = os.environ
    if purpose in PER_RECIPIENT:
        if recipient is None or not RECIPIENT.match(recipient):
            raise KeyFileError(f"a {purpose} key needs a recipient id ([a-z0-9_-]), got {recipient!r}")
        name = f"{recipient}.json" if purpose == "delivery" else f"{recipient}.hmac.json"
        folder = (environ.get(DELIVERY_KEY_DIR_VARIABLE) or "").strip()
        if folder:
            return Path(folder).expanduser() / name
        default = _default_dir(settings)
        if default is None:
            raise KeyFileError(f"{DELIVERY_KEY_DIR_VARIABLE} is not set (no default outside IBRAIN_ENV=demo)")
        return default / "delivery" / name
    variable = KEY_FILE_VARIABLES[purpose]
    value = (environ.get(variable) or "").strip()
    if value:
        return Path(value).expanduser()
    default = _default_dir(settings)
    if default is None:
        raise KeyFileError(f"{variable} is not set (no default key outside IBRAIN_ENV=demo)")
    return default / f"{purpose}.json"


def _check_private(path: Path) -> None:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"{path}: key file is accessible by group or others (mode {stat.filemode(mode)}); "
            f"run `chmod 600 {path}`"
        )


def _new_key(purpose: str) -> dict[str, str]:
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    kid = f"{purpose}-{datetime.now(UTC):%Y%m%d%H%M%S}-{secrets.token_hex(4)}"
    if purpose in ED25519_PURPOSES:
        private = Ed25519PrivateKey.generate()
        raw = private.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"kid": kid, "created": created, "private": _b64(raw), "public": _b64(public)}
    return {"kid": kid, "created": created, "secret": _b64(secrets.token_bytes(32))}


def _write(path: Path, document: dict) -> None:
    """Write a keyring atomically, created 0600 from the start (never briefly world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _parse(purpose: str, path: Path, document: dict) -> Keyring:
    try:
        if document.get("purpose") != purpose:
            raise KeyFileError(f"{path}: holds a {document.get('purpose')!r} key, not a {purpose!r} key")
        keys = []
        for entry in document["keys"]:
            if purpose in ED25519_PURPOSES:
                private = (
                    Ed25519PrivateKey.from_private_bytes(_unb64(entry["private"]))
                    if entry.get("private")
                    else None
                )
                public = Ed25519PublicKey.from_public_bytes(_unb64(entry["public"]))
                keys.append(Key(entry["kid"], entry["created"], private, public))
            else:
                keys.append(Key(entry["kid"], entry["created"], _unb64(entry["secret"]), None))
    except (KeyError, ValueError, TypeError) as exc:
        raise KeyFileError(f"{path}: malformed keyring ({exc.__class__.__name__}: {exc})") from exc
    if not keys or keys[0].private is None:
        raise KeyFileError(f"{path}: no active {purpose} key")
    return Keyring(purpose, path, tuple(keys))


def load_keyring(purpose: str, recipient: str | None = None, settings: Settings | None = None) -> Keyring:
    """The keyring of ``purpose``; refuses a missing, malformed or exposed file, naming it."""
    path = key_path(purpose, recipient, settings)
    if not path.is_file():
        raise KeyFileError(f"{path}: no {purpose} key; create it with `ibrain keys init {purpose}`")
    _check_private(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise KeyFileError(f"{path}: cannot read the keyring ({exc})") from exc
    return _parse(purpose, path, document)


def init_key(
    purpose: str, recipient: str | None = None, settings: Settings | None = None
) -> tuple[Path, bool]:
    """Create the keyring of ``purpose`` if it does not exist. Returns (path, created)."""
    path = key_path(purpose, recipient, settings)
    if path.exists():
        load_keyring(purpose, recipient, settings)  # an existing file must be sound
        return path, False
    _write(path, {"purpose": purpose, "keys": [_new_key(purpose)]})
    return path, True


def rotate_key(purpose: str, recipient: str | None = None, settings: Settings | None = None) -> Keyring:
    """Put a new active key first; retired Ed25519 keys keep only their public half (they still
    verify what they signed); a retired masking secret is dropped (masked values change); a
    delivery HMAC secret keeps exactly its predecessor (requests carry both signatures until the
    recipient has the new one)."""
    current = load_keyring(purpose, recipient, settings)
    document = json.loads(current.path.read_text(encoding="utf-8"))
    retired = []
    for entry in document["keys"]:
        if purpose in ED25519_PURPOSES:
            retired.append({k: v for k, v in entry.items() if k != "private"})
    if purpose in KEEP_PREVIOUS_SECRET:
        retired = document["keys"][:1]
    _write(current.path, {"purpose": purpose, "keys": [_new_key(purpose), *retired]})
    return load_keyring(purpose, recipient, settings)


def public_keys(
    purpose: str, recipient: str | None = None, settings: Settings | None = None
) -> dict[str, str]:
    """Key id → base64 raw Ed25519 public key, newest first (what a verifier needs)."""
    if purpose not in ED25519_PURPOSES:
        raise KeyFileError(f"the {purpose} key is a secret: it has no public half")
    return {key.kid: key.public_b64() for key in load_keyring(purpose, recipient, settings).keys}
