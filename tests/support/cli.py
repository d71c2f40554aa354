"""Run the ``ibrain`` CLI the way a person does: a separate process with its own environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    """The test process's environment without engine/lake settings, plus ``extra``.

    SPARK_REMOTE is dropped: the test process may run an embedded server of its own, and the
    child must start its own (with the child's AWS settings).
    """
    env = {
        k: v for k, v in os.environ.items() if k != "SPARK_REMOTE" and not k.startswith(("IBRAIN_", "AWS_"))
    }
    env.update(extra)
    return env


def run_cli(
    args: list[str], env: dict[str, str], timeout: float = 600, check: bool = True
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(BIN / "ibrain"), *args], env=clean_env(env), capture_output=True, text=True, timeout=timeout
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"ibrain {' '.join(args)} exited {proc.returncode}\n--- stdout\n{proc.stdout[-4000:]}"
            f"\n--- stderr\n{proc.stderr[-6000:]}"
        )
    return proc
