"""Crash recovery (issue 12): `ibrain run` killed with SIGKILL during bronze, during silver and
during dbt, each time followed by the next `ibrain run`, ends with the same tables as one
uninterrupted run on the same inputs — with the registry arriving after the facts (the first two
runs have no registry API; the third pulls it) — no run left unfinished, and no child process
(dbt) outliving the killed process.

The reference is one uninterrupted run on the same inputs with the registry first, its fingerprint
committed (tests/e2e/fingerprints/crash-reference.json; rewrite it with
`python -m tests.e2e.test_crash_recovery` when the pipeline changes data on purpose, as the demo
fingerprints). The test runs one lake killed three times at increasing points, then to the end:
four `ibrain run`s, of which three stop early. Each kill point is found in the
log file the killed `ibrain run` writes (`$DAGSTER_HOME/logs/ibrain-<time>-<pid>.log`: Dagster's
events, one line each), and the dbt point also by dbt's process appearing under it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest

from catalog.tables import LakeTables
from ibrain.fingerprint import differences, lake_fingerprint, load, to_json
from ibrain.lake import Lake
from ibrain.settings import Settings
from simulators import registry_api
from tests.conftest import lake_env
from tests.support.cli import BIN, clean_env, run_cli
from tests.support.identity import engineer_env

pytestmark = [pytest.mark.e2e, pytest.mark.scenario]

SIMULATE = [
    *("simulate", "--scale", "0.02", "--months", "2024-01:2024-02", "--telemetry-days", "2"),
    *("--defect", "corrupt_file=0", "--land"),
]
# Tables that record what happened, run by run (quality results, issues and scores, API pulls),
# rather than data derived from the inputs: a lake that went through killed and facts-first runs
# has a longer history than one run, by design.
HISTORY_LAYERS = ("quality.",)
REFERENCE = Path(__file__).parent / "fingerprints" / "crash-reference.json"


class Registry:
    """The simulated registry API over one lake's simulated registry data set."""

    def __init__(self, inbox: Path, as_of: dt.datetime) -> None:
        self.token = secrets.token_urlsafe(16)
        self.api = registry_api(inbox / "gov_registry" / "registry.json", self.token, as_of, 0.0, 42)

    def __enter__(self) -> dict[str, str]:
        url = self.api.start()
        return {
            "IBRAIN_REGISTRY_API_URL": url,
            "IBRAIN_REGISTRY_API_TOKEN": self.token,
            "IBRAIN_API_BACKOFF_SECONDS": "0.05",
            "IBRAIN_REGISTRY_PAGE_SIZE": "50",
        }

    def __exit__(self, *exc: object) -> None:
        self.api.stop()


def children(pid: int) -> set[int]:
    """Every live descendant of ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rfind(")") + 2 :].split()
        if fields[0] != "Z":
            parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def running(pid: int) -> bool:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return text[text.rfind(")") + 2] != "Z"


def command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def started_steps(log: Path | None, prefix: str) -> int:
    if log is None or not log.exists():
        return 0
    return sum(f" - {prefix}" in line and " - STEP_START - " in line for line in log.open(errors="replace"))


def kill_run_when(
    env: dict[str, str], ready: Callable[[int, Path | None], bool], timeout: float = 600
) -> None:
    """Start `ibrain run`, wait until ``ready(pid, its log file)``, SIGKILL it, and check that every
    process it had started is gone within a few seconds."""
    logs = Path(env["DAGSTER_HOME"]) / "logs"
    proc = subprocess.Popen(
        [str(BIN / "ibrain"), "run"],
        env=clean_env(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the test can clean up whatever happens
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            found = sorted(logs.glob(f"ibrain-*-{proc.pid}.log")) if logs.exists() else []
            if ready(proc.pid, found[0] if found else None):
                break
            assert proc.poll() is None, f"`ibrain run` ended (exit {proc.returncode}) before the kill point"
            assert time.monotonic() < deadline, "the kill point was not reached"
            time.sleep(0.2)
        descendants = children(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 5
        while any(running(p) for p in descendants) and time.monotonic() < deadline:
            time.sleep(0.1)
        orphans = {p: command(p) for p in descendants if running(p)}
        assert not orphans, f"processes outlived the killed `ibrain run`: {orphans}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def during(prefix: str, steps: int) -> Callable[[int, Path | None], bool]:
    """Ready once ``steps`` steps whose key starts with ``prefix`` have started."""
    return lambda pid, log: started_steps(log, prefix) >= steps


def during_dbt(pid: int, log: Path | None) -> bool:
    """Ready while dbt (the ibrain-dbt launcher) runs the monthly models under `ibrain run`."""
    dbt = [p for p in children(pid) if "ibrain-dbt" in command(p)]
    return started_steps(log, "dbt_monthly") >= 1 and bool(dbt)


def unfinished_runs(env: dict[str, str]) -> tuple[list[str], list[dg.DagsterRun]]:
    with dg.DagsterInstance.from_config(str(Path(env["DAGSTER_HOME"]))) as instance:
        runs = instance.get_runs()
        failed = [
            r.run_id
            for r in runs
            if r.status == dg.DagsterRunStatus.FAILURE
            and any(
                "is gone" in (e.dagster_event.message or "")
                for e in instance.all_logs(r.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
            )
        ]
        return failed, [r for r in runs if not r.is_finished]


def data_fingerprint(env: dict[str, str]) -> dict:
    tables = LakeTables(lake=Lake(Settings.from_env(env)))
    prints = lake_fingerprint(tables.spark, tables.lake)
    return {name: fp for name, fp in prints.items() if not name.startswith(HISTORY_LAYERS)}


def reference_fingerprint(base: Path) -> dict:
    """Fingerprint of one uninterrupted run, registry first, on the test's inputs."""
    reference = engineer_env(lake_env(base))
    run_cli(SIMULATE, reference)
    with Registry(Path(reference["IBRAIN_INBOX"]), dt.datetime.now(dt.UTC)) as api:
        run_cli(["run"], {**reference, **api})
    return data_fingerprint(reference)


def test_runs_killed_at_bronze_silver_and_dbt_end_as_one_uninterrupted_run(tmp_path: Path) -> None:
    expected = {name: fp for name, fp in load(REFERENCE).items() if not name.startswith(HISTORY_LAYERS)}
    assert expected["silver.enterprise"].rows > 0 and expected["gold.fct_enterprise_month"].rows > 0

    killed = engineer_env(lake_env(tmp_path / "killed"))
    run_cli(SIMULATE, killed)
    # The facts arrive first: no registry for the first two runs.
    kill_run_when(killed, during("bronze_", 3))
    kill_run_when(killed, during("silver_", 3))
    with Registry(Path(killed["IBRAIN_INBOX"]), dt.datetime.now(dt.UTC)) as api:
        kill_run_when({**killed, **api}, during_dbt)
        run_cli(["run"], {**killed, **api})

    recovered, unfinished = unfinished_runs(killed)
    assert unfinished == []
    assert len(recovered) == 3  # one run per kill, each marked failed by the next command
    assert differences(expected, data_fingerprint(killed)) == []


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        REFERENCE.write_text(to_json(reference_fingerprint(Path(folder))), encoding="utf-8")
    print(f"wrote {REFERENCE}")
