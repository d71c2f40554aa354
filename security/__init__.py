"""Identity, roles, keys and the audit trail (filled by the security-foundation issue).

Sits below ingest/transforms/quality/serving and above catalog (docs/architecture.md).
"""
