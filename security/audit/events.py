"""The registry of audit event types: every ``record`` names one of these (unknown names are refused).

Why a closed list: an auditor searches by event type, so a typo at one call site must fail the
action (and its test) rather than write records no search finds. Add a name here, with what it
covers, when a new kind of action becomes audited.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

EVENT_TYPES: Mapping[str, str] = MappingProxyType(
    {
        # authentication
        "auth.login": "a login attempt by a person (success or failure)",
        "auth.logout": "a person ends a session",
        "auth.token": "an app exchanges AppKey + AppSecret for a token, or a token is refused",
        "auth.reauth": "re-authentication before an admin action",
        # accounts, organisations, apps, groups, roles
        "account.create": "a user account is created",
        "account.update": "a user account's attributes change",
        "account.disable": "a user account is disabled",
        "account.lock": "an account is locked (failed logins) or unlocked",
        "account.password": "a password is set or changed (never the password itself)",
        "org.create": "an organisation is created",
        "org.update": "an organisation changes",
        "app.create": "an app (machine client) is created",
        "app.secret": "an app's secret is issued or rotated (never the secret itself)",
        "app.disable": "an app is disabled",
        "group.create": "a group is created",
        "group.member": "a member is added to or removed from a group",
        "role.assign": "a role is given to a principal",
        "role.revoke": "a role is taken from a principal",
        # keys
        "key.init": "a keyring is created",
        "key.rotate": "a keyring gets a new active key",
        # data access and its governance
        "data.read": "data is read through any interface",
        "application.submit": "an application for data access is submitted",
        "application.decide": "an application is approved or rejected",
        "grant.renew": "a data access grant gets a new expiry (by the dataset owner's group)",
        "grant.revoke": "a data access grant is revoked",
        "objection.file": "an enterprise files a data objection (数据异议) on one of its records",
        "objection.answer": "a data engineer answers a data objection",
        "delivery.send": "a package is delivered to a recipient (or resent)",
        "delivery.build": "a delivery package (recipient × dataset × period revision) is built",
        "delivery.attempt": "one POST of a package to its recipient (success, or failure with the error)",
        "delivery.receipt": "a recipient's receipt is accepted for a package (acknowledged)",
        "delivery.dead_letter": "a package gives up after its attempts or a permanent refusal",
        "delivery.resend": "an operator puts a package back in the outbox (forced for an acknowledged one)",
        "delivery.verify": "acknowledged packages are re-checked against their payloads and receipts",
        # operator actions that change data
        "ops.run": "a pipeline run (ingest, silver, dbt, checks) is started from the command line",
        "ops.ingest": "an ingest run lands or loads deliveries",
        "ops.backfill": "a backfill re-runs partitions",
        "ops.withdraw": "a batch is withdrawn",
        "ops.review": "a review decision (release, reject) is taken",
        "ops.maintain": "lake maintenance (compaction, vacuum) runs",
        # the trail itself
        "audit.search": "the audit trail is searched",
        "audit.verify": "the audit trail's chain, checkpoints and retention are verified",
        "audit.checkpoint": "a person signs a checkpoint of the audit trail (the daily job's run is audited)",
        "audit.purge": "records older than the retention cut-off are purged",
    }
)

RESULTS = ("success", "failure", "refused")
