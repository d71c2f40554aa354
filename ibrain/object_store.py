"""Object storage doing its job: the buckets of a deployment, created and checked (``ibrain lake init``).

Three buckets, through the ``minio`` client against any S3 server (MinIO, SeaweedFS, AWS):

- the **lake** (the bucket of ``IBRAIN_LAKE_ROOT``): versioning on, *no* object lock — Delta
  tables are rewritten by OPTIMIZE and VACUUM, which a locked bucket would refuse;
- **landing** and the **audit archive**: versioning on and object lock enabled *at creation*
  (S3 cannot add it to an existing bucket). The lock has no default retention: each writer sets
  the retention of the objects it puts (landed deliveries: ``ingest/ledger.py`` when it stores a
  file; exported audit checkpoints: ``security/audit/checkpoints.py``; see docs/operations.md).

Every bucket gets lifecycle rules (non-current versions expire; abandoned multipart uploads are
aborted; on the lake, leftovers of ``_staging/`` — catalog/staging.py — expire) and, unless told
otherwise, SSE-S3 default encryption: every bucket holds 重要 data. A bucket that exists without
the lock it needs is refused with the reason; a second run sends no write request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from minio import Minio
from minio.commonconfig import ENABLED, Filter
from minio.error import S3Error
from minio.lifecycleconfig import (
    AbortIncompleteMultipartUpload,
    Expiration,
    LifecycleConfig,
    NoncurrentVersionExpiration,
    Rule,
)
from minio.sseconfig import Rule as SSERule
from minio.sseconfig import SSEConfig
from minio.versioningconfig import VersioningConfig

from ibrain.settings import Settings, SettingsError

# Lifecycle horizons (days). The lake's old versions serve Delta time travel and a restore after a
# mistaken VACUUM; landing and audit keep theirs at least as long as the retention writers set.
LAKE_NONCURRENT_DAYS = 30
LOCKED_NONCURRENT_DAYS = 400
STAGING_DAYS = 7
MULTIPART_DAYS = 7
STAGING_DIR = "_staging"  # catalog/staging.py


class ObjectStoreError(RuntimeError):
    """The store cannot be brought to the required state; the message says why."""


@dataclass(frozen=True)
class BucketPlan:
    """What one bucket must be."""

    role: str  # lake | landing | audit-archive
    name: str
    object_lock: bool
    lifecycle: tuple[Rule, ...]


@dataclass
class BucketResult:
    """What ``init_buckets`` did to one bucket (an empty ``changes`` means it was already right)."""

    plan: BucketPlan
    changes: list[str] = field(default_factory=list)


def _lake_bucket_and_prefix(settings: Settings) -> tuple[str, str]:
    if not settings.is_s3:
        raise SettingsError(
            f"IBRAIN_LAKE_ROOT={settings.lake_root!r} is not on S3: lake init needs s3://bucket/prefix"
        )
    bucket, _, prefix = settings.lake_root.removeprefix("s3://").partition("/")
    return bucket, prefix.strip("/")


def _rules(prefix: str, noncurrent_days: int, staging_prefix: str | None) -> tuple[Rule, ...]:
    rules = [
        Rule(
            ENABLED,
            rule_filter=Filter(prefix=""),
            rule_id="ibrain-noncurrent-versions",
            noncurrent_version_expiration=NoncurrentVersionExpiration(noncurrent_days),
        ),
        Rule(
            ENABLED,
            rule_filter=Filter(prefix=""),
            rule_id="ibrain-abort-multipart",
            abort_incomplete_multipart_upload=AbortIncompleteMultipartUpload(MULTIPART_DAYS),
        ),
    ]
    if staging_prefix is not None:
        rules.append(
            Rule(
                ENABLED,
                rule_filter=Filter(prefix=staging_prefix),
                rule_id="ibrain-staging-leftovers",
                expiration=Expiration(days=STAGING_DAYS),
            )
        )
    return tuple(rules)


def plan_buckets(
    settings: Settings, landing_bucket: str | None = None, audit_bucket: str | None = None
) -> list[BucketPlan]:
    """The three buckets: the lake's from ``IBRAIN_LAKE_ROOT``, the others named or derived from it."""
    lake, prefix = _lake_bucket_and_prefix(settings)
    staging = f"{prefix}/{STAGING_DIR}/" if prefix else f"{STAGING_DIR}/"
    landing = landing_bucket or f"{lake}-landing"
    audit = audit_bucket or f"{lake}-audit-archive"
    names = [lake, landing, audit]
    if len(set(names)) != 3:
        raise SettingsError(f"the lake, landing and audit-archive buckets must differ: {names}")
    return [
        BucketPlan("lake", lake, object_lock=False, lifecycle=_rules(prefix, LAKE_NONCURRENT_DAYS, staging)),
        BucketPlan("landing", landing, object_lock=True, lifecycle=_rules("", LOCKED_NONCURRENT_DAYS, None)),
        BucketPlan(
            "audit-archive", audit, object_lock=True, lifecycle=_rules("", LOCKED_NONCURRENT_DAYS, None)
        ),
    ]


def client_from_settings(settings: Settings) -> Minio:
    """A ``minio`` client for the settings' endpoint and credentials (the same ones delta-rs uses)."""
    s3 = settings.s3
    endpoint = s3.endpoint_url or "https://s3.amazonaws.com"
    secure = endpoint.startswith("https://")
    if not secure and not endpoint.startswith("http://"):
        raise SettingsError(f"AWS_ENDPOINT_URL={endpoint!r}: expected http:// or https://")
    if not secure and not s3.allow_http:
        raise SettingsError(f"AWS_ENDPOINT_URL={endpoint!r} is plain HTTP: set AWS_ALLOW_HTTP=true")
    host = endpoint.split("://", 1)[1].rstrip("/")
    return Minio(
        host, access_key=s3.access_key_id, secret_key=s3.secret_access_key, region=s3.region, secure=secure
    )


def _rule_key(rule: Rule) -> tuple:
    """A comparable form of a lifecycle rule (the client's classes have no equality)."""
    flt = rule.rule_filter
    return (
        rule.rule_id,
        rule.status,
        flt.prefix if flt else None,
        rule.expiration.days if rule.expiration else None,
        rule.noncurrent_version_expiration.noncurrent_days if rule.noncurrent_version_expiration else None,
        rule.abort_incomplete_multipart_upload.days_after_initiation
        if rule.abort_incomplete_multipart_upload
        else None,
    )


def _object_lock_enabled(client: Minio, bucket: str) -> bool:
    try:
        client.get_object_lock_config(bucket)
    except S3Error as exc:
        if exc.code == "ObjectLockConfigurationNotFoundError":
            return False
        raise
    return True


def _refuse_unlocked(client: Minio, plans: list[BucketPlan]) -> None:
    """Refuse before any change when a bucket that needs the lock exists without it."""
    for plan in plans:
        if (
            plan.object_lock
            and client.bucket_exists(plan.name)
            and not _object_lock_enabled(client, plan.name)
        ):
            raise ObjectStoreError(
                f"bucket {plan.name!r} ({plan.role}) exists without object lock, which S3 can only enable "
                "when a bucket is created: create a new bucket (or empty and delete this one) and run "
                "lake init again"
            )


def _ensure_bucket(client: Minio, plan: BucketPlan, result: BucketResult) -> None:
    if not client.bucket_exists(plan.name):
        client.make_bucket(plan.name, object_lock=plan.object_lock)
        result.changes.append("created" + (" with object lock" if plan.object_lock else ""))


def _ensure_versioning(client: Minio, plan: BucketPlan, result: BucketResult) -> None:
    if client.get_bucket_versioning(plan.name).status != ENABLED:
        client.set_bucket_versioning(plan.name, VersioningConfig(ENABLED))
        result.changes.append("versioning enabled")


def _ensure_lifecycle(client: Minio, plan: BucketPlan, result: BucketResult) -> None:
    current = client.get_bucket_lifecycle(plan.name)
    existing = list(current.rules) if current else []
    ours = {rule.rule_id for rule in plan.lifecycle}
    kept = [rule for rule in existing if rule.rule_id not in ours]  # rules an operator added stay
    wanted = kept + list(plan.lifecycle)
    if sorted(map(_rule_key, existing), key=repr) != sorted(map(_rule_key, wanted), key=repr):
        client.set_bucket_lifecycle(plan.name, LifecycleConfig(wanted))
        result.changes.append("lifecycle rules set")


def _ensure_encryption(client: Minio, plan: BucketPlan, result: BucketResult) -> None:
    try:
        current = client.get_bucket_encryption(plan.name)
    except S3Error as exc:
        if exc.code != "ServerSideEncryptionConfigurationNotFoundError":
            raise
        current = None
    if current is None or current.rule is None or current.rule.sse_algorithm not in {"AES256", "aws:kms"}:
        try:
            client.set_bucket_encryption(plan.name, SSEConfig(SSERule.new_sse_s3_rule()))
        except S3Error as exc:
            raise ObjectStoreError(
                f"bucket {plan.name!r}: the server refused default encryption (SSE-S3): {exc.code}: "
                f"{exc.message} — configure its KMS (MinIO: MINIO_KMS_SECRET_KEY or KES) "
                "or pass --no-encryption"
            ) from exc
        result.changes.append("default encryption SSE-S3 set")


def init_buckets(
    client: Minio,
    plans: list[BucketPlan],
    encryption: bool = True,
    progress: Callable[[BucketResult], None] | None = None,
) -> list[BucketResult]:
    """Bring every planned bucket to its state; raise ``ObjectStoreError`` naming what cannot be done.

    Every bucket needing the lock is checked before anything is changed, so a refusal changes nothing.
    """
    _refuse_unlocked(client, plans)
    results = []
    for plan in plans:
        result = BucketResult(plan)
        _ensure_bucket(client, plan, result)
        _ensure_versioning(client, plan, result)
        _ensure_lifecycle(client, plan, result)
        if encryption:
            _ensure_encryption(client, plan, result)
        results.append(result)
        if progress:
            progress(result)
    return results
