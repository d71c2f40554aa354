"""``ibrain run``, ``demo``, ``summary``, ``maintain`` and ``dev``: the whole pipeline."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import click

from ibrain.settings import REPO_ROOT, get_settings
from ibrain_cli.auth import actor_tags, operation, record_event, state
from ibrain_cli.catalog import build_and_report
from ibrain_cli.common import RunsOnStage, catalog_dir, engine_output, logged, registry_today, report
from ibrain_cli.console import echo, fail, stage
from ibrain_cli.ingest import ACCEPT_SHRINK, report_inbox_and_held
from ibrain_cli.simulate import land_simulation, parse_defects, run_simulation, sim_options
from security.actor import Actor
from security.db import transaction
from security.identity.accounts import Principal, utcnow

DEMO_ACTOR = Actor("system:demo")


def run_all(actor: Actor, accept_shrink: bool = False) -> bool:
    """Ingest what is pending, then everything downstream; False if a run failed."""
    from orchestration.run import run_ingest, run_pipeline

    extra = registry_today()
    tags = actor_tags(actor)
    with stage("ingest", unit="runs") as shown:
        outcomes = run_ingest(
            None, engine_output(), extra, RunsOnStage(shown), tags, accept_shrink=accept_shrink
        )
        shown.check(all(o.success for o in outcomes))
    ok = report(outcomes)
    report_inbox_and_held()
    try:
        with stage("pipeline", unit="steps") as shown:
            pipeline = run_pipeline(engine_output(), tags=tags, on_progress=RunsOnStage(shown))
            shown.check(pipeline.success)
    except ValueError as exc:
        fail(str(exc))
    return report([pipeline]) and ok


@click.command()
@ACCEPT_SHRINK
@logged(announce=True)
def run(accept_shrink: bool) -> None:
    """Run everything through the Dagster instance (runs show in the UI): ingest what is pending
    (inboxes, ledger, the registry API if configured), then materialise everything downstream.
    Runs as the logged-in user (role data_engineer), audited as ops.run."""
    with operation("ops.run", "pipeline", {"accept_shrink": accept_shrink}) as actor:
        sys.exit(0 if run_all(actor, accept_shrink) else 1)


@click.command()
@sim_options
@logged(announce=True)
def demo(scale: float, seed: int, months: str, telemetry_days: int, defects: tuple[str, ...]) -> None:
    """Simulate every source into the lake, pull the simulated registry API, run everything, and
    say where to look.

    Safe to repeat on the same lake: unchanged deliveries are no-ops and every asset is
    idempotent, so row counts do not change. Only with IBRAIN_ENV=demo: it creates the demo keys
    and accounts (printed once) and runs as the demo engineer. Ends with one run of the daily
    `audit_trail` job (a signed checkpoint; the trail copied to audit.security_trail).
    """
    settings = get_settings()
    if not settings.is_demo:
        fail(
            "`ibrain demo` creates demo accounts and keys, so it runs only with IBRAIN_ENV=demo "
            f"(IBRAIN_ENV is {settings.env!r}); `make demo` sets it"
        )
    engineer = demo_identity()
    params = {"scale": scale, "seed": seed, "months": months, "defects": list(defects)}
    with operation("ops.run", "demo", params, principal=engineer) as actor:
        _demo(scale, seed, months, telemetry_days, defects, actor)


def demo_identity() -> Principal:
    """The demo's keys and accounts, created on first use (each new password printed this once,
    only its hash stored); the demo engineer, as whom the demo runs."""
    from security.identity.accounts import DEMO_ENGINEER, create_demo_accounts, principal_of
    from security.keys import KeyFileError, init_key

    try:
        for purpose in ("token", "checkpoint", "masking"):
            init_key(purpose)
    except KeyFileError as exc:
        fail(str(exc))
    engine = state()
    with transaction(engine) as session:
        created = create_demo_accounts(session)
        for login, role, _ in created:
            record_event(session, DEMO_ACTOR, "account.create", f"user:{login}", "success", {"role": role})
        engineer = principal_of(session, DEMO_ENGINEER, auth_time=utcnow())
    if created:
        echo("demo accounts (passwords shown only now; `ibrain login <login>`):")
        for login, role, password in created:
            echo(f"  {login:12} {role:18} {password}")
    return engineer


def _demo(
    scale: float, seed: int, months: str, telemetry_days: int, defects: tuple[str, ...], actor: Actor
) -> None:
    import datetime as dt

    from simulators import ALL_SOURCES, registry_api

    settings = get_settings()
    echo(f"lake root: {settings.lake_root}")
    # The demo injects every defect but corrupt files, which fail their ingest run by design
    # (`--defect corrupt_file=0.01` shows that too).
    rates = parse_defects(("corrupt_file=0", *defects))
    with stage("simulate"):
        simulation = run_simulation(scale, seed, months, settings.inbox, rates, ALL_SOURCES, telemetry_days)
    echo(
        f"simulated {sum(len(p) for p in simulation.files.values())} source files into "
        f"{settings.inbox} (defects and arrivals: {simulation.manifest_path})"
    )
    with stage("land"):
        landed = land_simulation(simulation)
    echo(landed)
    token = secrets.token_urlsafe(24)
    api = registry_api(simulation.registry_path, token, dt.datetime.now(dt.UTC), rates.api_error_rate, seed)
    os.environ.update({"IBRAIN_REGISTRY_API_URL": api.start(), "IBRAIN_REGISTRY_API_TOKEN": token})
    os.environ.setdefault("IBRAIN_API_BACKOFF_SECONDS", "0.05")
    os.environ.setdefault("IBRAIN_REGISTRY_PAGE_SIZE", "50")
    try:
        ok = run_all(actor)
    finally:
        api.stop()
        echo(f"registry API: {api.requests} requests, {api.errors} answered 429/503 and retried")
    ok = deliver_demo(actor, months) and ok
    ok = audit_trail_run(actor) and ok
    print_summary()
    echo("\ndata map (数据地图) — catalog, grading and lineage:")
    ok = build_and_report(catalog_dir()) and ok
    echo(
        "\nWarehouses: gold (star schema), theme 主题库 (e.g. theme.economic_operation_month, "
        "theme.enterprise_profile), topic 专题库 (e.g. topic.chain_map_node), indicator 指标库 "
        "(indicator.indicator_value); model and column docs: `make docs`.\n"
        "Next: `make dev` (or `ibrain dev`) and open http://127.0.0.1:3000 — the runs above are "
        "in Runs; the asset graph shows every layer, monthly models by partition.\n"
        "Query the tables from Python: `from ibrain.spark import spark_session; "
        "spark_session().table('theme.economic_operation_month').show()` (see notebooks/)."
    )
    echo(
        "\nCockpit (产业大脑驾驶舱): start the data service with `ibrain serve` (127.0.0.1:8000), then open "
        "http://127.0.0.1:8000/cockpit/ and log in as a demo user (e.g. analyst); "
        "the home page http://127.0.0.1:8000/ lists the dashboards, portal, brief and reports."
    )
    sys.exit(0 if ok else 1)


def deliver_demo(actor: Actor, months: str) -> bool:
    """The demo's deliveries: the two platforms' organisations (type platform) and delivery keys,
    a simulated platform each on loopback, the build jobs for the demo's months and the send job
    (Dagster runs), then what each platform acknowledged; the platforms stop at the end."""
    from orchestration.assets.deliveries import SEND_JOB_NAME, build_job_name
    from orchestration.run import run_job
    from security.identity.accounts import AccountError, create_org
    from security.keys import init_key, load_keyring
    from serving.deliveries.builder import RECIPIENTS
    from serving.deliveries.outbox import status
    from serving.deliveries.service import recipients
    from serving.deliveries.transport import url_variable
    from simulators.platform import Platform

    engine = state()
    chosen = recipients()
    platforms = []
    with transaction(engine) as session:
        for recipient in chosen:
            try:
                create_org(session, recipient, RECIPIENTS[recipient], "platform", "210000")
            except AccountError:
                continue  # exists from an earlier demo
            record_event(session, actor, "org.create", recipient, "success", {"type": "platform"})
    for recipient in chosen:
        for purpose in ("delivery", "delivery_hmac"):
            init_key(purpose, recipient)
        secrets_ = [s for _, s in load_keyring("delivery_hmac", recipient).secrets()]
        publics = {
            k.kid: k.public.public_bytes_raw() for k in load_keyring("delivery", recipient).keys if k.public
        }
        platform = Platform(recipient, secrets_, public_keys=publics)
        os.environ[url_variable(recipient)] = platform.start()
        platforms.append(platform)
    os.environ.setdefault("IBRAIN_DELIVERY_BACKOFF_SECONDS", "0.2")
    first, _, last = months.partition(":")
    tags = {
        **actor_tags(actor),
        "dagster/asset_partition_range_start": first,
        "dagster/asset_partition_range_end": last or first,
    }
    try:
        with stage("deliver", unit="runs") as shown:
            outcomes = [run_job(build_job_name(r), tags, engine_output()) for r in chosen]
            outcomes.append(run_job(SEND_JOB_NAME, actor_tags(actor), engine_output()))
            shown.check(all(o.success for o in outcomes))
        ok = report(outcomes)
        states: dict[str, int] = {}
        for row in status(engine):
            states[row["state"]] = states.get(row["state"], 0) + 1
        echo("\ndeliveries (simulated platforms on loopback; `ibrain deliveries status`):")
        for platform in platforms:
            held = platform.holdings()
            datasets = sorted({h["dataset"] for h in held})
            echo(f"  {platform.recipient}: acknowledged {len(held)} packages ({', '.join(datasets)})")
        echo("  outbox: " + ", ".join(f"{n} {s}" for s, n in sorted(states.items())))
    finally:
        for platform in platforms:
            platform.stop()
    return ok


def audit_trail_run(actor: Actor) -> bool:
    """The daily `audit_trail` job once (the demo has no daemon to run its schedule): a signed
    checkpoint (with the demo's checkpoint key), the trail copied to audit.security_trail, verified."""
    from orchestration.jobs import AUDIT_TRAIL_JOB_NAME
    from orchestration.run import run_job

    tags = {"ibrain/trigger": "cli", **actor_tags(actor)}
    with stage("audit trail", unit="steps") as shown:
        outcome = run_job(AUDIT_TRAIL_JOB_NAME, tags, engine_output(), on_progress=RunsOnStage(shown))
        shown.check(outcome.success)
    return report([outcome])


@click.command()
@logged()
def summary() -> None:
    """Print every Delta table (layer, rows, Delta version) and the delivery packages' files."""
    print_summary()


def print_summary() -> None:
    from ibrain.lake import Lake
    from ibrain.summary import format_tables, package_files, table_summaries

    lake = Lake()
    with stage("count rows"):
        rows = table_summaries(lake)
        packages = package_files(lake)
    echo("\n" + format_tables(rows))
    echo(f"\ndelivery packages ({len(packages) // 2} in exchange/<recipient>/, payload and manifest each)")


@click.command()
@logged(announce=True)
def maintain() -> None:
    """Compact, checkpoint and vacuum every Delta table now (the weekly job, run by hand), as the
    logged-in user (role data_engineer), audited as ops.maintain."""
    from orchestration.run import run_job

    with operation("ops.maintain", "lake", {}) as actor:
        tags = {"ibrain/trigger": "cli", **actor_tags(actor)}
        with stage("maintain", unit="steps") as shown:
            outcome = run_job("delta_maintenance", tags, engine_output(), on_progress=RunsOnStage(shown))
            shown.check(outcome.success)
        sys.exit(0 if report([outcome]) else 1)


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("dagster_args", nargs=-1, type=click.UNPROCESSED)
def dev(dagster_args: tuple[str, ...]) -> None:
    """Start the Dagster UI and daemon (`dagster dev`) on http://127.0.0.1:3000."""
    from orchestration.run import ensure_dagster_home

    ensure_dagster_home(get_settings())
    dagster = Path(sys.executable).with_name("dagster")
    args = [
        str(dagster),
        "dev",
        "-w",
        str(REPO_ROOT / "workspace.yaml"),
        "-h",
        "127.0.0.1",
        "-p",
        "3000",
        *dagster_args,
    ]
    os.chdir(REPO_ROOT)
    os.environ["PATH"] = f"{dagster.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    os.execv(args[0], args)
