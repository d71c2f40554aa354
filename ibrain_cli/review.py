"""``ibrain review``: enterprise matches waiting for a person."""

from __future__ import annotations

import click

from ibrain_cli.auth import operation
from ibrain_cli.common import logged
from ibrain_cli.console import echo, fail


@click.group()
def review() -> None:
    """Enterprise matches waiting for a person (silver.enterprise_match_review)."""


@review.command("list")
@logged()
def review_list() -> None:
    """List pending candidates: rows quarantined as unresolved_enterprise and who they may be."""
    from catalog.tables import LakeTables
    from transforms.silver.enterprise_match_review import pending

    rows = pending(LakeTables())
    for r in rows:
        candidate = (
            f"{r['candidate_name']} ({r['candidate_uscc']}, confidence {r['confidence']})"
            if r["candidate_enterprise_id"]
            else "no candidate"
        )
        echo(
            f"{r['review_id'][:12]}  {r['source_table']} {r['role']}  reported "
            f"{r['reported_name']!r} / {r['reported_uscc']!r} → {candidate}"
        )
    echo(f"{len(rows)} pending")


def _decide(review_id: str, decision: str) -> None:
    """Record the decision as the logged-in user (role data_engineer), audited as ops.review."""
    from catalog.tables import LakeTables
    from transforms.silver.enterprise_match_review import ReviewError, decide, pending

    params = {"review_id": review_id, "decision": decision}
    with operation("ops.review", f"review:{review_id}", params) as actor:
        tables = LakeTables()
        matches = [r["review_id"] for r in pending(tables) if r["review_id"].startswith(review_id)]
        if len(matches) != 1:
            fail(f"{review_id!r} matches {len(matches)} pending reviews; give more of the id")
        try:
            row = decide(tables, matches[0], decision, actor.principal)
        except ReviewError as exc:
            fail(str(exc))
    echo(
        f"{decision} by {actor.principal}: {row['reported_name']!r} → {row['candidate_name']!r}; "
        "the next `ibrain run` releases the row"
    )


@review.command("confirm")
@click.argument("review_id")
@logged()
def review_confirm(review_id: str) -> None:
    """Confirm a candidate (by the id or its prefix from `ibrain review list`), as the logged-in user."""
    _decide(review_id, "confirmed")


@review.command("reject")
@click.argument("review_id")
@logged()
def review_reject(review_id: str) -> None:
    """Reject a candidate, as the logged-in user."""
    _decide(review_id, "rejected")


@review.command("objections")
@click.option("--all", "show_all", is_flag=True, help="Also the answered ones.")
@logged()
def review_objections(show_all: bool) -> None:
    """Data objections (数据异议) filed by enterprises in the portal, open ones first."""
    from ibrain_cli.auth import state
    from security.db import transaction
    from serving.portal.access import objections

    with transaction(state()) as session:
        rows = objections(session, open_only=not show_all)
    for o in rows:
        column = f" column {o.column_name}" if o.column_name else ""
        head = f"#{o.id}  [{o.status}]  {o.org} ({o.filed_by})  {o.dataset} {o.record_key}{column}"
        echo(f"{head}: {o.description}")
        if o.answer:
            echo(f"      answer by {o.answered_by}: {o.answer}")
    echo(f"{len(rows)} {'objections' if show_all else 'open'}")


@review.command("answer")
@click.argument("objection_id", type=click.IntRange(1, 2_147_483_647))
@click.option("--outcome", type=click.Choice(["corrected", "unchanged"]), required=True,
              help="corrected: the data was fixed; unchanged: checked and found right.")  # fmt: skip
@click.option("--text", "answer", required=True, help="The answer the enterprise sees in the portal.")
@logged()
def review_answer(objection_id: int, outcome: str, answer: str) -> None:
    """Answer a data objection as the logged-in data engineer (audited as ops.review and
    objection.answer); the enterprise gets a notice and sees the answer in the portal."""
    from security.db import transaction
    from security.identity.accounts import utcnow
    from serving.portal.access import AccessError, NotFound, answer_objection

    params = {"objection": objection_id, "outcome": outcome}
    with operation("ops.review", f"objection:{objection_id}", params) as actor:
        from ibrain_cli.auth import state

        try:
            with transaction(state()) as session:
                answer_objection(session, actor, objection_id, outcome, answer, utcnow())
        except (AccessError, NotFound) as exc:
            fail(str(exc))
    echo(f"objection #{objection_id} answered ({outcome}) by {actor.principal}")
