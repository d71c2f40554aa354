"""``ibrain catalog``: the generated dbt YAML, the data map (数据地图) and one entry of it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ibrain_cli.common import catalog_dir, logged
from ibrain_cli.console import echo, fail, stage


@click.group()
def catalog() -> None:
    """The data catalog (contracts under catalog/contracts)."""


@catalog.command("dbt-yaml")
@click.option("--check", is_flag=True, help="Only check that the generated files are current.")
def catalog_dbt_yaml(check: bool) -> None:
    """(Re)generate the dbt properties files (one per model and seed, and models/_sources.yml)
    from the contracts."""
    from catalog.dbt_yaml import DBT_DIR, problems, render, write

    if check:
        found = problems()
        if found:
            fail("\n".join([*found, "run `ibrain catalog dbt-yaml`"]))
        echo(f"{len(render())} dbt properties files under {DBT_DIR} are current")
        return
    changed = write()
    for path in changed:
        echo(f"{'wrote' if path.exists() else 'removed'} {path}")
    echo(f"{len(changed)} dbt properties files changed")


@catalog.command("build")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for index.html (the data map) and openlineage/ [default: catalog/ beside a local "
    "lake (var/catalog for the default lake); beside DAGSTER_HOME for a lake on S3].",
)
@logged(announce=True)
def catalog_build(out_dir: Path | None) -> None:
    """Build the data map (数据地图): compile the dbt project for column lineage, check grading
    over the lineage (就高从严) and the lake's tables against their contracts, write
    OUT/index.html (one self-contained, searchable page) and the OpenLineage events. Exit 1 after
    writing if a check has findings."""
    if not build_and_report(out_dir or catalog_dir()):
        sys.exit(1)


def asset_lineage() -> dict[str, set[str]]:
    """Table lineage from the asset graph (the catalog layer does not import orchestration)."""
    from orchestration.definitions import defs
    from orchestration.lineage import asset_table_lineage

    return asset_table_lineage(defs)


def build_and_report(out_dir: Path) -> bool:
    """Build the data map into ``out_dir`` and print what it found; False when grading or a
    contract check has findings."""
    from catalog.build import DataMapError, build_data_map

    try:
        with stage("data map") as shown:
            shown.update(detail="loading the asset graph")
            built = build_data_map(asset_lineage(), out_dir, on_step=lambda step: shown.update(detail=step))
            shown.update(detail="")
            shown.check(built.ok)
    except DataMapError as exc:
        fail(str(exc))
    for finding in built.findings:
        echo(f"grading: {finding}", fg="red", err=True)
    for mismatch in built.mismatches:
        echo(f"contract: {mismatch}", fg="red", err=True)
    echo(f"datasets: {built.datasets} ({', '.join(f'{x} {n}' for x, n in built.layers.items())})")
    echo(f"quality scores: {built.scores or 'none yet (quality.dq_scorecard not built)'}")
    echo(f"grading findings: {len(built.findings)}")
    echo(f"lake tables not matching their contracts: {len(built.mismatches)}")
    echo(f"OpenLineage events: {built.events} → {built.openlineage_dir}")
    echo(f"data map: {built.index.resolve()}")
    if not built.ok:
        echo(
            f"{len(built.findings)} grading findings and {len(built.mismatches)} contract mismatches "
            "(listed above): fix the contracts (levels, downgrades, columns) or the tables",
            fg="red",
            err=True,
        )
    return built.ok


def _suggest(name: str, known: list[str]) -> list[str]:
    import difflib

    close = difflib.get_close_matches(name, known, n=5, cutoff=0.75)
    table = name.rsplit(".", 1)[-1]
    by_table = {k.rsplit(".", 1)[-1]: k for k in known}
    close += [by_table[t] for t in difflib.get_close_matches(table, list(by_table), n=3, cutoff=0.75)]
    return list(dict.fromkeys(close))[:5]


@catalog.command("show")
@click.argument("name", metavar="LAYER.TABLE")
@logged()
def catalog_show(name: str) -> None:
    """Print one data-map entry: names, owner, level, SLA, grain, key, columns (level, masking),
    upstream and downstream tables, and column lineage of dbt models when the project was compiled
    (`ibrain catalog build`)."""
    from catalog.build import quality_scores
    from catalog.contracts import ContractError, load_catalog
    from catalog.datamap import datasets, format_dataset
    from catalog.lineage import COMPILED_TARGET, Lineage, LineageError, column_lineage
    from ibrain.lake import Lake

    try:
        contracts = load_catalog()
    except ContractError as exc:
        fail(str(exc))
    known = sorted(datasets(contracts, Lineage(tables={}), chains=[]))
    if name not in known:
        close = _suggest(name, known)
        layer = name.split(".", 1)[0]
        in_layer = [k.split(".", 1)[1] for k in known if k.startswith(f"{layer}.")]
        if close:
            hint = f"; did you mean {', '.join(close)}?"
        elif in_layer and "." in name:
            hint = f"; {layer} has {', '.join(in_layer)}"
        else:
            hint = " (names are layer.table, e.g. gold.dim_region)"
        fail(f"no dataset {name!r} in the catalog{hint}")

    lineage = Lineage(tables=asset_lineage())
    manifest = COMPILED_TARGET / "manifest.json"
    note = None
    if contracts.get(name) is not None and contracts[name].produced_by == "dbt":
        if manifest.exists():
            try:
                lineage.columns = column_lineage(manifest, contracts)
            except LineageError as exc:
                note = f"column lineage unavailable ({exc}); run `ibrain catalog build` to recompile"
        else:
            note = "column lineage: no compiled dbt manifest yet; run `ibrain catalog build`"
    ds = datasets(contracts, lineage)[name]
    echo(format_dataset(ds, score=quality_scores(Lake()).get(name)))
    if note:
        echo(note, fg="yellow")
