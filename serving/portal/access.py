"""数据申请 → 审批 → 授权: apply, decide, renew, revoke, notices, data objections (issue 14).

The rules of the workflow, shared by the API (``serving/portal/api.py``), the portal pages
(``serving/portal/pages.py``) and ``ibrain review`` (objections). Tables in
``security/applications.py``; the grant an approval creates is the ``data_grant`` row the reads
check (``serving/grants.py``), so it takes effect on the next request, and so does a revocation.

- **Apply** (``access.apply``: consumer, data owner or engineer): the columns asked for are
  published 重要 columns (一般 ones need no grant, 核心 ones are never shared); every row-scope
  value is validated as the reader renders it (``serving.query.literal`` over the contract's scope
  column, its ``accepted_values`` when declared, a city as a 6-digit GB/T 2260 code) so a grant can
  never hold a value the reader would reject; "own enterprise" is only for an enterprise
  organisation and is stored as its enterprise ids; a period range needs the dataset's ``as_of``
  column; the expiry is after now and at most one year ahead. An app applies for itself (the grant
  names the app); a person applies for their organisation.
- **Decide, renew, revoke** (``access.approve``: a data owner in the contract owner's group, never
  the admin, never the applicant — ``security.authz.decide``). A refusal is audited as ``refused``
  in a transaction of its own and raised; every change and its audit record commit together, with
  a notice to the consumer.
- **Objections** (数据异议): an enterprise organisation's person files one on a record of its own
  (a published dataset with an enterprise scope column, the row's primary key, one of its enterprise
  ids); a data engineer answers (``ibrain review answer``) and the enterprise sees the answer.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, or_, select
from sqlalchemy.orm import Session

from catalog.contracts import Contract
from catalog.publishing import published, published_columns
from security.actor import Actor
from security.applications import DataApplication, DataNotice, DataObjection
from security.audit import trail
from security.authz import Refused, decide
from security.db import transaction
from security.grants import Grant
from security.identity.accounts import Principal
from security.identity.models import Organisation
from serving.query import ParamError, literal

CITY = re.compile(r"^\d{6}$")
MAX_VALUES = 100
MAX_TEXT = 1000
ONE_YEAR_DAYS = 366  # at most one calendar year ahead (a leap year has 366 days): see max_expiry


class AccessError(ValueError):
    """A bad application, decision or objection: ``parameter`` names the field (a 400)."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.message = message


class NotFound(LookupError):
    """No such application, grant or objection (for this caller): a 404."""


@dataclass(frozen=True)
class Context:
    """Where an action comes from, for its audit record."""

    request_id: str | None = None
    client: str | None = None


@dataclass(frozen=True)
class ApplicationForm:
    """What a consumer asks for, as received (text lists already split)."""

    dataset: str
    columns: Sequence[str]
    purpose: str
    cities: Sequence[str] = ()
    chains: Sequence[str] = ()
    own_enterprise: bool = False
    period_from: dt.date | None = None
    period_to: dt.date | None = None
    expires_on: dt.date | None = None


EnterpriseIds = Callable[[str], list[str]]  # USCC → the enterprise ids the published data knows


def max_expiry(now: dt.datetime) -> dt.datetime:
    """One calendar year after ``now`` (29 February → 28 February)."""
    try:
        return now.replace(year=now.year + 1)
    except ValueError:
        return now.replace(year=now.year + 1, day=28)


def expiry_of(day: dt.date | None, now: dt.datetime, parameter: str = "expires_on") -> dt.datetime:
    """A grant's end: 00:00 UTC of ``day``, after now and at most one year ahead."""
    if day is None:
        raise AccessError(parameter, f"{parameter}: the expiry date is required (at most one year ahead)")
    moment = dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)
    if moment <= now:
        raise AccessError(parameter, f"{parameter}: the expiry must be in the future")
    if moment > max_expiry(now):
        raise AccessError(parameter, f"{parameter}: at most one year ahead ({max_expiry(now).date()})")
    return moment


def _text(value: str, parameter: str, minimum: int = 2) -> str:
    """Free text (purpose, reason, answer): trimmed, bounded, no control character but line
    breaks and tabs (PostgreSQL refuses NUL in text; nothing else needs them)."""
    value = (value or "").strip()
    if not minimum <= len(value) <= MAX_TEXT:
        raise AccessError(parameter, f"{parameter}: {minimum} to {MAX_TEXT} characters")
    if any((ord(ch) < 32 and ch not in "\n\r\t") or ord(ch) == 127 for ch in value):
        raise AccessError(parameter, f"{parameter}: control characters are not allowed")
    return value


def _scope_values(contract: Contract, dimension: str, values: Sequence[str], parameter: str) -> list[str]:
    """``values`` of a row-scope dimension, each one the reader will accept for the scope column."""
    api = contract.api
    assert api is not None
    cleaned = sorted({v.strip() for v in values if v.strip()})
    if not cleaned:
        return []
    column_name = api.scope.get(dimension)
    if column_name is None:
        raise AccessError(parameter, f"{parameter}: {contract.name} has no {dimension} scope")
    if len(cleaned) > MAX_VALUES:
        raise AccessError(parameter, f"{parameter}: at most {MAX_VALUES} values")
    column = contract.column(column_name)
    accepted = {str(v) for v in column.accepted_values}
    for value in cleaned:
        try:
            literal(column, value, parameter)
        except ParamError as exc:
            raise AccessError(parameter, exc.message) from None
        if dimension == "city" and not CITY.match(value):
            raise AccessError(parameter, f"{parameter}: a city is a 6-digit GB/T 2260 code")
        if accepted and value not in accepted:
            raise AccessError(parameter, f"{parameter}: {value!r} is not one of {column_name}'s values")
    return cleaned


def published_contract(catalog: dict[str, Contract], dataset: str) -> Contract:
    """The published contract named ``layer.table`` (nothing else resolves)."""
    for contract in published(catalog):
        if contract.name == dataset:
            return contract
    raise AccessError("dataset", "dataset: not a published API product")


def _org(session: Session, code: str | None) -> Organisation | None:
    if code is None:
        return None
    return session.scalar(select(Organisation).where(Organisation.code == code))


def _audit_refusal(
    engine: Engine, actor: Actor, event: str, object: str, params: dict, reason: str, ctx: Context
) -> None:
    with transaction(engine) as session:
        trail.record(
            session,
            actor=actor,
            event_type=event,
            object=object,
            result="refused",
            params=params,
            request_id=ctx.request_id,
            client=ctx.client,
            details=reason,
        )


def _dumps(values: Sequence[str] | None) -> str | None:
    return json.dumps(list(values), ensure_ascii=False) if values else None


# -- apply ----------------------------------------------------------------------------------------
def submit(
    engine: Engine,
    principal: Principal,
    catalog: dict[str, Contract],
    form: ApplicationForm,
    enterprise_ids: EnterpriseIds,
    now: dt.datetime,
    ctx: Context = Context(),
) -> DataApplication:
    """Validate and store an application (status pending), audited as ``application.submit``."""
    decision = decide(principal, "access.apply", now=now)
    object_name = f"dataset:{form.dataset}"
    if not decision.allowed:
        _audit_refusal(engine, decision.actor, "application.submit", object_name, {}, decision.reason, ctx)
        raise Refused(decision.reason)
    contract = published_contract(catalog, form.dataset)
    api = contract.api
    assert api is not None
    offered = {c for c in published_columns(contract) if contract.column(c).classification == "重要"}
    columns = sorted(set(form.columns))
    if not columns:
        raise AccessError("columns", "columns: name at least one 重要 column (一般 columns need no grant)")
    for name in columns:
        if name not in offered:
            raise AccessError(
                "columns", f"columns: {name!r} is not a published 重要 column of {contract.name}"
            )
    purpose = _text(form.purpose, "purpose", 4)
    cities = _scope_values(contract, "city", form.cities, "cities")
    chains = _scope_values(contract, "chain", form.chains, "chains")
    if (form.period_from or form.period_to) and api.as_of is None:
        raise AccessError("period_from", f"period_from: {contract.name} has no period to limit")
    if form.period_from and form.period_to and form.period_from > form.period_to:
        raise AccessError("period_to", "period_to: before period_from")
    expires_at = expiry_of(form.expires_on, now)
    with transaction(engine) as session:
        org = _org(session, principal.org)
        if org is None:
            raise AccessError("principal", "an applicant belongs to an organisation")
        enterprises: list[str] = []
        if form.own_enterprise:
            if org.type != "enterprise" or not org.uscc:
                raise AccessError("own_enterprise", "own_enterprise: only an enterprise organisation")
            if "enterprise" not in api.scope:
                raise AccessError(
                    "own_enterprise", f"own_enterprise: {contract.name} has no enterprise scope"
                )
            enterprises = _scope_values(contract, "enterprise", enterprise_ids(org.uscc), "own_enterprise")
            if not enterprises:
                raise AccessError(
                    "own_enterprise",
                    "own_enterprise: the published data knows no enterprise with your organisation's USCC",
                )
        application = DataApplication(
            dataset=contract.name,
            applicant=principal.name,
            applicant_org=org.code,
            grantee_app=principal.name.split(":", 1)[1] if principal.name.startswith("app:") else None,
            columns=json.dumps(columns),
            purpose=purpose,
            cities=_dumps(cities),
            chains=_dumps(chains),
            own_enterprise=form.own_enterprise,
            enterprises=_dumps(enterprises),
            period_from=form.period_from,
            period_to=form.period_to,
            expires_at=expires_at,
            submitted_at=now,
            status="pending",
        )
        session.add(application)
        session.flush()
        trail.record(
            session,
            actor=decision.actor,
            event_type="application.submit",
            object=object_name,
            result="success",
            params={"application": application.id, **scope_summary(application)},
            request_id=ctx.request_id,
            client=ctx.client,
        )
        return application


def scope_summary(row: DataApplication | Grant) -> dict[str, object]:
    """Columns, row scope and expiry of an application or grant (audit records, answers)."""
    summary: dict[str, object] = {"dataset": row.dataset, "columns": json.loads(row.columns)}
    for name in ("cities", "chains", "enterprises"):
        value = getattr(row, name)
        if value:
            summary[name] = json.loads(value)
    if isinstance(row, DataApplication) and row.own_enterprise:
        summary["own_enterprise"] = True
    if row.period_from or row.period_to:
        summary["period"] = [str(row.period_from or ""), str(row.period_to or "")]
    summary["expires_at"] = _aware(row.expires_at).isoformat()
    return summary


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _notify(
    session: Session,
    row: DataApplication | Grant,
    kind: str,
    message: str,
    now: dt.datetime,
    application_id: int | None = None,
    grant_id: int | None = None,
) -> None:
    org = row.applicant_org if isinstance(row, DataApplication) else row.grantee_org
    session.add(
        DataNotice(
            recipient_org=None if row.grantee_app else org,
            recipient_app=row.grantee_app,
            kind=kind,
            dataset=row.dataset,
            application_id=application_id,
            grant_id=grant_id,
            message=message,
            created_at=now,
        )
    )


# -- decide, renew, revoke ------------------------------------------------------------------------
def _owner_decision(
    engine: Engine,
    principal: Principal,
    catalog: dict[str, Contract],
    dataset: str,
    applicant: str,
    event: str,
    object_name: str,
    params: dict,
    now: dt.datetime,
    ctx: Context,
) -> Actor:
    owner = catalog[dataset].owner if dataset in catalog else None
    decision = decide(principal, "access.approve", now=now, owner=owner, applicant=applicant)
    if not decision.allowed:
        _audit_refusal(engine, decision.actor, event, object_name, params, decision.reason, ctx)
        raise Refused(decision.reason)
    return decision.actor


def decide_application(
    engine: Engine,
    principal: Principal,
    catalog: dict[str, Contract],
    application_id: int,
    approve: bool,
    reason: str,
    now: dt.datetime,
    ctx: Context = Context(),
) -> DataApplication:
    """Approve (creating the grant) or reject a pending application, with a reason."""
    with transaction(engine) as session:
        application = session.get(DataApplication, application_id)
        if application is None:
            raise NotFound(f"no application {application_id}")
        dataset, applicant = application.dataset, application.applicant
    object_name = f"application:{application_id}"
    params = {"application": application_id, "decision": "approve" if approve else "reject"}
    actor = _owner_decision(
        engine, principal, catalog, dataset, applicant, "application.decide", object_name, params, now, ctx
    )
    reason = _text(reason, "reason")
    with transaction(engine) as session:
        application = session.get(DataApplication, application_id, with_for_update=True)
        assert application is not None
        if application.status != "pending":
            raise AccessError("application", f"application {application_id} is {application.status} already")
        if approve and _aware(application.expires_at) <= now:
            raise AccessError("application", f"application {application_id} asked for an expiry now past")
        application.status = "approved" if approve else "rejected"
        application.decided_by = principal.name
        application.decided_at = now
        application.reason = reason
        if approve:
            grant = Grant(
                dataset=application.dataset,
                grantee_org=None if application.grantee_app else application.applicant_org,
                grantee_app=application.grantee_app,
                columns=application.columns,
                cities=application.cities,
                chains=application.chains,
                enterprises=application.enterprises,
                period_from=application.period_from,
                period_to=application.period_to,
                purpose=application.purpose,
                granted_by=principal.name,
                granted_at=now,
                expires_at=application.expires_at,
                application_id=application.id,
            )
            session.add(grant)
            session.flush()
            application.grant_id = grant.id
        verdict = "批准" if approve else "驳回"
        _notify(
            session,
            application,
            "approved" if approve else "rejected",
            f"您对 {application.dataset} 的申请 #{application.id} 已{verdict}：{reason}",
            now,
            application_id=application.id,
            grant_id=application.grant_id,
        )
        trail.record(
            session,
            actor=actor,
            event_type="application.decide",
            object=object_name,
            result="success",
            params={**params, "grant": application.grant_id, "reason": reason, **scope_summary(application)},
            request_id=ctx.request_id,
            client=ctx.client,
        )
        return application


def _grant_for_owner(engine: Engine, grant_id: int) -> tuple[str, str]:
    """(dataset, applicant) of a grant: the applicant of its application, else its grantee."""
    with transaction(engine) as session:
        grant = session.get(Grant, grant_id)
        if grant is None:
            raise NotFound(f"no grant {grant_id}")
        application = session.get(DataApplication, grant.application_id) if grant.application_id else None
        applicant = application.applicant if application else f"app:{grant.grantee_app}"
        return grant.dataset, applicant


def renew(
    engine: Engine,
    principal: Principal,
    catalog: dict[str, Contract],
    grant_id: int,
    expires_on: dt.date | None,
    now: dt.datetime,
    ctx: Context = Context(),
) -> Grant:
    """A live grant's new expiry (at most one year from now), by the dataset owner's group."""
    dataset, applicant = _grant_for_owner(engine, grant_id)
    object_name = f"grant:{grant_id}"
    params = {"grant": grant_id, "expires_on": str(expires_on)}
    actor = _owner_decision(
        engine, principal, catalog, dataset, applicant, "grant.renew", object_name, params, now, ctx
    )
    expires_at = expiry_of(expires_on, now)
    with transaction(engine) as session:
        grant = session.get(Grant, grant_id, with_for_update=True)
        assert grant is not None
        if grant.revoked_at is not None:
            raise AccessError("grant", f"grant {grant_id} was revoked; the consumer applies again")
        previous = _aware(grant.expires_at)
        grant.expires_at = expires_at
        _notify(
            session,
            grant,
            "renewed",
            f"{grant.dataset} 的授权 #{grant_id} 已续期至 {expires_at.date()}",
            now,
            application_id=grant.application_id,
            grant_id=grant_id,
        )
        trail.record(
            session,
            actor=actor,
            event_type="grant.renew",
            object=object_name,
            result="success",
            params={**params, "previous": previous.isoformat(), **scope_summary(grant)},
            request_id=ctx.request_id,
            client=ctx.client,
        )
        return grant


def revoke(
    engine: Engine,
    principal: Principal,
    catalog: dict[str, Contract],
    grant_id: int,
    reason: str,
    now: dt.datetime,
    ctx: Context = Context(),
) -> Grant:
    """End a grant now (the next request reads without it); the consumer gets a notice."""
    dataset, applicant = _grant_for_owner(engine, grant_id)
    object_name = f"grant:{grant_id}"
    params = {"grant": grant_id}
    actor = _owner_decision(
        engine, principal, catalog, dataset, applicant, "grant.revoke", object_name, params, now, ctx
    )
    reason = _text(reason, "reason")
    with transaction(engine) as session:
        grant = session.get(Grant, grant_id, with_for_update=True)
        assert grant is not None
        if grant.revoked_at is not None:
            raise AccessError("grant", f"grant {grant_id} is revoked already")
        grant.revoked_at = now
        _notify(
            session,
            grant,
            "revoked",
            f"{grant.dataset} 的授权 #{grant_id} 已撤销：{reason}",
            now,
            application_id=grant.application_id,
            grant_id=grant_id,
        )
        trail.record(
            session,
            actor=actor,
            event_type="grant.revoke",
            object=object_name,
            result="success",
            params={**params, "reason": reason, **scope_summary(grant)},
            request_id=ctx.request_id,
            client=ctx.client,
        )
        return grant


# -- what a consumer and an owner see -------------------------------------------------------------
def _mine(principal: Principal, org_column, app_column) -> list:
    """Rows addressed to the caller: an app sees its own and its organisation's; a person their
    organisation's."""
    clauses = []
    if principal.org:
        clauses.append(org_column == principal.org)
    if principal.name.startswith("app:"):
        clauses.append(app_column == principal.name.split(":", 1)[1])
    return clauses


def applications_of(session: Session, principal: Principal) -> list[DataApplication]:
    """The applications of the caller's organisation (a person) or of the app itself."""
    if principal.name.startswith("app:"):
        where = DataApplication.applicant == principal.name
    elif principal.org:
        where = DataApplication.applicant_org == principal.org
    else:
        return []
    return list(session.scalars(select(DataApplication).where(where).order_by(DataApplication.id.desc())))


def grants_of(session: Session, principal: Principal) -> list[Grant]:
    """Every grant (live, expired or revoked) the caller reads under."""
    clauses = _mine(principal, Grant.grantee_org, Grant.grantee_app)
    if not clauses:
        return []
    return list(session.scalars(select(Grant).where(or_(*clauses)).order_by(Grant.id.desc())))


def notices_of(session: Session, principal: Principal, limit: int = 200) -> list[DataNotice]:
    clauses = _mine(principal, DataNotice.recipient_org, DataNotice.recipient_app)
    if not clauses:
        return []
    query = select(DataNotice).where(or_(*clauses)).order_by(DataNotice.id.desc()).limit(limit)
    return list(session.scalars(query))


def owned_datasets(principal: Principal, catalog: dict[str, Contract]) -> list[str]:
    """The published datasets whose owner team the person belongs to."""
    return [c.name for c in published(catalog) if c.owner.removeprefix("team:") in principal.groups]


def queue_of(session: Session, principal: Principal, catalog: dict[str, Contract]) -> list[DataApplication]:
    """Pending applications for the datasets of the caller's teams (the owner's approval queue)."""
    datasets = owned_datasets(principal, catalog)
    if not datasets or "data_owner" not in principal.roles:
        return []
    query = (
        select(DataApplication)
        .where(DataApplication.dataset.in_(datasets), DataApplication.status == "pending")
        .order_by(DataApplication.id)
    )
    return list(session.scalars(query))


def owned_grants(session: Session, principal: Principal, catalog: dict[str, Contract]) -> list[Grant]:
    datasets = owned_datasets(principal, catalog)
    if not datasets or "data_owner" not in principal.roles:
        return []
    return list(session.scalars(select(Grant).where(Grant.dataset.in_(datasets)).order_by(Grant.id.desc())))


def grant_status(grant: Grant, now: dt.datetime) -> str:
    if grant.revoked_at is not None:
        return "revoked"
    return "expired" if _aware(grant.expires_at) <= now else "live"


# -- data objections (数据异议) ----------------------------------------------------------------------
def enterprise_datasets(catalog: dict[str, Contract]) -> list[Contract]:
    """The published datasets with an enterprise row-scope column (an enterprise's own records)."""
    return [c for c in published(catalog) if c.api is not None and "enterprise" in c.api.scope]


def file_objection(
    engine: Engine,
    principal: Principal,
    catalog: dict[str, Contract],
    dataset: str,
    record_key: dict[str, str],
    column: str | None,
    description: str,
    enterprise_ids: EnterpriseIds,
    now: dt.datetime,
    ctx: Context = Context(),
) -> DataObjection:
    """An enterprise's objection to one of its own records, audited as ``objection.file``."""
    contract = published_contract(catalog, dataset)
    if contract not in enterprise_datasets(catalog):
        raise AccessError("dataset", "dataset: not an enterprise dataset")
    api = contract.api
    assert api is not None
    if sorted(record_key) != sorted(contract.primary_key):
        raise AccessError("record_key", f"record_key: the values of {', '.join(contract.primary_key)}")
    for name, value in record_key.items():
        try:
            literal(contract.column(name), str(value), "record_key")
        except ParamError as exc:
            raise AccessError("record_key", exc.message) from None
    if column and column not in published_columns(contract):
        raise AccessError("column", f"column: {column!r} is not a published column of {dataset}")
    description = _text(description, "description", 4)
    with transaction(engine) as session:
        org = _org(session, principal.org)
    if org is None or org.type != "enterprise" or not org.uscc:
        reason = f"{principal.name} may not file a data objection: only for an enterprise organisation"
        _audit_refusal(engine, principal.actor(), "objection.file", f"dataset:{dataset}", {}, reason, ctx)
        raise Refused(reason)
    own = set(enterprise_ids(org.uscc))
    scope_column = api.scope["enterprise"]
    if str(record_key.get(scope_column)) not in own:
        reason = f"{principal.name} may not file a data objection on another enterprise's record"
        _audit_refusal(
            engine,
            principal.actor(),
            "objection.file",
            f"dataset:{dataset}",
            {"record_key": record_key},
            reason,
            ctx,
        )
        raise Refused(reason)
    with transaction(engine) as session:
        objection = DataObjection(
            org=org.code,
            filed_by=principal.name,
            dataset=dataset,
            record_key=json.dumps(record_key, ensure_ascii=False, sort_keys=True),
            column_name=column or None,
            description=description,
            filed_at=now,
            status="open",
        )
        session.add(objection)
        session.flush()
        trail.record(
            session,
            actor=principal.actor(),
            event_type="objection.file",
            object=f"objection:{objection.id}",
            result="success",
            params={"dataset": dataset, "record_key": record_key, "column": column},
            request_id=ctx.request_id,
            client=ctx.client,
        )
        return objection


def objections(session: Session, *, org: str | None = None, open_only: bool = False) -> list[DataObjection]:
    query = select(DataObjection).order_by(DataObjection.id)
    if org is not None:
        query = query.where(DataObjection.org == org)
    if open_only:
        query = query.where(DataObjection.status == "open")
    return list(session.scalars(query))


def answer_objection(
    session: Session, actor: Actor, objection_id: int, outcome: str, answer: str, now: dt.datetime
) -> DataObjection:
    """A data engineer's answer (``corrected`` or ``unchanged``) in the caller's transaction (the
    caller authorised the engineer: ``ibrain review answer`` runs as an ``ops.review`` operation)."""
    if outcome not in ("corrected", "unchanged"):
        raise AccessError("outcome", "outcome: corrected or unchanged")
    answer = _text(answer, "answer")
    objection = session.get(DataObjection, objection_id, with_for_update=True)
    if objection is None:
        raise NotFound(f"no objection {objection_id}")
    if objection.status != "open":
        raise AccessError("objection", f"objection {objection_id} was answered already")
    objection.status = outcome
    objection.answer = answer
    objection.answered_by = actor.principal
    objection.answered_at = now
    verdict = "已更正" if outcome == "corrected" else "经核实未变更"
    session.add(
        DataNotice(
            recipient_org=objection.org,
            kind="objection_answered",
            dataset=objection.dataset,
            objection_id=objection.id,
            message=f"数据异议 #{objection.id}（{objection.dataset}）{verdict}：{answer}",
            created_at=now,
        )
    )
    trail.record(
        session,
        actor=actor,
        event_type="objection.answer",
        object=f"objection:{objection_id}",
        result="success",
        params={"outcome": outcome, "dataset": objection.dataset},
    )
    return objection
