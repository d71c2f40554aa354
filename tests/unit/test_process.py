"""Process identity and parent-death (ibrain/process.py), with real processes."""

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ibrain.process import ProcessIdentity, start_ticks

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and prctl are Linux")


def running(pid: int) -> bool:
    """A process with this pid exists and is not a zombie (an orphan waiting for init to reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] != "Z"


@linux
def test_a_process_is_gone_once_it_ended_or_its_pid_was_reused() -> None:
    me = ProcessIdentity.current()
    assert me.started == start_ticks(os.getpid()) and not me.is_gone()
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    ident = dataclasses.replace(me, pid=child.pid, started=start_ticks(child.pid))
    child.wait()  # reaped: the pid names no process
    assert ident.is_gone()
    assert dataclasses.replace(me, started=me.started + 1).is_gone()  # same pid, another process
    assert dataclasses.replace(me, boot="an-earlier-boot").is_gone()  # the machine rebooted since
    with pytest.raises(ValueError, match="not on this host"):
        dataclasses.replace(me, host="elsewhere.invalid").is_gone()


PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", sys.argv[1]])
print(child.pid, flush=True)
time.sleep(60)
"""
CHILD = "from ibrain.process import die_with_parent; import time; die_with_parent(); time.sleep(60)"


@linux
def test_a_child_dies_when_its_parent_is_killed_with_sigkill() -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, CHILD], stdout=subprocess.PIPE, text=True, env=env
    )
    child = int(parent.stdout.readline())
    try:
        time.sleep(1.0)  # the child has set its parent-death signal (imports take well under a second)
        assert running(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 5
        while running(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not running(child)
    finally:
        if running(child):
            os.kill(child, signal.SIGKILL)
        parent.stdout.close()


@linux
def test_a_child_whose_parent_died_before_it_asked_exits_at_once() -> None:
    # The expected parent is not this child's parent: as if it had died already.
    code = "from ibrain.process import die_with_parent; import time; die_with_parent(1); time.sleep(60)"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.run([sys.executable, "-c", code], env=env, timeout=30)
    assert proc.returncode == -signal.SIGKILL
