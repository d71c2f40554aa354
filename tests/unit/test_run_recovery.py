"""Runs whose process is gone are ended by the next command (orchestration/run.py), others left be."""

import dataclasses
import subprocess
import sys

import dagster as dg
import pytest
from dagster._core.storage.dagster_run import DagsterRun

from ibrain.process import ProcessIdentity, start_ticks
from orchestration.run import HOST_TAG, fail_runs_of_dead_processes, process_tags, tagged_process

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux")
S = dg.DagsterRunStatus


def test_unfinished_runs_of_dead_processes_are_ended_with_a_reason() -> None:
    me = ProcessIdentity.current()
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    dead = dataclasses.replace(me, pid=ended.pid, started=start_ticks(ended.pid))
    ended.wait()
    alive = subprocess.Popen(["sleep", "60"])
    living = dataclasses.replace(me, pid=alive.pid, started=start_ticks(alive.pid))
    runs = {
        "killed": (S.STARTED, process_tags(dead)),
        "killed-before-start": (S.NOT_STARTED, process_tags(dead)),
        "killed-while-canceling": (S.CANCELING, process_tags(dead)),
        "pid-reused": (S.STARTED, process_tags(dataclasses.replace(living, started=living.started + 7))),
        "finished": (S.SUCCESS, process_tags(dead)),
        "other-process-running": (S.STARTED, process_tags(living)),
        "this-process": (S.STARTED, process_tags(me)),
        "other-host": (S.STARTED, {**process_tags(dead), HOST_TAG: "elsewhere.invalid"}),
        "launched-by-daemon": (S.STARTED, {}),
    }
    try:
        with dg.DagsterInstance.ephemeral() as instance:
            for run_id, (status, tags) in runs.items():
                instance.add_run(
                    DagsterRun(job_name="ibrain_pipeline", run_id=run_id, status=status, tags=tags)
                )
            assert sorted(fail_runs_of_dead_processes(instance)) == [
                "killed",
                "killed-before-start",
                "killed-while-canceling",
                "pid-reused",
            ]
            statuses = {run_id: instance.get_run_by_id(run_id).status for run_id in runs}
            assert statuses == {
                "killed": S.FAILURE,
                "killed-before-start": S.FAILURE,
                "killed-while-canceling": S.CANCELED,
                "pid-reused": S.FAILURE,
                "finished": S.SUCCESS,
                "other-process-running": S.STARTED,
                "this-process": S.STARTED,
                "other-host": S.STARTED,
                "launched-by-daemon": S.STARTED,
            }
            [failure] = instance.all_logs("killed", of_type=dg.DagsterEventType.RUN_FAILURE)
            assert f"pid {dead.pid} on {dead.host}) is gone" in failure.dagster_event.message
            assert "while the run was STARTED" in failure.dagster_event.message
            assert fail_runs_of_dead_processes(instance) == []  # once ended, never again
    finally:
        alive.kill()
        alive.wait()


def test_tags_name_the_process_and_nothing_else_is_taken_for_one() -> None:
    me = ProcessIdentity.current()
    assert tagged_process(process_tags(me)) == me
    assert tagged_process({**process_tags(me), "ibrain/pid": "x"}) is None
    assert tagged_process({"ibrain/trigger": "cli"}) is None
