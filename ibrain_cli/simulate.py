"""``ibrain simulate`` and ``ibrain serve-registry``: the simulated source systems."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ibrain.settings import get_settings
from ibrain_cli.common import logged
from ibrain_cli.console import echo, fail

if TYPE_CHECKING:
    from simulators import Defects, Simulation

DEFAULT_MONTHS = "2024-01:2025-01"  # 13 months, so year-on-year growth exists
DEMO_SCALE = 0.1

SIM_OPTIONS = [
    click.option(
        "--scale",
        default=DEMO_SCALE,
        show_default=True,
        type=float,
        help="Scale factor: 1 ≈ 2,000 enterprises and 500 devices.",
    ),
    click.option("--seed", default=42, show_default=True, type=int, help="Same seed, same files."),
    click.option("--months", default=DEFAULT_MONTHS, show_default=True, help="YYYY-MM:YYYY-MM, inclusive."),
    click.option(
        "--telemetry-days",
        default=7,
        show_default=True,
        type=int,
        help="Days of telemetry, ending on the last day of --months.",
    ),
    click.option(
        "--defect",
        "defects",
        multiple=True,
        metavar="NAME=RATE",
        help="Override an injected defect rate, e.g. invalid_uscc=0.3 (see README).",
    ),
]


def sim_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The simulation options, shared by ``simulate`` and ``demo``."""
    for option in reversed(SIM_OPTIONS):
        fn = option(fn)
    return fn


def parse_defects(items: tuple[str, ...]) -> Defects:
    """``NAME=RATE`` overrides of the default defect rates."""
    from dataclasses import replace

    from simulators import Defects

    known = Defects.names()
    overrides = {}
    for item in items:
        name, _, rate = item.partition("=")
        if name not in known:
            fail(f"--defect {item}: unknown defect {name!r}; known: {', '.join(known)}")
        try:
            value = float(rate)
        except ValueError:
            fail(f"--defect {item}: rate must be a number between 0 and 1")
        if not 0 <= value <= 1:
            fail(f"--defect {item}: rate must be between 0 and 1")
        overrides[name] = value
    return replace(Defects(), **overrides)


def run_simulation(
    scale: float,
    seed: int,
    months: str,
    out_dir: Path,
    defects: Defects,
    sources: tuple[str, ...],
    telemetry_days: int,
) -> Simulation:
    from simulators import simulate as simulate_sources

    try:
        return simulate_sources(out_dir, scale, seed, months, defects, sources, telemetry_days)
    except ValueError as exc:
        fail(str(exc))


def land_simulation(simulation: Simulation) -> str:
    """Land the simulated files with their simulated arrival times (ledger: pending); says what
    happened."""
    from catalog.tables import LakeTables
    from ingest.ledger import land_files

    result = land_files(LakeTables(), simulation.files, simulation.arrivals())
    return (
        f"landed {len(result.landed)} new deliveries; {len(result.unchanged)} unchanged "
        "(same content as already landed)"
    )


@click.command()
@sim_options
@click.option("--source", "sources", multiple=True, help="Only these sources (default: all eight).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder for the files [default: IBRAIN_INBOX or ./var/inbox].",
)
@click.option(
    "--land",
    is_flag=True,
    help="Land the files in the lake (ledger: pending) with their simulated arrival times.",
)
@click.option(
    "--to-inbox",
    is_flag=True,
    help="Copy the files into the lake's drop zone instead, for the sensor / `ibrain ingest` to collect.",
)
@logged()
def simulate(
    scale: float,
    seed: int,
    months: str,
    telemetry_days: int,
    defects: tuple[str, ...],
    sources: tuple[str, ...],
    out_dir: Path | None,
    land: bool,
    to_inbox: bool,
) -> None:
    """Simulate the source systems: every source in its native form, with injected defects.

    Writes a manifest (manifest.json) of every defect injected and every file's arrival time.
    The registry is served by `ibrain serve-registry` (an HTTP API) from its data set.
    """
    from simulators import ALL_SOURCES

    out_dir = out_dir or get_settings().inbox
    simulation = run_simulation(
        scale, seed, months, out_dir, parse_defects(defects), sources or ALL_SOURCES, telemetry_days
    )
    counts = ", ".join(f"{s} {len(p)}" for s, p in simulation.files.items())
    echo(f"wrote {counts} files to {out_dir}; manifest {simulation.manifest_path}")
    if land:
        echo(land_simulation(simulation))
    elif to_inbox:
        from ibrain.lake import Lake
        from ingest.inbox import drop_files

        lake = Lake()
        count = drop_files(lake, simulation.files)
        echo(f"copied {count} files to {lake.uri('landing', '_inbox')}/<source>/")


@click.command("serve-registry")
@click.option(
    "--data",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Registry data set [default: <inbox>/gov_registry/registry.json from `ibrain simulate`].",
)
@click.option("--port", default=8765, show_default=True, type=int)
@click.option("--error-rate", default=0.2, show_default=True, type=float, help="Share of 429/503 answers.")
def serve_registry(data: Path | None, port: int, error_rate: float) -> None:
    """Serve the simulated 市场监管 registry API on 127.0.0.1 (bearer token; Ctrl-C stops it).

    The token is IBRAIN_REGISTRY_API_TOKEN, or a new random one that is printed.
    """
    import datetime as dt
    import time

    from simulators import registry_api

    data = data or get_settings().inbox / "gov_registry" / "registry.json"
    if not data.exists():
        fail(f"{data} not found: run `ibrain simulate` first")
    token = os.environ.get("IBRAIN_REGISTRY_API_TOKEN") or secrets.token_urlsafe(24)
    api = registry_api(data, token, dt.datetime.now(dt.UTC), error_rate)
    url = api.start(port)
    echo(
        f"registry API on {url}\n  export IBRAIN_REGISTRY_API_URL={url}\n"
        f"  export IBRAIN_REGISTRY_API_TOKEN={token}"
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        api.stop()
