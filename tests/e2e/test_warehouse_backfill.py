"""Backfilling months of the dbt warehouse through Dagster (issue 5 acceptance).

A person backfills from the UI or with ``dagster asset materialize --partition-range``; the test
runs that command. The monthly models replace exactly the run's months with one MERGE each
(replace_period), so a backfill restores lost rows, drops rows that vanished upstream, and
leaves every other month — and every model whose rows did not change — untouched. The test damages
and repairs a copy of the demo lake (``lake_copy``).
"""

import json
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from deltalake import DeltaTable, write_deltalake

from ibrain import delta
from ibrain.lake import Lake, TableRef
from ibrain.settings import REPO_ROOT
from tests.e2e.conftest import DemoLake
from tests.support.cli import BIN, clean_env

pytestmark = pytest.mark.e2e

MANIFEST = REPO_ROOT / "transforms" / "dbt" / "target" / "manifest.json"
BACKFILLED = ("2024-03", "2024-04")


def monthly_models() -> list[tuple[str, str]]:
    nodes = json.loads(MANIFEST.read_text(encoding="utf-8"))["nodes"].values()
    return sorted(
        (n["schema"], n["name"]) for n in nodes if n["resource_type"] == "model" and "monthly" in n["tags"]
    )


def rows_by_month(lake: Lake, ref: TableRef) -> dict[str, list[tuple]]:
    table = DeltaTable(ref.uri, storage_options=lake.storage_options()).to_pyarrow_table()
    out: dict[str, list[tuple]] = {}
    for row in table.to_pylist():
        out.setdefault(str(row["period"])[:7], []).append(tuple(sorted((k, repr(v)) for k, v in row.items())))
    return {month: sorted(rows) for month, rows in out.items()}


def commit_actions(lake: Lake, ref: TableRef, version: int) -> list[dict]:
    log = Path(ref.uri) / "_delta_log" / f"{version:020d}.json"
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_backfilling_two_months_restores_them_and_leaves_everything_else_untouched(
    lake_copy: DemoLake,
) -> None:
    lake = lake_copy.tables.lake
    models = monthly_models()
    assert ("gold", "fct_enterprise_month") in models and len(models) >= 10
    refs = {m: lake.ref(*m) for m in models}
    before_rows = {m: rows_by_month(lake, ref) for m, ref in refs.items()}
    fact = refs[("gold", "fct_enterprise_month")]

    # Damage the fact: March lost, and April gains a row that no longer exists upstream.
    dt_fact = DeltaTable(fact.uri, storage_options=lake.storage_options())
    dt_fact.delete("period = '2024-03-01'")
    april = dt_fact.to_pyarrow_table(filters=[("period", "=", pa.scalar("2024-04-01").cast(pa.date32()))])
    ghost = april.slice(0, 1)
    ghost = ghost.set_column(
        ghost.schema.get_field_index("enterprise_id"), "enterprise_id", pa.array(["EGHOST"])
    )
    write_deltalake(fact.uri, ghost, mode="append", storage_options=lake.storage_options())
    damaged = rows_by_month(lake, fact)
    assert (
        "2024-03" not in damaged
        and len(damaged["2024-04"]) == len(before_rows[("gold", "fct_enterprise_month")]["2024-04"]) + 1
    )
    versions = {m: delta.version(lake, ref) for m, ref in refs.items()}

    selection = ",".join(f"{layer}/{table}" for layer, table in models)
    proc = subprocess.run(
        [str(BIN / "dagster"), "asset", "materialize", "-m", "orchestration.definitions",
         "--select", selection, "--partition-range", "...".join(BACKFILLED)],
        env=clean_env(lake_copy.env), cwd=REPO_ROOT, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-5000:]
    assert "RUN_SUCCESS" in proc.stderr + proc.stdout
    assert f'"periods": ["{BACKFILLED[0]}", "{BACKFILLED[1]}"]' in proc.stderr + proc.stdout  # one dbt call

    # Every month of every monthly model is exactly as before the damage.
    for model, ref in refs.items():
        assert rows_by_month(lake, ref) == before_rows[model], model

    # The fact was repaired by one MERGE that touched only the two backfilled months' partitions…
    history = delta.history(lake, fact, limit=1)
    assert delta.version(lake, fact) == versions[("gold", "fct_enterprise_month")] + 1
    assert history[0]["operation"] == "MERGE"
    touched = {
        a[kind]["partitionValues"]["period"][:7]
        for a in commit_actions(lake, fact, delta.version(lake, fact))
        for kind in ("add", "remove")
        if kind in a
    }
    assert touched and touched <= set(BACKFILLED), touched
    # …and every model whose rows did not change committed nothing.
    unchanged = {
        m: delta.version(lake, ref) for m, ref in refs.items() if m != ("gold", "fct_enterprise_month")
    }
    assert unchanged == {m: v for m, v in versions.items() if m != ("gold", "fct_enterprise_month")}
    assert pc.sum(
        pc.equal(DeltaTable(fact.uri).to_pyarrow_table().column("enterprise_id"), "EGHOST")
    ).as_py() in (None, 0)
