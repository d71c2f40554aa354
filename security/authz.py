"""Separated duties (三员分立): the one function that decides whether someone may do something.

Roles (security/identity/models.py: ROLES):

- ``system_admin`` manages accounts, apps and keys, and keeps the audit trail's storage
  (``audit.manage``: signs checkpoints, purges records older than the retention minimum, with a
  fresh login — never a record's content; each purge is itself a record the auditor reads) — and
  never approves access to data;
- ``security_auditor`` reads the audit trail and nothing else (holds no other role): searches it and
  verifies it (``audit.read``); the only role that reads who did what, and it changes nothing;
- ``data_owner`` approves access to the datasets of the teams (groups) they belong to;
- ``data_engineer`` runs the operator commands (ingest, backfill, run, withdraw, review, maintain);
- ``consumer`` applies for and reads data.

Rules beyond the table of actions: nobody approves their own application; an account-, key- or
trail-changing action needs a login at most ``IBRAIN_REAUTH_MINUTES`` old; roles that must stay
apart (an admin who audits or approves, an auditor with any other role) cannot be held together.
Every refusal names the rule it broke; the caller records it in the audit trail as ``refused`` and raises
:class:`Refused` (docs/architecture.md: security).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from security.actor import Actor

if TYPE_CHECKING:
    from security.identity.accounts import Principal

OPERATIONS = (
    "ops.ingest",
    "ops.backfill",
    "ops.run",
    "ops.withdraw",
    "ops.review",
    "ops.maintain",
    "delivery.send",
    "delivery.resend",
    "delivery.verify",
)
# action → the roles that may do it
ACTIONS: dict[str, frozenset[str]] = {
    "account.manage": frozenset({"system_admin"}),
    "key.manage": frozenset({"system_admin"}),
    "audit.read": frozenset({"security_auditor"}),
    "audit.manage": frozenset({"system_admin"}),
    "access.apply": frozenset({"consumer", "data_owner", "data_engineer"}),
    "access.approve": frozenset({"data_owner"}),
    "data.read": frozenset({"consumer", "data_owner", "data_engineer"}),
    **{op: frozenset({"data_engineer"}) for op in OPERATIONS},
}
READ_ONLY = frozenset({"audit.read", "data.read"})
NEEDS_REAUTH = frozenset({"account.manage", "key.manage", "audit.manage"})
# pairs of roles one person may not hold together, and why
CONFLICTS: dict[frozenset[str], str] = {
    frozenset({"system_admin", "security_auditor"}): "the admin would audit their own actions",
    frozenset({"system_admin", "data_owner"}): "the admin could grant themselves the data",
    **{
        frozenset({"security_auditor", other}): "the security auditor holds no other role"
        for other in ("data_owner", "data_engineer", "consumer")
    },
}


class Refused(PermissionError):
    """An action was refused by the policy; the message names the rule (三员分立)."""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    actor: Actor  # who, in the role the decision was about (the audit record's actor)
    reason: str  # why refused ("" when allowed)


def role_conflict(roles: Iterable[str]) -> str | None:
    """Why these roles cannot be held by one person, or None."""
    held = set(roles)
    for pair, why in CONFLICTS.items():
        if pair <= held:
            return f"{' and '.join(sorted(pair))} are separated duties: {why}"
    return None


def decide(
    principal: Principal,
    action: str,
    *,
    now: dt.datetime,
    reauth: dt.timedelta | None = None,
    owner: str | None = None,
    applicant: str | None = None,
) -> Decision:
    """Whether ``principal`` may do ``action``.

    ``owner``: for ``access.approve``, the dataset contract's ``owner`` (``team:<group>``): only a
    data owner in that group approves. ``applicant``: the principal who applied; never the approver.
    ``reauth``: how old the login of an account-changing action may be (IBRAIN_REAUTH_MINUTES).
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    allowed_roles = ACTIONS[action]
    role = next(iter(sorted(allowed_roles & principal.roles)), None)
    actor = principal.actor(role) if role else principal.actor()

    def refuse(reason: str) -> Decision:
        return Decision(False, actor, f"{principal.name} may not {action}: {reason}")

    if conflict := role_conflict(principal.roles):
        return refuse(conflict)
    if "security_auditor" in principal.roles and action not in READ_ONLY:
        return refuse("the security auditor cannot change anything")
    if action == "access.approve" and "system_admin" in principal.roles:
        return refuse("a system admin cannot approve data access (三员分立)")
    if role is None:
        held = ", ".join(sorted(principal.roles)) or "no role"
        return refuse(f"needs the role {' or '.join(sorted(allowed_roles))} (holds {held})")
    if action == "access.approve":
        if applicant is not None and applicant == principal.name:
            return refuse("an applicant cannot approve their own application")
        if owner is None:
            return refuse("the dataset's owner (team:…) is unknown")
        from security.identity.accounts import group_name

        if group_name(owner) not in principal.groups:
            return refuse(f"only members of {owner} approve access to its datasets")
    if action in NEEDS_REAUTH:
        if reauth is None:
            raise ValueError(f"{action} needs the re-authentication window")
        if principal.auth_time is None or now - principal.auth_time > reauth:
            minutes = int(reauth.total_seconds() // 60)
            return refuse(f"an admin action needs a login within the last {minutes} minutes (`ibrain login`)")
    return Decision(True, actor, "")


def require(decision: Decision) -> Actor:
    """The actor of an allowed decision; :class:`Refused` otherwise (after the caller audited it)."""
    if not decision.allowed:
        raise Refused(decision.reason)
    return decision.actor
