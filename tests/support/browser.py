"""Debian's headless Chromium, driven through its command line (no WebDriver).

``.ci/run`` installs it when missing; on a developer machine without it the browser tests are
skipped, but under CI (``CI`` set) they fail instead, so a missing browser is never silent there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
VIRTUAL_TIME_BUDGET_MS = 5000


def chromium_path() -> str | None:
    for candidate in CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def require_chromium() -> str:
    """The chromium executable; skips the test when absent, unless under CI where that fails."""
    found = chromium_path()
    if found:
        return found
    reason = "chromium is not installed (Debian: apt-get install -y chromium; .ci/run installs it)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}, and CI is set: browser tests must run in CI")
    pytest.skip(reason)


def run_chromium(
    url: str, dump_dom: bool = True, screenshot: Path | None = None, timeout: float = 120
) -> tuple[str, str]:
    """Load ``url`` in headless Chromium; return (serialised DOM after the scripts ran, stderr).

    stderr carries the page's console messages and uncaught errors (``--enable-logging=stderr``).
    With ``screenshot``, a 1400×1000 PNG of the page is written there (a second, separate run,
    as Chromium does one thing per invocation).
    """
    exe = require_chromium()
    dom, errors = "", []
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        base = [
            exe,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-dev-shm-usage",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            f"--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}",
        ]
        runs: list[tuple[list[str], bool]] = []
        if dump_dom:
            runs.append(([*base, "--dump-dom", url], True))
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            runs.append(([*base, f"--screenshot={screenshot}", "--window-size=1400,1000", url], False))
        for args, is_dom in runs:
            proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
            if proc.returncode != 0:
                raise AssertionError(
                    f"chromium exited {proc.returncode}: {' '.join(args)}\n{proc.stderr[-4000:]}"
                )
            if is_dom:
                dom = proc.stdout
            errors.append(proc.stderr)
    return dom, "\n".join(errors)
