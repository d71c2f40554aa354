"""The four keys: files outside the lake, refused when exposed, rotated with old public keys kept."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ibrain.settings import Settings
from security.keys import KeyFileError, init_key, key_path, load_keyring, public_keys, rotate_key


def settings(tmp_path: Path, env: str) -> Settings:
    return Settings.from_env({"IBRAIN_LAKE_ROOT": str(tmp_path / "lake"), "IBRAIN_ENV": env})


@pytest.fixture
def key_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "secrets"
    for purpose in ("token", "checkpoint", "masking"):
        monkeypatch.setenv(f"IBRAIN_{purpose.upper()}_KEY_FILE", str(folder / f"{purpose}.json"))
    monkeypatch.setenv("IBRAIN_DELIVERY_KEY_DIR", str(folder / "delivery"))
    return folder


def test_outside_the_demo_a_key_without_its_variable_is_an_error_naming_it(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("IBRAIN_CHECKPOINT_KEY_FILE", raising=False)
    with pytest.raises(KeyFileError, match="IBRAIN_CHECKPOINT_KEY_FILE is not set"):
        key_path("checkpoint", settings=settings(tmp_path, "production"))


def test_the_demo_keeps_its_keys_beside_the_lake_not_in_it(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("IBRAIN_TOKEN_KEY_FILE", raising=False)
    path = key_path("token", settings=settings(tmp_path, "demo"))
    assert path == tmp_path / "keys" / "token.json"


def test_a_key_file_is_created_private_and_refused_once_others_can_read_it(key_files: Path) -> None:
    path, created = init_key("checkpoint")
    assert created and (path.stat().st_mode & 0o777) == 0o600
    assert init_key("checkpoint") == (path, False)
    ring = load_keyring("checkpoint")
    kid, signature = ring.sign(b"head")
    assert ring.verify(kid, b"head", signature) and not ring.verify(kid, b"head!", signature)
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match=r"accessible by group or others.*chmod 600"):
        load_keyring("checkpoint")


def test_rotation_keeps_old_public_keys_so_old_signatures_verify(key_files: Path) -> None:
    init_key("token")
    old = load_keyring("token")
    kid, signature = old.sign(b"payload")
    new = rotate_key("token")
    assert new.active.kid != kid and len(new.keys) == 2
    assert new.keys[1].private is None  # the retired private half is gone
    assert new.verify(kid, b"payload", signature)
    assert list(public_keys("token")) == [new.active.kid, kid]


def test_each_purpose_has_its_own_key_and_a_key_file_of_another_purpose_is_refused(key_files: Path) -> None:
    init_key("token")
    init_key("masking")
    assert len(load_keyring("masking").secret()) == 32
    os.replace(key_files / "token.json", key_files / "checkpoint.json")
    with pytest.raises(KeyFileError, match="holds a 'token' key, not a 'checkpoint' key"):
        load_keyring("checkpoint")
    with pytest.raises(KeyFileError, match="is a secret"):
        public_keys("masking")


def test_delivery_keys_are_per_recipient(key_files: Path) -> None:
    a, _ = init_key("delivery", "zhgl_platform")
    b, _ = init_key("delivery", "gyhlw_platform")
    assert a != b and a.parent == b.parent == key_files / "delivery"
    assert (
        load_keyring("delivery", "zhgl_platform").active.kid
        != load_keyring("delivery", "gyhlw_platform").active.kid
    )
    with pytest.raises(KeyFileError, match="recipient id"):
        init_key("delivery", "../escape")


def test_delivery_hmac_is_a_separate_per_recipient_secret_keeping_its_predecessor(key_files: Path) -> None:
    signing, _ = init_key("delivery", "zhgl_platform")
    shared, _ = init_key("delivery_hmac", "zhgl_platform")
    assert shared != signing and shared.name == "zhgl_platform.hmac.json"
    assert oct(shared.stat().st_mode & 0o777) == "0o600"
    first = load_keyring("delivery_hmac", "zhgl_platform").secrets()
    assert len(first) == 1 and len(first[0][1]) == 32
    rotate_key("delivery_hmac", "zhgl_platform")
    rotate_key("delivery_hmac", "zhgl_platform")
    after = load_keyring("delivery_hmac", "zhgl_platform").secrets()
    # the newest two only: the one before the previous is gone, the previous is still there
    assert len(after) == 2 and first[0] not in after and after[0][1] != after[1][1]
    with pytest.raises(KeyFileError, match="needs a recipient"):
        init_key("delivery_hmac")
    with pytest.raises(KeyFileError, match="is a secret"):
        public_keys("delivery_hmac", "zhgl_platform")
