"""Configuration from the environment, in one place.

Every setting is documented in the README's configuration table. Names use the ``IBRAIN_``
prefix, plus the standard ``SPARK_REMOTE``, ``AWS_*`` and ``DAGSTER_HOME``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

DEMO_ENV = "demo"
# Without IBRAIN_ENV=demo nothing demo-like exists (no default account, secret or key): the
# default is a deployment, which refuses to start without its keys and accounts (issue 13, no fail-open).
DEFAULT_ENV = "production"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def _env(name: str, environ: dict[str, str]) -> str | None:
    """Return a variable's value, treating set-but-blank as unset (see docs/architecture.md: the engine)."""
    value = environ.get(name)
    if value is None or not value.strip():
        return None
    return value.strip()


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class S3Settings:
    endpoint_url: str | None
    access_key_id: str | None
    secret_access_key: str | None
    region: str
    allow_http: bool

    def storage_options(self) -> dict[str, str]:
        """Options for delta-rs / object_store.

        Commits are made atomic with S3 conditional put (``If-None-Match``), which MinIO and
        SeaweedFS support, so several writers are safe without a lock service.
        """
        options = {
            "AWS_REGION": self.region,
            "AWS_ALLOW_HTTP": "true" if self.allow_http else "false",
            "conditional_put": "etag",
        }
        if self.endpoint_url:
            options["AWS_ENDPOINT_URL"] = self.endpoint_url
        if self.access_key_id:
            options["AWS_ACCESS_KEY_ID"] = self.access_key_id
        if self.secret_access_key:
            options["AWS_SECRET_ACCESS_KEY"] = self.secret_access_key
        return options


@dataclass(frozen=True)
class Settings:
    lake_root: str
    spark_remote: str | None
    s3: S3Settings
    dagster_home: Path
    env: str
    dbt_target: str
    inbox: Path
    db_url: str | None = None  # the security layer's state database (security/db.py)

    @property
    def is_s3(self) -> bool:
        return self.lake_root.startswith("s3://")

    @property
    def is_demo(self) -> bool:
        return self.env == DEMO_ENV

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        lake_root = _env("IBRAIN_LAKE_ROOT", env) or str(REPO_ROOT / "var" / "lake")
        if lake_root.startswith("s3a://") or lake_root.startswith("s3n://"):
            raise SettingsError(f"IBRAIN_LAKE_ROOT={lake_root!r}: use the s3:// scheme")
        if "://" in lake_root and not lake_root.startswith("s3://"):
            raise SettingsError(f"IBRAIN_LAKE_ROOT={lake_root!r}: only a local folder or s3://bucket/prefix")
        if not lake_root.startswith("s3://"):
            lake_root = str(Path(lake_root).expanduser().resolve())
        lake_root = lake_root.rstrip("/")

        dagster_home = _env("DAGSTER_HOME", env) or str(REPO_ROOT / "var" / "dagster")
        if not Path(dagster_home).is_absolute():
            raise SettingsError(f"DAGSTER_HOME={dagster_home!r} must be an absolute path")

        s3 = S3Settings(
            endpoint_url=_env("AWS_ENDPOINT_URL", env),
            access_key_id=_env("AWS_ACCESS_KEY_ID", env),
            secret_access_key=_env("AWS_SECRET_ACCESS_KEY", env),
            region=_env("AWS_REGION", env) or "us-east-1",
            allow_http=_truthy(_env("AWS_ALLOW_HTTP", env)),
        )
        run_env = _env("IBRAIN_ENV", env) or DEFAULT_ENV
        if lake_root.startswith("s3://") and not (s3.access_key_id and s3.secret_access_key):
            raise SettingsError(
                "IBRAIN_LAKE_ROOT is on S3 but AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set"
            )
        dbt_target = _env("IBRAIN_DBT_TARGET", env) or "embedded"
        if dbt_target not in {"embedded", "spark"}:
            raise SettingsError(f"IBRAIN_DBT_TARGET={dbt_target!r}: expected embedded or spark")
        inbox = Path(_env("IBRAIN_INBOX", env) or REPO_ROOT / "var" / "inbox").expanduser().resolve()
        return cls(
            inbox=inbox,
            lake_root=lake_root,
            spark_remote=_env("SPARK_REMOTE", env),
            s3=s3,
            dagster_home=Path(dagster_home),
            env=run_env,
            dbt_target=dbt_target,
            db_url=_env("IBRAIN_DB_URL", env),
        )


def get_settings() -> Settings:
    """Settings as the environment says now (cheap; read on every call so tests can switch)."""
    return Settings.from_env()
