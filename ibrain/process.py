"""Which process is this, is that one still alive, and dying with a parent (Linux).

Crash recovery needs both halves: a run records the identity of the process executing it
(:class:`ProcessIdentity` — host, boot, pid and the pid's start time, since pids are reused), so a
later process can tell a run whose process is gone from one still going; and a child process (dbt)
must not outlive a parent killed with SIGKILL, which no handler in the parent can catch — only the
kernel's parent-death signal does (:func:`die_with_parent`). docs/architecture.md: the CLI.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def boot_id() -> str:
    """This boot of the machine ('' where the kernel does not say: not Linux)."""
    try:
        return _BOOT_ID.read_text().strip()
    except OSError:
        return ""


def start_ticks(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks since boot (None: no such process, or no /proc).

    Field 22 of ``/proc/<pid>/stat``; the command name before it is in parentheses and may hold
    spaces or parentheses itself, so the fields are counted from the last ')'."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    return int(fields[19])  # fields[0] is field 3 (state)


@dataclass(frozen=True)
class ProcessIdentity:
    """A process, told apart from any later process that reuses its pid."""

    host: str
    boot: str
    pid: int
    started: int | None  # start_ticks of pid

    @classmethod
    def current(cls) -> ProcessIdentity:
        pid = os.getpid()
        return cls(socket.gethostname(), boot_id(), pid, start_ticks(pid))

    def is_local(self) -> bool:
        """On this machine (whether this boot or an earlier one)."""
        return self.host == socket.gethostname()

    def is_gone(self) -> bool:
        """This process no longer exists. Only answerable for a local process (ValueError else):
        gone when the machine has rebooted since, when no process has its pid, or when the process
        that has it started at another time (the pid was reused)."""
        if not self.is_local():
            raise ValueError(f"process {self.pid} ran on {self.host}, not on this host")
        if self.boot and self.boot != boot_id():
            return True
        now = start_ticks(self.pid)
        if now is None:
            return not _pid_exists(self.pid)  # no /proc: the pid alone has to do
        return self.started is not None and now != self.started


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def die_with_parent(expected_parent: int | None = None, sig: int = signal.SIGKILL) -> None:
    """Have the kernel send ``sig`` to this process when its parent dies (Linux ``prctl``
    ``PR_SET_PDEATHSIG``; elsewhere nothing is done).

    The signal follows the death of the parent *thread* that forked this process: a parent that
    starts a child from a thread that ends before the child would kill it — dagster-dbt starts dbt
    from the step's thread, which waits for dbt to end. The setting survives ``exec``, so it may be
    called as the child's first act. If the parent died before that, this process has already been
    handed to another (init or a subreaper): with ``expected_parent`` given it exits at once
    rather than run on as an orphan.
    """
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl(PR_SET_PDEATHSIG): {os.strerror(err)}")
    if expected_parent is not None and os.getppid() != expected_parent:
        os.kill(os.getpid(), sig)
