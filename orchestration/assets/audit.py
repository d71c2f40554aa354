"""The audit trail's copy in the lake (``audit.security_trail``) and the check that verifies it.

Library code in security/audit/ (docs/architecture.md: security); here only the Dagster adapter.
Each materialisation signs a checkpoint at the chain head first (the periodic checkpoint), then
appends the records not yet copied; the check re-computes the chain and the checkpoints.
"""

from __future__ import annotations

import dagster as dg

from catalog import get_contract
from orchestration.metadata import contract_metadata
from orchestration.resources import SparkResource

SECURITY_TRAIL_KEY = dg.AssetKey(["audit", "security_trail"])
VERIFY_CHECK = "audit_trail_verifies"


def audit_trail_definitions() -> tuple[dg.AssetsDefinition, dg.AssetChecksDefinition]:
    """The asset and its verify check (built on call: the contract is read lazily)."""

    @dg.asset(
        key=SECURITY_TRAIL_KEY,
        group_name="audit_trail",
        owners=["team:security"],
        kinds={"delta"},
        description="安全审计记录 — the state database's audit trail, appended since the last copy.",
        metadata=contract_metadata(get_contract("audit", "security_trail")),
    )
    def security_trail(spark: SparkResource) -> dg.MaterializeResult:
        from security.audit.checkpoints import create_checkpoint
        from security.audit.lake_copy import copy_trail
        from security.db import make_engine, migrate

        engine = make_engine()
        try:
            migrate(engine)
            checkpoint = create_checkpoint(engine)
            appended = copy_trail(engine, spark.tables())
        finally:
            engine.dispose()
        return dg.MaterializeResult(
            metadata={"appended": appended, "checkpoint": checkpoint.seq if checkpoint is not None else 0}
        )

    @dg.asset_check(
        asset=SECURITY_TRAIL_KEY,
        name=VERIFY_CHECK,
        description="`ibrain audit verify`: the hash chain and the signed checkpoints re-computed; "
        "fails naming the first edited, deleted, reordered or inserted record.",
        blocking=True,
    )
    def audit_trail_verifies() -> dg.AssetCheckResult:
        from security.audit.verify import verify_configured
        from security.db import make_engine

        engine = make_engine()
        try:
            report = verify_configured(engine)
        finally:
            engine.dispose()
        return dg.AssetCheckResult(
            passed=report.ok(),
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "records": report.records,
                "last_checkpoint": report.last_checkpoint or 0,
                "unanchored": report.unanchored,
                "findings": "\n".join(f.message for f in report.findings[:20]) or "none",
            },
        )

    return security_trail, audit_trail_verifies
